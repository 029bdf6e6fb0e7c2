"""The 报送平台's pages and API over the engine's named operations (Engine.accept_upload, roster, board, run…).

Pages (server-rendered, usable without JavaScript): / sign-in, /group a work group's page, /hq HQ's page.
API: POST/GET /api/submissions (Bearer 报送码), GET /api/submissions/{id}, POST /api/run (Bearer 管理码).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from xladdin.base import clock as base_clock
from xladdin.base.errors import MasterUnusable, SettingsError
from xladdin.base.fs import os_message, store_failed
from xladdin.base.issues import ERROR
from xladdin.base.lazy import pandas as pd
from xladdin.console import COMMAND_WORDS
from xladdin.domain.roster import LATE, MISSING, RETURNED, roster_sentence
from xladdin.engine.model import summary_sentence
from xladdin.engine.operations import Engine
from xladdin.engine.platform import ADMIN, RECEIVED, REPEATED, name_refusal, normalize_code
from xladdin.engine.platform import RETURNED as RETURNED_VERDICT
from xladdin.web.security import COOKIE, SESSION_SECONDS, Session, Sessions, Throttle, same_token

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SLACK = 64 * 1024  # what a multipart body carries besides the file: boundaries, headers, the CSRF field
HQ_WORD = "指挥部"


class TooLarge(Exception):
    pass


class Platform:
    """One master served: its engine, the sessions, the sign-in throttle, one upload and one run at a time."""

    def __init__(self, master: Path, clock: Callable[[], dt.datetime] | None = None):
        self.master = Path(master)
        self.engine = Engine.on_file(self.master)
        zone = self.engine.settings().zone
        # The one clock of the server, in 设置's time zone (base/clock.py); tests pass their own.
        self.clock = clock or (lambda: base_clock.now(zone))
        self.sessions = Sessions()
        self.throttle = Throttle()
        self.upload_lock = threading.Lock()
        self.run_lock = threading.Lock()
        self.last_run: dict | None = None  # the message of the last 一键汇总 this server ran
        self._key = secrets.token_bytes(32)
        self._verified: dict[bytes, tuple[str, str]] = {}  # keyed code -> (holder, hash): scrypt once per code
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape())
        self.templates.filters["percent"] = _percent
        self.templates.filters["number"] = _number
        self.templates.globals["command_words"] = COMMAND_WORDS

    # -- plumbing ----------------------------------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        """The request's session, if any and still valid (its code not replaced since it signed in)."""
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is not None and session.signed_in:
            try:
                current = self.engine.code_hashes().get(session.holder)
            except (MasterUnusable, SettingsError, OSError, sqlite3.Error):
                current = session.code_hash  # the master unreadable for a moment: the page says so, not the session
            if current != session.code_hash:
                self.sessions.end(session.sid)
                return None
        return session

    def page(self, request: Request, name: str, session: Session | None, status: int = 200, **values) -> Response:
        if session is None:
            session = self.sessions.new()
        html = self.templates.get_template(name).render(session=session, hq_word=HQ_WORD, **values)
        response = HTMLResponse(html, status_code=status)
        self.set_cookie(response, session)
        response.headers["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def set_cookie(response: Response, session: Session) -> None:
        response.set_cookie(COOKIE, session.sid, max_age=SESSION_SECONDS, httponly=True, samesite="strict", path="/")

    @staticmethod
    def foreign_origin(request: Request) -> bool:
        """A request sent from a page of another site: its Origin (or Referer) is not this server."""
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        origin = request.headers.get("origin")
        if origin is not None:
            return origin.rstrip("/") != own
        referer = request.headers.get("referer")
        if referer is not None:
            return not (referer == own or referer.startswith(own + "/"))
        return False

    def refuse_form(self, request: Request, session: Session | None, form) -> Response | None:
        """A form post from another site or without this session's CSRF token: refused (403), nothing done."""
        if self.foreign_origin(request):
            return self.message(request, session, "请求来自其他网站，已拒绝。请直接在报送平台的页面上操作。", 403)
        if session is None or not same_token(form.get("csrf") if form is not None else None, session.csrf):
            return self.message(request, session, "页面已过期或缺少安全校验码，操作未执行。请刷新页面后重试。", 403)
        return None

    def message(self, request: Request, session: Session | None, text: str, status: int) -> Response:
        return self.page(request, "message.html", session, status=status, text=text)

    def holder_of(self, code: str) -> tuple[str, str] | None:
        """(holder, code hash) of a code in force: scrypt the first time, then remembered (keyed by this
        process's secret, never the code itself) for as long as the holder's code is unchanged."""
        key = hmac.new(self._key, normalize_code(code).encode(), hashlib.sha256).digest()
        known = self._verified.get(key)
        if known is not None and self.engine.code_hashes().get(known[0]) == known[1]:
            return known
        found = self.engine.code_holder(code)
        if found is not None:
            if len(self._verified) > 10000:
                self._verified.clear()
            self._verified[key] = found
        return found

    def address(self, request: Request) -> str:
        return request.client.host if request.client else ""

    def today(self) -> dt.date:
        return self.clock().date()

    # -- signing in --------------------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        session = self.session(request)
        if session is not None and session.signed_in:
            return RedirectResponse("/hq" if session.holder == ADMIN else "/group", 303)
        try:
            groups = await run_in_threadpool(self.engine.groups)
        except (MasterUnusable, SettingsError, OSError) as exc:
            return self.message(request, session, f"母表无法读取：{exc}", 503)
        return self.page(request, "login.html", session, groups=groups)

    async def login(self, request: Request) -> Response:
        session = self.sessions.get(request.cookies.get(COOKIE))
        form = await request.form(max_files=0, max_fields=10)
        refused = self.refuse_form(request, session, form)
        if refused is not None:
            return refused
        holder = str(form.get("holder", ""))
        holder = ADMIN if holder == HQ_WORD else holder
        keys = (f"addr:{self.address(request)}", f"holder:{holder}")
        groups = await run_in_threadpool(self.engine.groups)
        wait = self.throttle.wait_minutes(*keys)
        if wait:
            return self.page(request, "login.html", session, status=429, groups=groups, chosen=holder,
                             error=f"尝试次数过多，请 {wait} 分钟后再试。如忘记报送码，请联系指挥部重新发放。")
        found = await run_in_threadpool(self.holder_of, str(form.get("code", "")))
        if found is None or found[0] != holder or (holder != ADMIN and holder not in groups):
            self.throttle.failed(*keys)
            word = "管理码" if holder == ADMIN else "报送码"
            return self.page(request, "login.html", session, status=401, groups=groups, chosen=holder,
                             error=f"{word}不正确。请核对后重新输入（不区分大小写）。")
        self.throttle.succeeded(keys[1])
        if session is not None:
            self.sessions.end(session.sid)
        fresh = self.sessions.new(holder, found[1])
        response = RedirectResponse("/hq" if holder == ADMIN else "/group", 303)
        self.set_cookie(response, fresh)
        return response

    async def logout(self, request: Request) -> Response:
        session = self.session(request)
        form = await request.form(max_files=0, max_fields=10)
        refused = self.refuse_form(request, session, form)
        if refused is not None:
            return refused
        self.sessions.end(session.sid)
        response = RedirectResponse("/", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def signed_in(self, request: Request, hq: bool) -> Session | Response:
        session = self.session(request)
        if session is None or not session.signed_in:
            return RedirectResponse("/", 303)
        if (session.holder == ADMIN) != hq:
            return self.message(request, session, "此页面不属于当前登录的身份。", 403)
        return session

    # -- a work group ------------------------------------------------------------------------------------------

    async def group_page(self, request: Request) -> Response:
        session = self.signed_in(request, hq=False)
        if isinstance(session, Response):
            return session
        flash, session.flash = session.flash, None
        return await self.render_group(request, session, flash)

    async def render_group(self, request: Request, session: Session, shown: dict | None, status: int = 200,
                           error: str = "") -> Response:
        settings = await run_in_threadpool(self.engine.settings)
        since = settings.period_start_for(self.today())
        uploads = await run_in_threadpool(self.engine.uploads, session.holder, since)
        if shown and shown.get("issues"):  # as the 校验报告 lists them: errors first, then down the sheet
            shown = shown | {"issues": sorted(shown["issues"], key=_issue_order)}
        return self.page(request, "group.html", session, status=status, shown=shown, uploads=uploads, error=error,
                         since=since, limit_mb=settings.upload_mb, cutoff=settings.report_cutoff)

    async def group_upload(self, request: Request) -> Response:
        session = self.signed_in(request, hq=False)
        if isinstance(session, Response):
            if isinstance(session, RedirectResponse) and self.foreign_origin(request):
                return self.message(request, None, "请求来自其他网站，已拒绝。", 403)
            return session
        if self.foreign_origin(request):
            return self.message(request, session, "请求来自其他网站，已拒绝。请直接在报送平台的页面上操作。", 403)
        answer = await self.receive(request, session.holder, csrf=session.csrf)
        status, body = answer
        if "error" in body:
            return await self.render_group(request, session, None, status=status, error=body["error"])
        if body.get("stored"):  # after a POST, a page that a reload does not post again
            session.flash = body
            return RedirectResponse(f"/group/submissions/{body['upload_id']}", 303)
        return await self.render_group(request, session, body, status=status)

    async def group_submission(self, request: Request) -> Response:
        session = self.signed_in(request, hq=False)
        if isinstance(session, Response):
            return session
        upload = await self.own_upload(request, session.holder)
        if upload is None:
            return self.message(request, session, "没有这份报送，或它不属于本组。", 404)
        flash, session.flash = session.flash, None
        shown = upload["outcome"] | {"verdict": RECEIVED if upload["status"] == "已接收" else RETURNED_VERDICT,
                                     "stored": True, "upload_id": upload["upload_id"], "message": "",
                                     "client_name": upload["client_name"], "uploaded_at": upload["uploaded_at"],
                                     "fresh": flash is not None and flash.get("upload_id") == upload["upload_id"]}
        return await self.render_group(request, session, shown)

    async def group_returned(self, request: Request) -> Response:
        session = self.signed_in(request, hq=False)
        if isinstance(session, Response):
            return session
        upload = await self.own_upload(request, session.holder)
        relative = (upload or {}).get("outcome", {}).get("returned") or ""
        path = self.master.parent / relative if relative else None
        if upload is None or path is None or not path.is_file():
            return self.message(request, session, "没有这份退回副本，或它不属于本组。", 404)
        return _download(path)

    async def own_upload(self, request: Request, group: str) -> dict | None:
        try:
            upload_id = int(request.path_params["upload_id"])
        except (KeyError, ValueError):
            return None
        upload = await run_in_threadpool(self.engine.upload, upload_id)
        return upload if upload is not None and upload["group_name"] == group else None

    # -- receiving a file (the page and the API) ---------------------------------------------------------------

    async def receive(self, request: Request, group: str, csrf: str | None) -> tuple[int, dict]:
        """Read the multipart body within the size limit, check the name, let the engine check and keep the file.
        (status, answer): the answer is the engine's outcome with verdict and stored, or {"error": …}."""
        settings = await run_in_threadpool(self.engine.settings)
        limit = settings.upload_mb * 2**20
        too_large = {"error": f"文件超过 {settings.upload_mb} MB 的上传上限，未保存。请只保留“进度台账”工作表、"
                              "删除图片等无关内容后重新上传。"}
        try:
            declared = int(request.headers.get("content-length", "0"))
        except ValueError:
            declared = 0
        if declared > limit + SLACK:
            return 413, too_large
        if "multipart/form-data" not in request.headers.get("content-type", ""):
            return 400, {"error": "请求格式不对：请以表单（multipart/form-data）上传，文件字段名为 file。"}

        async def capped():
            total = 0
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit + SLACK:
                    raise TooLarge
                yield chunk

        try:
            form = await MultiPartParser(request.headers, capped(), max_files=1, max_fields=10).parse()
        except TooLarge:
            return 413, too_large
        except MultiPartException as exc:
            return 400, {"error": f"上传的表单无法读取（{exc.message}）。请重新选择文件上传。"}
        try:
            if csrf is not None and not same_token(form.get("csrf"), csrf):
                return 403, {"error": "页面已过期或缺少安全校验码，文件未保存。请刷新页面后重新上传。"}
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                return 400, {"error": "请选择要上传的台账文件（表单字段 file）。"}
            refusal = name_refusal(upload.filename)
            if refusal is not None:
                return (400 if "文件名" in refusal else 415), {"error": refusal}
            if upload.size is not None and upload.size > limit:
                return 413, too_large
            if upload.size == 0:
                return 400, {"error": "上传的文件是空的（0 字节），未保存。请重新选择台账文件。"}
            return await run_in_threadpool(self.accept, upload, group, self.address(request))
        finally:
            await form.close()

    def accept(self, upload: UploadFile, group: str, address: str) -> tuple[int, dict]:
        """In a worker thread, one upload at a time: the file staged, then the engine's accept_upload."""
        with tempfile.TemporaryDirectory(prefix="xladdin-staged-") as folder:
            staged = Path(folder) / "upload.bin"
            upload.file.seek(0)
            with open(staged, "wb") as handle:
                shutil.copyfileobj(upload.file, handle, 1 << 20)
            with self.upload_lock:
                try:
                    result = self.engine.accept_upload(staged, client_name=upload.filename, group=group,
                                                       address=address, at=self.clock())
                except (MasterUnusable, SettingsError) as exc:
                    return 503, {"error": f"{exc} 文件未保存，请稍后重新上传。"}
                except sqlite3.OperationalError:
                    return 503, {"error": "指挥部正在汇总，历史库暂时被占用，文件未保存。请一两分钟后重新上传。"}
                except OSError as exc:
                    return 503, {"error": os_message(exc).replace("本次运行已停止，母表未改动。", "文件未保存。")}
        body = result.to_dict() | {"client_name": upload.filename}
        return (200 if result.stored or result.verdict == REPEATED else 422), body

    # -- HQ ----------------------------------------------------------------------------------------------------

    async def hq_page(self, request: Request) -> Response:
        session = self.signed_in(request, hq=True)
        if isinstance(session, Response):
            return session
        flash, session.flash = session.flash, None
        return await self.render_hq(request, session, flash)

    async def render_hq(self, request: Request, session: Session, flash: dict | None, status: int = 200) -> Response:
        roster = await self.roster_values()
        board = await run_in_threadpool(self.engine.board)
        inbox = await run_in_threadpool(self.engine.inbox_files)
        return self.page(request, "hq.html", session, status=status, flash=flash, board=board, inbox=inbox, **roster)

    async def roster_values(self) -> dict:
        today = self.today()
        settings = await run_in_threadpool(self.engine.settings)
        roster = await run_in_threadpool(self.engine.roster, today)
        rows = []
        for group, status, received, timeliness, files in roster.itertuples(index=False):
            rows.append({"group": group, "status": status, "late": timeliness == LATE, "files": files,
                         "received": "" if received is None or pd.isna(received) else f"{received:%H:%M}"})
        return {"roster": rows, "sentence": roster_sentence(roster, settings.report_cutoff, settings.words.unit), "today": today,
                "cutoff": settings.report_cutoff, "now": self.clock(), "MISSING": MISSING, "RETURNED": RETURNED}

    async def hq_roster(self, request: Request) -> Response:
        """The roster alone, for the page's script to refresh in place."""
        session = self.signed_in(request, hq=True)
        if isinstance(session, Response):
            return Response(status_code=401)
        return self.page(request, "roster.html", session, **(await self.roster_values()))

    async def hq_run(self, request: Request) -> Response:
        session = self.signed_in(request, hq=True)
        if isinstance(session, Response):
            return session
        form = await request.form(max_files=0, max_fields=10)
        refused = self.refuse_form(request, session, form)
        if refused is not None:
            return refused
        status, body = await run_in_threadpool(self.run)
        session.flash = {"ok": status == 200, "text": body.get("message") or body.get("error", "")}
        return RedirectResponse("/hq", 303)

    def run(self) -> tuple[int, dict]:
        """The one-click job on the master (one at a time from this server; the master's lock keeps out others)."""
        if not self.run_lock.acquire(blocking=False):
            return 409, {"error": "另一次一键汇总正在进行，请等它结束后再点。"}
        try:
            result = self.engine.run(as_of=self.today())
        except MasterUnusable as exc:
            return 409, {"error": f"一键汇总未执行：{exc} 母表和历史库均未改动。"}
        except SettingsError as exc:
            return 422, {"error": f"一键汇总未执行：{exc}"}
        except sqlite3.OperationalError as exc:
            return 409, {"error": f"一键汇总未执行：{store_failed(exc)}"}
        except OSError as exc:
            return 409, {"error": f"一键汇总未执行：{os_message(exc)}"}
        finally:
            self.run_lock.release()
        message = f"一键汇总完成（统计截至 {result.as_of:%Y-%m-%d}）：{summary_sentence(result)}"
        self.last_run = {"message": message, "at": self.clock()}
        return 200, result.to_dict() | {"message": message}

    async def hq_notice(self, request: Request) -> Response:
        session = self.signed_in(request, hq=True)
        if isinstance(session, Response):
            return session
        board = await run_in_threadpool(self.engine.board)
        name = request.path_params["name"]
        for item in board["issued"]:
            if Path(item.file).name == name:
                path = (self.master.parent / item.file).resolve()
                if path.is_file() and path.is_relative_to(self.master.parent.resolve()):
                    return _download(path)
        return self.message(request, session, "通报存档中没有这份文件。", 404)

    # -- the API -----------------------------------------------------------------------------------------------

    async def bearer(self, request: Request) -> tuple[str | None, JSONResponse | None]:
        """The holder of the request's Bearer code, or a JSON refusal (401, or 429 after too many tries)."""
        header = request.headers.get("authorization", "")
        scheme, _, code = header.partition(" ")
        address_key = f"addr:{self.address(request)}"
        wait = self.throttle.wait_minutes(address_key)
        if wait:
            return None, JSONResponse({"error": f"尝试次数过多，请 {wait} 分钟后再试。"}, 429)
        if scheme.lower() != "bearer" or not code.strip():
            return None, JSONResponse({"error": "缺少报送码：请在请求头写 Authorization: Bearer <报送码>。"}, 401,
                                      headers={"WWW-Authenticate": "Bearer"})
        found = await run_in_threadpool(self.holder_of, code.strip())
        if found is None or (found[0] != ADMIN and found[0] not in await run_in_threadpool(self.engine.groups)):
            self.throttle.failed(address_key)
            return None, JSONResponse({"error": "报送码或管理码不正确。"}, 401, headers={"WWW-Authenticate": "Bearer"})
        return found[0], None

    async def api_submit(self, request: Request) -> Response:
        if self.foreign_origin(request):
            return JSONResponse({"error": "请求来自其他网站，已拒绝。"}, 403)
        holder, refusal = await self.bearer(request)
        if refusal is not None:
            return refusal
        if holder == ADMIN:
            return JSONResponse({"error": "管理码不能用于报送台账，请使用本工作组的报送码。"}, 403)
        status, body = await self.receive(request, holder, csrf=None)
        return JSONResponse(body, status)

    async def api_list(self, request: Request) -> Response:
        holder, refusal = await self.bearer(request)
        if refusal is not None:
            return refusal
        if holder == ADMIN:
            return JSONResponse({"error": "请使用工作组的报送码查询本组的报送。"}, 403)
        uploads = await run_in_threadpool(self.engine.uploads, holder)
        return JSONResponse({"group": holder, "submissions": [_listed(u) for u in uploads]})

    async def api_one(self, request: Request) -> Response:
        holder, refusal = await self.bearer(request)
        if refusal is not None:
            return refusal
        upload = await self.own_upload(request, holder)
        if upload is None:
            return JSONResponse({"error": "没有这份报送，或它不属于本组。"}, 404)
        return JSONResponse(_listed(upload) | {"issues": upload["outcome"]["issues"]})

    async def api_run(self, request: Request) -> Response:
        if self.foreign_origin(request):
            return JSONResponse({"error": "请求来自其他网站，已拒绝。"}, 403)
        holder, refusal = await self.bearer(request)
        if refusal is not None:
            return refusal
        if holder != ADMIN:
            return JSONResponse({"error": "一键汇总需要指挥部的管理码。"}, 403)
        status, body = await run_in_threadpool(self.run)
        return JSONResponse(body, status)


def _listed(upload: dict) -> dict:
    outcome = upload["outcome"]
    return {"upload_id": upload["upload_id"], "file": upload["file_name"], "client_name": upload["client_name"],
            "uploaded_at": upload["uploaded_at"], "sha256": upload["sha256"], "size": upload["size"],
            "status": outcome["status"], "verdict": RECEIVED if upload["status"] == "已接收" else RETURNED_VERDICT,
            "standing": upload.get("standing", ""), "report_date": upload["report_date"],
            "errors": outcome["errors"], "warnings": outcome["warnings"]}


def _issue_order(issue: dict) -> tuple:
    cell = issue.get("cell") or ""
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (issue.get("severity") != ERROR, int(digits) if digits else 0, len(cell), cell)


def _download(path: Path) -> Response:
    response = FileResponse(path, media_type="application/octet-stream")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(path.name)}"
    return response


def _percent(value) -> str:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return "—"
    try:
        return f"{float(value) * 100:.2f}%"
    except (TypeError, ValueError):
        return str(value)


def _number(value) -> str:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return "—"
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def create_app(master: Path, clock: Callable[[], dt.datetime] | None = None) -> Starlette:
    """The 报送平台 for one master (`clock` gives the server's now; tests pass a fixed one)."""
    platform = Platform(master, clock)
    routes = [
        Route("/", platform.home),
        Route("/login", platform.login, methods=["POST"]),
        Route("/logout", platform.logout, methods=["POST"]),
        Route("/group", platform.group_page),
        Route("/group/upload", platform.group_upload, methods=["POST"]),
        Route("/group/submissions/{upload_id}", platform.group_submission),
        Route("/group/submissions/{upload_id}/returned", platform.group_returned),
        Route("/hq", platform.hq_page),
        Route("/hq/roster", platform.hq_roster),
        Route("/hq/run", platform.hq_run, methods=["POST"]),
        Route("/hq/notices/{name}", platform.hq_notice),
        Route("/api/submissions", platform.api_submit, methods=["POST"]),
        Route("/api/submissions", platform.api_list, methods=["GET"]),
        Route("/api/submissions/{upload_id}", platform.api_one, methods=["GET"]),
        Route("/api/run", platform.api_run, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.platform = platform
    return app

