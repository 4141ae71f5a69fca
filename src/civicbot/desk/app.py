"""The desk's web application (Starlette): pages, forms and their rights.

Built by :func:`make_app` for a running :class:`~civicbot.daemon.Daemon`; served by
:class:`civicbot.desk.server.DeskServer` next to ``/healthz`` and ``/metrics``. Every page is
server-rendered HTML that works without JavaScript; ``desk.js`` only adds the live character
counter of the write form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from civicbot.approvals import (
    APPROVED,
    DESK_JOB_PREFIX,
    EXPIRED,
    PUBLISHED,
    REJECTED,
    SYSTEM,
    WAITING,
    ApprovalError,
    check_edit,
    decide,
    draft_from_json,
    draft_to_json,
)
from civicbot.desk import calendar, posts
from civicbot.desk.config import DeskConfig, DeskUser, Role
from civicbot.desk.security import CSRF_FIELD, FormCSRFMiddleware, LoginGuard
from civicbot.desk.texts import translator
from civicbot.drafts import Media
from civicbot.errors import PostRefused
from civicbot.preview import preview_posts
from civicbot.text import mastodon_length

if TYPE_CHECKING:
    from civicbot.bot import Bot
    from civicbot.daemon import Daemon

HERE = Path(__file__).parent
SESSION_COOKIE = "civicbot_desk"
SESSION_AGE = 12 * 3600


class Desk:
    """The state behind the pages: the daemon, the config, the login guard."""

    def __init__(self, daemon: Daemon, config: DeskConfig) -> None:
        self.daemon = daemon
        self.config = config
        self.guard = LoginGuard(config)
        self.previews = calendar.PreviewCache()
        self.language = config.language or daemon.config.core.language
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals["csrf_field"] = CSRF_FIELD
        self.templates.env.filters["first_line"] = _first_line

    @property
    def bots(self) -> list[Bot]:
        return [b for b in self.daemon.bots if b.name not in self.daemon.failed]

    def bot(self, name: str | None) -> Bot:
        for bot in self.daemon.bots:
            if name in (None, "", bot.name):
                return bot
        raise HTTPException(404)

    @property
    def store(self) -> Any:
        return self.daemon.store

    # -- pages ------------------------------------------------------------------------------
    def render(self, request: Request, name: str, status_code: int = 200, **context: Any
               ) -> Response:
        language = request.session.get("lang") or self.language
        user = current_user(request)
        paused, pause_info = self.pause_state()
        context.update(
            request=request, user=user, _=translator(language), lang=language,
            csrf_token=request.scope.get("state", {}).get("csrf_token", ""),
            paused=paused, pause_info=pause_info, path=request.url.path,
            flash=request.session.pop("flash", None), accounts=[b.name for b in self.bots],
            can=(lambda role: user is not None and user.can(role)),
            waiting_count=len(self.store.list_approvals(states=(WAITING,))) if user else 0,
        )
        response: Response = self.templates.TemplateResponse(request, name, context,
                                                              status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'")
        return response

    def pause_state(self) -> tuple[bool, dict[str, Any]]:
        paused = any(b.paused for b in self.daemon.bots)
        info = self.store.kv_get(self.daemon.bots[0].name, "core", "pause_info") or {}
        return paused, info if paused else {}

    def set_paused(self, paused: bool, by: str) -> None:
        for bot in self.daemon.bots:
            bot.set_paused(paused, by=by)
        self.store.add_audit(by, "pause" if paused else "resume", "all accounts")


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")


def current_user(request: Request) -> DeskUser | None:
    desk: Desk = request.app.state.desk
    name = request.session.get("user")
    return desk.config.user(name) if isinstance(name, str) else None


def _need(request: Request, role: Role = "editor") -> DeskUser:
    user = current_user(request)
    if user is None:
        raise HTTPException(303, headers={"Location": f"/login?next={quote(request.url.path)}"})
    if not user.can(role):
        raise HTTPException(403)
    return user


def _back(request: Request, to: str, flash: str | None = None) -> RedirectResponse:
    if flash:
        request.session["flash"] = flash
    return RedirectResponse(to, status_code=303)


async def _form(request: Request) -> FormData:
    return await request.form(max_files=posts.MAX_IMAGES, max_fields=200)


# -- login -------------------------------------------------------------------------------------
def login_page(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    return desk.render(request, "login.html", next=request.query_params.get("next", "/"))


async def login(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    form = await _form(request)
    name, password = str(form.get("username") or ""), str(form.get("password") or "")
    target = str(form.get("next") or "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    from starlette.concurrency import run_in_threadpool

    user, locked = await run_in_threadpool(desk.guard.check, name, password)
    if user is None:
        error = ("Too many failed attempts: this user is locked for a minute." if locked
                 else "Wrong user name or password.")
        if name:
            desk.store.add_audit(name, "login refused", "locked" if locked else "wrong password")
        return desk.render(request, "login.html", status_code=429 if locked else 401,
                           error=error, next=target, username=name)
    request.session.clear()
    request.session["user"] = user.name
    desk.store.add_audit(user.name, "login", "")
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def set_language(request: Request) -> Response:
    language = request.query_params.get("to")
    if language in {"fr", "en"}:
        request.session["lang"] = language
    target = request.query_params.get("next", "/")
    return RedirectResponse(target if target.startswith("/") and not target.startswith("//")
                            else "/", status_code=303)


# -- calendar ------------------------------------------------------------------------------------
def calendar_page(request: Request) -> Response:
    _need(request)
    desk: Desk = request.app.state.desk
    account = request.query_params.get("account") or None
    view = "week" if request.query_params.get("view") == "week" else "list"
    days = 7 if view == "week" else desk.config.days
    found = calendar.entries(desk.bots, days, account=account, cache=desk.previews)
    start = desk.bots[0].now() if desk.bots else datetime.now().astimezone()
    day_list = [(start + timedelta(days=i)).date() for i in range(days)]
    by_day: dict[Any, list[calendar.Entry]] = {d: [] for d in day_list}
    for entry in found:
        by_day.setdefault(entry.when.date(), []).append(entry)
    return desk.render(request, "calendar.html", view=view, account=account or "",
                       by_day=by_day, days=day_list, count=len(found))


# -- approvals ---------------------------------------------------------------------------------
def approvals_page(request: Request) -> Response:
    _need(request)
    desk: Desk = request.app.state.desk
    waiting = []
    for record in desk.store.list_approvals(states=(WAITING,)):
        bot = desk.bot(record.account)
        try:
            parts = preview_posts(bot, [draft_from_json(d) for d in record.drafts])
            error = None
        except Exception as exc:
            parts, error = [], str(exc)
        waiting.append((record, record.run_time.astimezone(bot.timezone), parts, error))
    decided = [r for r in desk.store.list_approvals(states=(APPROVED, REJECTED, EXPIRED,
                                                            PUBLISHED))][-30:][::-1]
    return desk.render(request, "approvals.html", waiting=waiting, decided=decided)


async def approval_action(request: Request) -> Response:
    desk: Desk = request.app.state.desk
    action = request.path_params["action"]
    user = _need(request, "approver")
    form = await _form(request)
    record = desk.store.get_approval(int(request.path_params["id"]))
    if record is None:
        raise HTTPException(404)
    _t = translator(request.session.get("lang") or desk.language)
    try:
        if action == "edit":
            _edit_drafts(desk, record, form, user)
            return _back(request, "/approvals", _t("Saved."))
        if action == "approve":
            decide(desk.store, record.id, approve=True, by=user.name)
            return _back(request, "/approvals", _t("Approved."))
        if action == "reject":
            decide(desk.store, record.id, approve=False, by=user.name,
                   reason=str(form.get("reason") or ""))
            return _back(request, "/approvals", _t("Rejected."))
    except (ApprovalError, PostRefused) as exc:
        return _back(request, "/approvals", f"#{record.id}: {exc}")
    raise HTTPException(404)


def _edit_drafts(desk: Desk, record: Any, form: FormData, user: DeskUser) -> None:
    bot = desk.bot(record.account)
    edited = []
    for i, data in enumerate(record.drafts):
        draft = draft_from_json(data)
        media = [Media(m.path, str(form.get(f"alt-{i}-{j}", m.description)).strip())
                 for j, m in enumerate(draft.media)]
        edited.append(draft.replace(
            text=str(form.get(f"text-{i}", draft.text)).replace("\r\n", "\n"),
            spoiler_text=str(form.get(f"cw-{i}", draft.spoiler_text)).strip(), media=media))
    check_edit(edited, record.drafts, bot.publisher.max_characters)
    if not desk.store.update_approval(record.id, expect=(WAITING,),
                                      drafts=[draft_to_json(d) for d in edited]):
        raise ApprovalError(f"draft #{record.id} is no longer waiting")
    desk.store.add_audit(user.name, "edit", f"#{record.id} {record.job_id}")


# -- write ---------------------------------------------------------------------------------------
def write_page(request: Request) -> Response:
    _need(request)
    desk: Desk = request.app.state.desk
    record = None
    if "id" in request.query_params:
        record = desk.store.get_approval(int(request.query_params["id"]))
        if record is None or not record.job_id.startswith(DESK_JOB_PREFIX) \
                or record.state not in (WAITING, APPROVED):
            raise HTTPException(404)
    return desk.render(request, "write.html", **_write_context(desk, record))


def _write_context(desk: Desk, record: Any, **values: Any) -> dict[str, Any]:
    bot = desk.bot(record.account if record else values.get("account"))
    form: dict[str, Any] = {"text": "", "cw": "", "visibility": "public",
                            "language": bot.language, "when": "now", "at": "",
                            "account": bot.name, "media": []}
    if record is not None:
        drafts = [draft_from_json(d) for d in record.drafts]
        form.update(text=f"\n{posts.THREAD_SEPARATOR}\n".join(d.text for d in drafts),
                    cw=drafts[0].spoiler_text, visibility=drafts[0].visibility,
                    language=drafts[0].language or bot.language, when="at",
                    at=record.run_time.astimezone(bot.timezone).strftime("%Y-%m-%dT%H:%M"),
                    account=record.account,
                    media=[{"path": str(m.path), "description": m.description}
                           for m in drafts[0].media])
    form.update(values)
    approval_required = desk.config.approval.desk_posts == "required"
    return {"record": record, "form": form, "limit": bot.publisher.max_characters,
            "timezone": str(bot.timezone), "approval_required": approval_required,
            "parts": values.get("parts"), "errors": values.get("errors", [])}


async def write(request: Request) -> Response:
    user = _need(request)
    desk: Desk = request.app.state.desk
    form = await _form(request)
    _t = translator(request.session.get("lang") or desk.language)
    record = None
    if form.get("id"):
        record = desk.store.get_approval(int(str(form.get("id"))))
        if record is None or not record.job_id.startswith(DESK_JOB_PREFIX):
            raise HTTPException(404)
    bot = desk.bot(record.account if record else str(form.get("account") or ""))
    values: dict[str, Any] = {
        "text": str(form.get("text") or "").replace("\r\n", "\n"),
        "cw": str(form.get("cw") or "").strip(),
        "visibility": str(form.get("visibility") or "public"),
        "language": str(form.get("language") or bot.language),
        "when": "at" if form.get("when") == "at" else "now",
        "at": str(form.get("at") or ""), "account": bot.name,
    }
    errors: list[str] = []
    media, kept = _media_from_form(desk, bot, form, record, errors, _t)
    values["media"] = kept
    when = None
    if values["when"] == "at":
        try:
            when = datetime.fromisoformat(values["at"]).replace(tzinfo=bot.timezone)
        except ValueError:
            errors.append(f"{_t('Date and time')}: ?")
    post = posts.DeskPost(text=values["text"], spoiler_text=values["cw"],
                          visibility=values["visibility"], language=values["language"],
                          when=when, media=media)
    if not values["text"].strip():
        errors.append(_t("The post needs a text."))
    if form.get("action") == "preview" or errors:
        try:
            values["parts"] = preview_posts(bot, post.drafts("desk:preview", user.name))
        except Exception as exc:
            errors.append(str(exc))
        return desk.render(request, "write.html", status_code=400 if errors else 200,
                           **_write_context(desk, record, errors=errors, **values))
    try:
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(
            posts.save, bot, post, author=user.name,
            approval_required=desk.config.approval.desk_posts == "required", record=record)
    except (PostRefused, ApprovalError) as exc:
        return desk.render(request, "write.html", status_code=400,
                           **_write_context(desk, record, errors=[str(exc)], **values))
    return _back(request, "/", _t("Saved."))


def _media_from_form(desk: Desk, bot: Bot, form: FormData, record: Any, errors: list[str],
                     _t: Callable[[str], str]) -> tuple[list[Media], list[dict[str, str]]]:
    media: list[Media] = []
    kept: list[dict[str, str]] = []
    allowed = set()
    if record is not None:
        allowed = {m["path"] for d in record.drafts for m in d.get("media") or []}
    for i in range(posts.MAX_IMAGES):  # images already attached (editing), kept unless removed
        keep = form.get(f"keep-{i}")
        if isinstance(keep, str) and keep in allowed and not form.get(f"remove-{i}"):
            alt = str(form.get(f"keep-alt-{i}") or "").strip()
            kept.append({"path": keep, "description": alt})
            media.append(Media(Path(keep), alt))
    max_bytes = int(desk.config.max_upload_mb * 1_000_000)
    for i in range(posts.MAX_IMAGES):
        upload = form.get(f"image-{i}")
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        alt = str(form.get(f"alt-{i}") or "").strip()
        if not alt:
            errors.append(_t("Every image needs its alt text."))
            continue
        try:
            data = upload.file.read(max_bytes + 1)
            path = posts.store_image(data, posts.media_folder(bot), max_bytes=max_bytes)
        except posts.UploadRefused as exc:
            errors.append(f"{upload.filename}: {exc}")
            continue
        kept.append({"path": str(path), "description": alt})
        media.append(Media(path, alt))
    if any(not m.description for m in media):
        errors.append(_t("Every image needs its alt text."))
    return media, kept


async def split_preview(request: Request) -> Response:
    """The live counter's question: how will the publisher split this text?"""
    user = _need(request)
    desk: Desk = request.app.state.desk
    form = await _form(request)
    bot = desk.bot(str(form.get("account") or ""))
    post = posts.DeskPost(text=str(form.get("text") or "").replace("\r\n", "\n"),
                          spoiler_text=str(form.get("cw") or ""))
    parts = [p.text for p in preview_posts(bot, [d.replace(media=[]) for d in
                                                 post.drafts("desk:preview", user.name)])
             ] if post.text.strip() else []
    return JSONResponse({"length": mastodon_length(post.text), "limit":
                         bot.publisher.max_characters, "parts": parts})


async def delete_post(request: Request) -> Response:
    user = _need(request)
    desk: Desk = request.app.state.desk
    record = desk.store.get_approval(int(request.path_params["id"]))
    if record is None or not record.job_id.startswith(DESK_JOB_PREFIX):
        raise HTTPException(404)
    _t = translator(request.session.get("lang") or desk.language)
    try:
        posts.delete(desk.bot(record.account), record, by=user.name)
    except ApprovalError as exc:
        return _back(request, "/", str(exc))
    return _back(request, "/", _t("Deleted."))


# -- published, health, audit ------------------------------------------------------------------
def published_page(request: Request) -> Response:
    _need(request)
    desk: Desk = request.app.state.desk
    sent, failed = [], []
    for bot in desk.daemon.bots:
        sent += [(bot.name, p) for p in desk.store.recent_posts(bot.name, 30)]
        failed += [(bot.name, p) for p in desk.store.recent_posts(bot.name, 30, state="failed")]
    sent.sort(key=lambda x: x[1].sent_at or "", reverse=True)
    return desk.render(request, "published.html", sent=sent[:50], failed=failed)


async def retry(request: Request) -> Response:
    user = _need(request)
    desk: Desk = request.app.state.desk
    form = await _form(request)
    bot = desk.bot(str(form.get("account") or ""))
    key = str(form.get("dedup_key") or "")
    _t = translator(request.session.get("lang") or desk.language)
    if desk.store.retry_post(bot.name, key):
        desk.store.add_audit(user.name, "retry", f"{bot.name} {key}")
        import threading

        threading.Thread(target=bot.publisher.resend_pending, daemon=True,
                         name="civicbot-desk-retry").start()
    return _back(request, "/published", _t("Retry requested."))


def health_page(request: Request) -> Response:
    _need(request, "admin")
    desk: Desk = request.app.state.desk
    report = desk.daemon.health_report()
    errors = {b.name: desk.store.recent_posts(b.name, 5, state="failed") for b in desk.daemon.bots}
    return desk.render(request, "health.html", report=report, errors=errors)


def audit_page(request: Request) -> Response:
    _need(request)
    desk: Desk = request.app.state.desk
    return desk.render(request, "audit.html", entries=desk.store.audit_entries(200),
                       system=SYSTEM)


async def pause(request: Request) -> Response:
    user = _need(request, "admin")
    desk: Desk = request.app.state.desk
    paused = request.url.path == "/pause"
    desk.set_paused(paused, user.name)
    form = await _form(request)
    target = str(form.get("next") or "/")
    return _back(request, target if target.startswith("/") and not target.startswith("//")
                 else "/")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 303 and exc.headers:
        return RedirectResponse(exc.headers["Location"], status_code=303)
    desk: Desk = request.app.state.desk
    _t = translator(request.session.get("lang") or desk.language)
    message = {403: _t("You may not do this."), 404: _t("Page not found.")}.get(
        exc.status_code, str(exc.detail))
    return desk.render(request, "error.html", status_code=exc.status_code, message=message)


def make_app(daemon: Daemon, config: DeskConfig,
             extra_routes: list[Route] | None = None) -> Starlette:
    """The desk application (plus ``extra_routes``: ``/healthz`` and ``/metrics``)."""
    secret = config.secret_key.get_secret_value()
    https = bool(config.public_url and config.public_url.startswith("https://"))
    max_body = int(config.max_upload_mb * 1_000_000 * posts.MAX_IMAGES) + 1_000_000
    routes = [
        *(extra_routes or []),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/language", set_language, methods=["GET"]),
        Route("/", calendar_page, methods=["GET"]),
        Route("/calendar", calendar_page, methods=["GET"]),
        Route("/approvals", approvals_page, methods=["GET"]),
        Route("/approvals/{id:int}/{action:str}", approval_action, methods=["POST"]),
        Route("/write", write_page, methods=["GET"]),
        Route("/write", write, methods=["POST"]),
        Route("/write/split", split_preview, methods=["POST"]),
        Route("/write/{id:int}/delete", delete_post, methods=["POST"]),
        Route("/published", published_page, methods=["GET"]),
        Route("/published/retry", retry, methods=["POST"]),
        Route("/health", health_page, methods=["GET"]),
        Route("/audit", audit_page, methods=["GET"]),
        Route("/pause", pause, methods=["POST"]),
        Route("/resume", pause, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    csrf: Any = FormCSRFMiddleware
    middleware = [
        Middleware(SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE,
                   max_age=SESSION_AGE, same_site="lax", https_only=https),
        Middleware(csrf, secret=secret + ":csrf", max_body=max_body,
                   cookie_secure=https, cookie_samesite="lax"),
    ]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: _http_error})
    app.state.desk = Desk(daemon, config)
    return app
