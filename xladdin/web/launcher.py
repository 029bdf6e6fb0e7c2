"""Starting the 报送平台: the addresses staff type, the server itself, and 启动报送平台.cmd for the HQ PC."""

from __future__ import annotations

import socket
from pathlib import Path

DEFAULT_PORT = 8765
LAUNCHER_NAME = "启动报送平台.cmd"


def serve_launcher(master_name: str, port: int = DEFAULT_PORT) -> str:
    """The text of 启动报送平台.cmd beside the master (CRLF lines; write it encoded as GBK, like 一键汇总.cmd): it
    serves the master to the intranet until its window is closed."""
    return (
        "@echo off\r\n"
        "rem 双击启动报送平台：各工作组在内网浏览器中上传台账，指挥部查看报送情况并一键汇总。关闭此窗口即停止。\r\n"
        'cd /d "%~dp0"\r\n'
        "where xladdin >nul 2>nul\r\n"
        f'if %errorlevel%==0 (xladdin serve "{master_name}" --host 0.0.0.0 --port {port} %*) '
        f'else (py -3 -m xladdin.cli serve "{master_name}" --host 0.0.0.0 --port {port} %*)\r\n'
        "pause\r\n")


def addresses(host: str, port: int) -> list[str]:
    """The addresses staff type in a browser: this PC's intranet addresses when serving every interface."""
    if host not in ("0.0.0.0", "::", ""):
        shown = f"[{host}]" if ":" in host else host
        return [f"http://{shown}:{port}/"]
    found = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = info[4][0]
            if not address.startswith("127.") and address not in found:
                found.append(address)
    except OSError:
        pass
    return [f"http://{a}:{port}/" for a in found] + [f"http://{socket.gethostname()}:{port}/",
                                                      f"http://127.0.0.1:{port}/"]


def serve(master: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Serve the master until interrupted (uvicorn, one process: sessions are kept in its memory)."""
    import uvicorn

    from xladdin.web.app import create_app

    try:
        uvicorn.run(create_app(Path(master)), host=host, port=port, log_level="warning", access_log=False,
                    limit_concurrency=200, timeout_keep_alive=10, lifespan="off")
    except KeyboardInterrupt:  # Ctrl+C: the server has shut down; staff see no traceback
        pass
