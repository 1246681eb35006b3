"""The Starlette application of ``c315 serve``: the API (``/api/...``, the CLI's own JSON), the
department page (``/u/<token>``) and the collector's board (``/``, after the one-time login link).
Every page is a view over the functions the command line calls; nothing is fetched from outside.

Authentication: ``Authorization: Bearer <token>`` (unit or collector, see :mod:`.tokens`); a
department page carries its token in its URL and its script sends it as a bearer token; the
collector's board uses a session cookie (``HttpOnly``, ``SameSite=Strict``) set by the one-time
login link, and every cookie-authenticated POST must carry the session's CSRF token. The link, the
session and its CSRF token work across the worker processes of ``c315 serve --workers N`` (see
:mod:`.sessions`); each worker builds its own application (:func:`app_from_environment`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import tempfile
import zipfile
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from campaign315.common import faults
from campaign315.common.errors import C315Error
from campaign315.common.words import ATTACHMENT_ZH, OUTCOME_ZH, REVIEW_ZH, STATUS_ZH
from campaign315.serve.sessions import SESSION_SECONDS, Sessions, use_login
from campaign315.serve.tokens import Holder, Tokens

HERE = Path(__file__).parent
UPLOAD_LIMIT_SLACK = 64 * 1024
REVIEW_LIMIT = 16 * 1024
"""Bytes of a review request (a note is capped at 500 characters)."""
"""Bytes of multipart framing allowed on top of the largest file ingest reads."""
SESSION_COOKIE = "c315_session"
LOG_FORMAT = "%(asctime)s [%(process)d] %(message)s"
"""One line per request; the process id tells the workers of ``--workers N`` apart."""
log = logging.getLogger("campaign315.serve")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


class Console:
    """What one server process knows: the workspace, the store it works on, the tokens and the
    collector's sessions (signed, so every worker of one server knows the same ones)."""

    def __init__(self, workspace, store: str | None = None):
        self.ws = workspace
        self.campaign = workspace.campaign
        self.store_location = store or workspace.store_dir
        self.tokens = Tokens(workspace.store_dir, self.campaign.id)
        self.sessions = Sessions(self.tokens.key_for("collector sessions"))

    def open_store(self):
        """The store the command line would use: ``--store`` / ``C315_STORE``, else the workspace's."""
        from campaign315.store import open_store

        return open_store(self.store_location)

    # --- who is asking ---

    def holder(self, request: Request) -> tuple[Holder | None, bool]:
        """The request's holder, and whether it came by cookie (then a POST needs the CSRF token)."""
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            return self.tokens.holder(header[7:].strip()), False
        if self.sessions.valid(request.cookies.get(SESSION_COOKIE)):
            return Holder("collector"), True
        return None, False

    def csrf_ok(self, request: Request, sent: str | None) -> bool:
        return self.sessions.csrf_ok(request.cookies.get(SESSION_COOKIE), sent)

    def login(self, once: str | None) -> str | None:
        """A new session's cookie for the one-time login secret, or None: used before, or never made."""
        return self.sessions.issue() if use_login(self.ws.store_dir, once) else None


def build_app(workspace, store: str | None = None) -> Starlette:
    """The application for one workspace and the store it works on (``store``: a ``--store``
    location; None for the workspace's own). ``c315 serve`` runs it under uvicorn; tests drive it
    with Starlette's test client. The one-time login link is made by whoever starts the server
    (:func:`~campaign315.serve.sessions.new_login`), not here: every worker builds one of these."""
    console = Console(workspace, store)
    pages = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    pages.globals.update(ATTACHMENT_ZH=ATTACHMENT_ZH, OUTCOME_ZH=OUTCOME_ZH, REVIEW_ZH=REVIEW_ZH, STATUS_ZH=STATUS_ZH)

    def page(name: str, **values) -> HTMLResponse:
        return HTMLResponse(pages.get_template(name).render(campaign=console.campaign, **values))

    def who(request: Request, collector: bool = False, posting: bool = False):
        """The holder, or the response that refuses the request."""
        faults.reached("request", request.url.path)  # where a test makes an API request fail inside its handler
        holder, by_cookie = console.holder(request)
        request.state.holder = holder
        if holder is None:
            return None, _error(401, "需要有效的令牌：请使用汇总人发给你的链接，或 Authorization: Bearer 令牌。", "unauthorized")
        if collector and not holder.is_collector:
            return None, _error(403, "这是汇总人的功能，部门链接不能使用。", "forbidden")
        if posting and by_cookie and not console.csrf_ok(request, request.headers.get("x-csrf-token")
                                                         or request.query_params.get("csrf")):
            return None, _error(403, "页面已过期（缺少或错误的校验码），请刷新页面后重试。", "csrf")
        return holder, None

    # --- the API ---

    async def post_return(request: Request) -> Response:
        holder, refused = who(request, posting=True)
        if refused:
            return refused
        uploaded = await _uploaded_file(request)
        if isinstance(uploaded, Response):
            return uploaded
        data, name = uploaded
        check = request.query_params.get("check") in ("1", "true", "yes")
        received = dt.datetime.now(console.campaign.tz)
        results = await run_in_threadpool(_ingest, console, data, name, received, check, holder)
        request.state.note = f"{'检查' if check else '报送'} {len(results)} 份"
        return JSONResponse([r.as_json() for r in results])

    async def get_status(request: Request) -> Response:
        _, refused = who(request, collector=True)
        return refused or JSONResponse(await run_in_threadpool(_status_json, console))

    async def get_history(request: Request) -> Response:
        _, refused = who(request, collector=True)
        return refused or JSONResponse(await run_in_threadpool(_history_json, console, None))

    async def get_summary(request: Request) -> Response:
        _, refused = who(request, collector=True)
        if refused:
            return refused
        try:
            value, _ = await run_in_threadpool(_summary, console, request.query_params.get("deadline"), False)
        except C315Error as exc:
            return _error(400, str(exc), "bad-request")
        return JSONResponse(value)

    async def get_summary_zip(request: Request) -> Response:
        _, refused = who(request, collector=True)
        if refused:
            return refused
        try:
            _, data = await run_in_threadpool(_summary, console, request.query_params.get("deadline"), True)
        except C315Error as exc:
            return _error(400, str(exc), "bad-request")
        return Response(data, media_type="application/zip",
                        headers={"Content-Disposition": "attachment; filename=\"summary.zip\"; filename*=UTF-8''%E6%B1%87%E6%80%BB.zip"})

    async def post_review(request: Request) -> Response:
        _, refused = who(request, collector=True, posting=True)
        if refused:
            return refused
        body = await request.body()
        if len(body) > REVIEW_LIMIT:
            return _error(413, "审核意见太长。", "too-large")
        try:
            asked = json.loads(body)
            if not isinstance(asked, dict):
                raise ValueError
        except ValueError:
            return _error(400, "请求内容应为 JSON：{\"unit\", \"attachment\", \"state\", \"note\"}。", "bad-request")
        try:
            done = await run_in_threadpool(_review, console, asked)
        except C315Error as exc:
            return _error(400, str(exc), "review-refused")
        request.state.note = f"审核 {done['unit']} {done['attachment']} {done['review']['state']}"
        return JSONResponse(done)

    async def get_feedback_zip(request: Request) -> Response:
        _, refused = who(request, collector=True)
        if refused:
            return refused
        data = await run_in_threadpool(_feedback_zip, console)
        return Response(data, media_type="application/zip",
                        headers={"Content-Disposition": "attachment; filename=\"feedback.zip\"; "
                                                        "filename*=UTF-8''%E4%BF%AE%E6%94%B9%E6%84%8F%E8%A7%81.zip"})

    # --- the pages ---

    async def unit_page(request: Request) -> Response:
        token = request.path_params["token"]
        holder = console.tokens.holder(token)
        request.state.holder = holder
        if holder is None or holder.is_collector:
            return HTMLResponse(pages.get_template("refused.html").render(campaign=console.campaign), status_code=401)
        unit = console.campaign.find_unit(holder.unit)
        received = await run_in_threadpool(_history_json, console, unit)
        due = [(a, ATTACHMENT_ZH[a], console.campaign.due_at(a)) for a in ("roster", "stats") if unit.owes(a)]
        return page("unit.html", unit=unit, token=token, received=received, due=due)

    async def unit_form(request: Request) -> Response:
        token = request.path_params["token"]
        holder = console.tokens.holder(token)
        request.state.holder = holder
        attachment, fmt = request.path_params["attachment"], request.path_params["fmt"]
        if holder is None or holder.is_collector:
            return _error(401, "链接无效或已吊销。", "unauthorized")
        if attachment not in ("roster", "stats") or fmt not in ("xlsx", "docx"):
            return _error(404, "没有这个表格。", "not-found")
        unit = console.campaign.find_unit(holder.unit)
        if not unit.owes(attachment):
            return _error(404, "本部门不需要填报这张表。", "not-found")
        data, filename = await run_in_threadpool(_blank_form, console, unit, attachment, fmt)
        quoted = re.sub(r"[^A-Za-z0-9._-]", lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), filename)
        return Response(data, media_type="application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename=\"form.{fmt}\"; filename*=UTF-8''{quoted}"})

    async def unit_check(request: Request) -> Response:
        """The department page's 检查: what ``c315 ingest --json`` says of the file (nothing stored),
        and a picture of each of its returns with the problem cells marked."""
        holder = console.tokens.holder(request.path_params["token"])
        request.state.holder = holder
        if holder is None or holder.is_collector:
            return _error(401, "链接无效或已吊销。", "unauthorized")
        uploaded = await _uploaded_file(request)
        if isinstance(uploaded, Response):
            return uploaded
        data, name = uploaded
        received = dt.datetime.now(console.campaign.tz)
        answer = await run_in_threadpool(_check_with_pictures, console, data, name, received, holder)
        request.state.note = f"检查 {len(answer['results'])} 份（附表格图）"
        return JSONResponse(answer)

    async def login(request: Request) -> Response:
        session = console.login(request.query_params.get("once"))
        if session is None:
            return HTMLResponse(pages.get_template("refused.html").render(campaign=console.campaign), status_code=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, session, max_age=SESSION_SECONDS, httponly=True, samesite="strict", path="/")
        return response

    async def board(request: Request) -> Response:
        holder, by_cookie = console.holder(request)
        request.state.holder = holder
        if holder is None or not by_cookie:
            return HTMLResponse(pages.get_template("refused.html").render(campaign=console.campaign), status_code=401)
        csrf = console.sessions.csrf(request.cookies[SESSION_COOKIE])
        rows = await run_in_threadpool(_status_json, console)
        grouped: dict[str, list[dict]] = {}
        for row in rows:  # one line per unit, in the campaign's order
            grouped.setdefault(row["unit"], []).append(row)
        return page("board.html", rows=list(grouped.items()), csrf=csrf, deadline=console.campaign.due_at("stats").date().isoformat())

    routes = [
        Route("/", board),
        Route("/login", login),
        Route("/u/{token}", unit_page),
        Route("/u/{token}/forms/{attachment}.{fmt}", unit_form),
        Route("/u/{token}/check", unit_check, methods=["POST"]),
        Route("/api/returns", post_return, methods=["POST"]),
        Route("/api/status", get_status),
        Route("/api/history", get_history),
        Route("/api/summary", get_summary),
        Route("/api/summary.zip", get_summary_zip),
        Route("/api/reviews", post_review, methods=["POST"]),
        Route("/api/feedback.zip", get_feedback_zip),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette answers from outside every middleware here, so Guard adds nothing: the headers are set here.
        log.exception("请求出错：%s %s", request.method, _logged_path(request.url.path))
        response = _error(500, "服务器内部出错，请把时间告诉汇总人（详情已写入服务器日志）。", "internal")
        response.headers.update(SECURITY_HEADERS)
        return response

    app = Starlette(routes=routes, middleware=[Middleware(Guard)], exception_handlers={Exception: server_error})
    app.state.console = console
    return app


def app_from_environment() -> Starlette:
    """The application each worker process of ``c315 serve --workers N`` builds (uvicorn's app
    factory): the workspace, campaign and store the starting process chose, which it passes down as
    ``C315_WORKSPACE``, ``C315_CAMPAIGN`` and ``C315_STORE``."""
    from campaign315.spec.workspace import Workspace

    log_requests()
    return build_app(Workspace(), os.environ.get("C315_STORE") or None)


def log_requests() -> None:
    """Send the one line per request to stderr (in the process that serves them); the libraries'
    own informational lines (the store's schema check on each request, say) stay out."""
    logging.basicConfig(format=LOG_FORMAT)
    log.setLevel(logging.INFO)


class Guard(BaseHTTPMiddleware):
    """Security headers on every response, and one log line per request naming the unit, never a token."""

    async def dispatch(self, request: Request, call_next):
        request.state.holder = None
        request.state.note = ""
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        holder = request.state.holder
        log.info("%s %s %s %s %s", request.method, _logged_path(request.url.path), response.status_code,
                 holder.logged_as if holder else "匿名", request.state.note)
        return response


def _logged_path(path: str) -> str:
    """A path as logged: a unit link's token replaced by …"""
    return re.sub(r"^/u/[^/]+", "/u/…", path)


async def _uploaded_file(request: Request) -> tuple[bytes, str] | Response:
    """The file of a multipart upload (field ``file``) and the name the browser gave it, read while
    streaming under the cap (ingest's largest file plus the multipart framing) — or the JSON
    response that refuses the request (413 too large, 400 malformed or without a file)."""
    from campaign315.intake.read.zipparts import MAX_FILE_BYTES

    limit = MAX_FILE_BYTES + UPLOAD_LIMIT_SLACK
    too_big = _error(413, f"文件过大（上限 {MAX_FILE_BYTES // 1024 // 1024} MB），不像是填好的报表。", "too-large")
    try:
        if int(request.headers.get("content-length") or 0) > limit:
            return too_big
    except ValueError:
        return _error(400, "请求头 Content-Length 无法识别。", "bad-request")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return too_big
    request._body = bytes(body)  # noqa: SLF001 — parsed below from what was read under the cap
    try:
        form = await request.form(max_files=1, max_fields=5)
    except Exception:  # noqa: BLE001 — any malformed multipart body is the sender's fault
        return _error(400, "上传的内容无法识别：请用 multipart/form-data，文件放在 file 字段。", "bad-request")
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return _error(400, "没有收到文件：请把文件放在 file 字段。", "no-file")
    data = await upload.read()
    name = upload.filename or ""
    await form.close()
    return bytes(data), name


# --- the library calls behind the endpoints (run in a worker thread) -------------------------------


def _ingest(console: Console, data: bytes, name: str, received: dt.datetime, check: bool, holder: Holder):
    from campaign315.intake.ingest import ingest_upload

    unit = None if holder.is_collector else holder.unit
    if check:
        return ingest_upload(data, name, console.campaign, None, received, unit)
    with console.open_store() as store:
        return ingest_upload(data, name, console.campaign, store, received, unit)


def _check_with_pictures(console: Console, data: bytes, name: str, received: dt.datetime, holder: Holder) -> dict:
    """A check (nothing stored) and the picture of each return it found — none of another unit's."""
    from campaign315.serve.picture import pictures

    results = _ingest(console, data, name, received, True, holder)
    return {"results": [r.as_json() for r in results],
            "pictures": pictures(data, results, None if holder.is_collector else holder.unit)}


def _status_json(console: Console) -> list[dict]:
    from campaign315.reports.standing import standings

    with console.open_store() as store:
        rows = standings(console.campaign, store.latest_returns(console.campaign.id, None))
    return [s.as_json() for s in rows]


def _history_json(console: Console, unit) -> list[dict]:
    from campaign315.reports.standing import history

    with console.open_store() as store:
        entries = history(console.campaign, store, unit)
        returns = {r.id: r for r in store.returns(console.campaign.id, unit.name if unit else None)}
    shown = []
    for entry in entries:
        value = entry.as_json()
        stored = returns.get(entry.stored.id)
        value["problems"] = [p.as_dict() for p in stored.problems] if stored else []
        shown.append(value)
    return shown


def _summary(console: Console, deadline: str | None, as_zip: bool):
    from campaign315.reports.summary import parse_deadline, summarise, summary_json

    cutoff = parse_deadline(deadline, console.campaign)
    with console.open_store() as store:
        result = summarise(console.campaign, store, cutoff)
    if not as_zip:
        return summary_json(result), None
    from campaign315.reports.summary_files import write_summary_files

    with tempfile.TemporaryDirectory(prefix="c315-summary-") as folder:
        written = write_summary_files(result, Path(folder), console.ws.templates_dir)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in written:
                bundle.write(path, path.relative_to(folder).as_posix())
            bundle.writestr("summary.json", json.dumps(summary_json(result), ensure_ascii=False, indent=2))
    return None, buffer.getvalue()


def _review(console: Console, asked: dict) -> dict:
    """``POST /api/reviews``: what ``c315 review`` does, from the board (the reviewer as the board
    names them, else 汇总人（网页）)."""
    from campaign315.common.errors import UsageError
    from campaign315.review import attachment_named, review_return

    def text(key: str) -> str:
        value = asked.get(key) or ""
        if not isinstance(value, str):
            raise UsageError(f"{key} 应为文字。")
        return value

    unit = console.campaign.find_unit(text("unit"))
    if unit is None:
        raise UsageError("没有这个部门。")
    return_id = asked.get("return_id")
    if return_id is not None and (not isinstance(return_id, int) or isinstance(return_id, bool)):
        raise UsageError("return_id 应为报表编号（整数）。")
    with console.open_store() as store:
        done = review_return(console.campaign, store, unit, attachment_named(text("attachment")), text("state"),
                             text("note"), text("by") or "汇总人（网页）", return_id)
    return done.as_json()


def _feedback_zip(console: Console) -> bytes:
    """The feedback ``c315 feedback`` writes (letters, marked copies, reminders, the 催报 list), as one zip."""
    from campaign315.reports.feedback import write_feedback

    with tempfile.TemporaryDirectory(prefix="c315-feedback-") as folder:
        with console.open_store() as store:
            result = write_feedback(console.campaign, store, Path(folder), console.ws.templates_dir)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in result.written:
                bundle.write(path, path.relative_to(folder).as_posix())
            if not result.written:
                bundle.writestr("说明.txt", result.describe().encode("utf-8-sig"))
    return buffer.getvalue()


def _blank_form(console: Console, unit, attachment: str, fmt: str) -> tuple[bytes, str]:
    from campaign315.generate.forms import generate_forms, plan_forms

    with tempfile.TemporaryDirectory(prefix="c315-form-") as folder:
        planned = [f for f in plan_forms(console.campaign, [unit], (fmt,), Path(folder)) if f.attachment == attachment]
        generate_forms(console.campaign, planned, console.ws.templates_dir)
        return planned[0].path.read_bytes(), planned[0].path.name
