"""The 报送平台 (`xladdin serve MASTER`): the door through which work groups upload ledgers on the intranet and
HQ sees who has reported, a thin web adapter over the engine's named operations (xladdin.engine.operations).

app.py the pages and the API (Starlette), security.py sessions, CSRF, Origin and sign-in limits, launcher.py the
启动报送平台.cmd text and the server's start; templates/ and static/ are served from here (nothing from a CDN).
"""

from xladdin.web.launcher import DEFAULT_PORT, LAUNCHER_NAME, addresses, serve, serve_launcher

__all__ = ["DEFAULT_PORT", "LAUNCHER_NAME", "addresses", "serve", "serve_launcher"]
