"""A fake Mastodon instance on 127.0.0.1 that speaks the real REST and streaming wire format.

The real, unmodified Mastodon.py client works against it::

    with SandboxInstance() as sandbox:
        api = Mastodon(access_token=sandbox.access_token, api_base_url=sandbox.url)
        api.status_post("Bonjour !")
        sandbox.inject_mention("quand ouvre la mairie ?")

Entities follow the shapes of a real Mastodon 4.x server (``tests/fixtures/mastodon``).
Streaming is served on the same port, both as server-sent events
(``/api/v1/streaming/user``) and as WebSocket (``/api/v1/streaming``).
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlencode

from civicbot.testing.sandbox_entities import (
    MENTION_RE,
    IdGenerator,
    account_entity,
    count_status_length,
    credential_account,
    extract_mentions,
    extract_tags,
    instance_v1,
    instance_v2,
    iso,
    iso_date,
    media_entity,
    notification_entity,
    parse_iso,
    scheduled_status_entity,
    status_entity,
    text_to_html,
)
from civicbot.testing.sandbox_http import (
    HttpRequest,
    RequestRecord,
    Response,
    SandboxHTTPServer,
    SandboxRequestHandler,
)
from civicbot.testing.sandbox_streams import (
    StreamConnection,
    StreamEvent,
    websocket_accept_key,
)

__all__ = ["RequestRecord", "SandboxInstance"]

StreamingMode = Literal["sse", "websocket", "both", "none"]

STATUSES_WITH_STATUS = frozenset(
    {"mention", "status", "reblog", "favourite", "poll", "update", "quote", "quoted_update"}
)
SCHEDULED_MIN_OFFSET = timedelta(minutes=5)
SCHEDULED_DAILY_LIMIT = 25
SCHEDULED_TOTAL_LIMIT = 300
IDEMPOTENCY_TTL = timedelta(hours=1)
APPLICATION = {"name": "civicbot", "website": None}
ERROR_MESSAGES = {
    400: "Bad Request",
    401: "The access token is invalid",
    403: "This action is not allowed",
    404: "Record not found",
    410: "Gone",
    422: "Unprocessable Entity",
    429: "Too many requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_SSE_STREAMS = {
    "/api/v1/streaming/user": "user",
    "/api/v1/streaming/user/notification": "user:notification",
    "/api/v1/streaming/public": "public",
    "/api/v1/streaming/public/local": "public:local",
    "/api/v1/streaming/public/remote": "public:remote",
    "/api/v1/streaming/hashtag": "hashtag",
    "/api/v1/streaming/hashtag/local": "hashtag:local",
    "/api/v1/streaming/list": "list",
    "/api/v1/streaming/direct": "direct",
}

Route = tuple[str, re.Pattern[str], Callable[..., Response]]


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("1", "true", "t", "on", "yes")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _error(status: int, message: str | None = None) -> Response:
    return Response(status, {"error": message or ERROR_MESSAGES.get(status, "Error")})


class SandboxInstance:
    """A fake Mastodon server for tests and benchmarks (see module docstring)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_token: str = "sandbox-token",
        max_characters: int = 500,
        heartbeat_interval: float = 15.0,
        streaming: StreamingMode = "both",
        account_username: str = "ville",
        domain: str = "sandbox.example",
        rate_limit: int = 300,
        rate_limit_window: float = 300.0,
        echo_own_statuses: bool = True,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.access_token = access_token
        self.max_characters = max_characters
        self.heartbeat_interval = heartbeat_interval
        self.streaming: StreamingMode = streaming
        self.account_username = account_username
        self.domain = domain
        self.rate_limit = rate_limit
        self.rate_limit_window = rate_limit_window
        self.echo_own_statuses = echo_own_statuses
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self.url = f"http://{host}:{port}"

        # what the bot did
        self.statuses: list[dict[str, Any]] = []
        self.deleted_statuses: list[dict[str, Any]] = []
        self.scheduled_statuses: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.media_files: dict[str, bytes] = {}
        self.requests: list[RequestRecord] = []
        self.markers: dict[str, dict[str, Any]] = {}
        # what residents did
        self.notifications: list[dict[str, Any]] = []
        # streams
        self.total_stream_connects = 0

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ids = IdGenerator()
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._streams: list[StreamConnection] = []
        self._statuses_by_id: dict[str, dict[str, Any]] = {}
        self._accounts_by_id: dict[str, dict[str, Any]] = {}
        self._accounts_by_acct: dict[str, dict[str, Any]] = {}
        self._notification_ids: list[int] = []
        self._idempotency: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self._faults: list[tuple[list[int], int, str]] = []
        self._rate_limited: list[tuple[int, float]] = []
        self._refuse: list[tuple[int, int]] = []
        self._revoked = False
        self._rl_window_start: datetime | None = None
        self._rl_count = 0
        self._bot: dict[str, Any] = {}
        self._routes: list[Route] = self._build_routes()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SandboxInstance:
        if self._server is not None:
            return self
        server = SandboxHTTPServer((self.host, self.port), self._dispatch)
        self._server = server
        self.port = int(server.server_address[1])
        self.url = f"http://{self.host}:{self.port}"
        created = self.now()
        self._bot = account_entity(
            account_id=self._ids.next(created),
            username=self.account_username,
            acct=self.account_username,
            base_url=self.url,
            display_name=self.account_username.capitalize(),
            bot=True,
            note="",
            created_at=created,
        )
        self._remember_account(self._bot)
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="civicbot-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        self._server = None
        with self._lock:
            streams = list(self._streams)
        for conn in streams:
            conn.drop()
        server.shutdown()
        server.close_all_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def __enter__(self) -> SandboxInstance:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def streaming_url(self) -> str:
        return "ws://" + self.url.split("://", 1)[1]

    @property
    def account(self) -> dict[str, Any]:
        """The bot's own account entity."""
        return self._bot

    # ------------------------------------------------------------------ waiting

    def wait_for_statuses(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait (real time) until at least ``n`` statuses were posted; return them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.statuses) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {n} statuses within {timeout}s, got {len(self.statuses)}"
                    )
                self._changed.wait(remaining)
            return list(self.statuses)

    def wait_for_requests(
        self, predicate: Callable[[RequestRecord], bool], n: int = 1, timeout: float = 10.0
    ) -> list[RequestRecord]:
        """Wait until ``n`` recorded requests match ``predicate``; return the matches."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [r for r in self.requests if predicate(r)]
                if len(found) >= n:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {n} matching requests, got {len(found)}")
                self._changed.wait(remaining)

    def wait_for_stream(self, timeout: float = 10.0) -> None:
        """Wait until at least one stream connection is open."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._streams:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no stream connected within {timeout}s")
                self._changed.wait(remaining)

    def wait_for_stream_connects(self, total: int, timeout: float = 10.0) -> None:
        """Wait until ``total_stream_connects`` reaches ``total`` and a stream is open."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.total_stream_connects < total or not self._streams:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {total} stream connects, got {self.total_stream_connects}"
                    )
                self._changed.wait(remaining)

    @property
    def stream_connections(self) -> int:
        with self._lock:
            return len(self._streams)

    # ------------------------------------------------------------------ faults

    def fail_next(self, count: int, status: int = 502, path_prefix: str = "/api/") -> None:
        """The next ``count`` REST requests under ``path_prefix`` answer ``status``."""
        with self._lock:
            self._faults.append(([count], status, path_prefix))

    def rate_limit_next(self, count: int = 1, reset_in: float = 1.0) -> None:
        """The next ``count`` REST requests answer 429 with a reset ``reset_in`` s ahead."""
        with self._lock:
            self._rate_limited.append((count, reset_in))

    def refuse_streams(self, count: int, status: int = 503) -> None:
        """The next ``count`` stream connection attempts answer ``status``."""
        with self._lock:
            self._refuse.append((count, status))

    def drop_streams(self) -> None:
        """Abruptly close every open stream connection."""
        with self._lock:
            streams = list(self._streams)
        for conn in streams:
            conn.drop()

    def close_streams_cleanly(self) -> None:
        """End every open stream properly (chunked terminator / WebSocket close frame)."""
        with self._lock:
            streams = list(self._streams)
        for conn in streams:
            conn.end()

    def stall_streams(self) -> None:
        """Open streams go silent (no heartbeats, no events) until resumed or dropped."""
        with self._lock:
            for conn in self._streams:
                conn.stall()

    def resume_streams(self) -> None:
        with self._lock:
            for conn in self._streams:
                conn.resume()

    def revoke_token(self) -> None:
        """Every request now answers 401; open streams are closed."""
        with self._lock:
            self._revoked = True
        self.close_streams_cleanly()

    # ------------------------------------------------------------------ residents

    def _remember_account(self, account: dict[str, Any]) -> None:
        self._accounts_by_id[account["id"]] = account
        self._accounts_by_acct[account["acct"].lower()] = account

    def _resident(
        self, acct: str, display_name: str | None, bot: bool, note: str, created: datetime
    ) -> dict[str, Any]:
        acct = acct.lstrip("@")
        existing = self._accounts_by_acct.get(acct.lower())
        if existing is not None and existing["id"] == self._bot.get("id"):
            return existing
        username = acct.split("@", 1)[0]
        if display_name is None:
            display_name = existing["display_name"] if existing else username
        if (
            existing is not None
            and existing["display_name"] == display_name
            and existing["bot"] == bot
            and (existing["note"] == note or (not note and not existing["note"]))
        ):
            return existing
        account = account_entity(
            account_id=existing["id"] if existing else self._ids.next(created),
            username=username,
            acct=acct,
            base_url=self.url,
            display_name=display_name,
            bot=bot,
            note=note,
            created_at=created,
            statuses_count=existing["statuses_count"] if existing else 0,
            last_status_at=existing["last_status_at"] if existing else None,
        )
        self._remember_account(account)
        return account

    def _bump_account(self, account: dict[str, Any], when: datetime) -> None:
        account["statuses_count"] += 1
        account["last_status_at"] = iso_date(when)

    def _bot_mention(self) -> dict[str, Any]:
        return {
            "id": self._bot["id"],
            "username": self._bot["username"],
            "url": self._bot["url"],
            "acct": self._bot["acct"],
        }

    def _resident_content(self, text: str) -> str:
        bot = self.account_username.lower()
        mention_urls = {bot: self._bot["url"], f"{bot}@{self.domain}".lower(): self._bot["url"]}
        mentioned = any(
            m.group(1).lower() == bot and (m.group(2) is None or m.group(2).lower() == self.domain)
            for m in MENTION_RE.finditer(text)
        )
        if not mentioned:
            text = f"@{self.account_username} {text}"
        return text_to_html(text, mention_url=mention_urls)

    def inject_mention(
        self,
        text: str,
        *,
        acct: str = "alice@other.example",
        display_name: str = "Alice",
        bot: bool = False,
        note: str = "",
        visibility: str = "public",
        in_reply_to_id: str | None = None,
        created_at: datetime | None = None,
        html: str | None = None,
        language: str | None = "fr",
    ) -> dict[str, Any]:
        """A resident mentions the bot: stores the status and a ``mention`` notification,
        pushes ``event: notification`` to every open user stream; returns the notification."""
        with self._lock:
            now = self.now()
            created = created_at or now
            account = self._resident(acct, display_name, bot, note, created)
            status = self._resident_status(
                account, text, created, visibility, in_reply_to_id, html, language, True
            )
            return self._add_notification("mention", account, status, now, created)

    def inject_status(
        self,
        text: str,
        *,
        acct: str = "alice@other.example",
        display_name: str = "Alice",
        bot: bool = False,
        visibility: str = "public",
        in_reply_to_id: str | None = None,
        created_at: datetime | None = None,
        html: str | None = None,
        language: str | None = "fr",
    ) -> dict[str, Any]:
        """A followed account posts: pushes ``event: update`` (no notification)."""
        with self._lock:
            created = created_at or self.now()
            account = self._resident(acct, display_name, bot, "", created)
            status = self._resident_status(
                account, text, created, visibility, in_reply_to_id, html, language, False
            )
            self._publish("update", status)
            return status

    def _resident_status(
        self,
        account: dict[str, Any],
        text: str,
        created: datetime,
        visibility: str,
        in_reply_to_id: str | None,
        html: str | None,
        language: str | None,
        mention_bot: bool,
    ) -> dict[str, Any]:
        parent = self._statuses_by_id.get(in_reply_to_id) if in_reply_to_id else None
        if mention_bot:
            content = html if html is not None else self._resident_content(text)
            mentions = [self._bot_mention()]
        else:
            content = html if html is not None else text_to_html(text)
            mentions = []
        status = status_entity(
            status_id=self._ids.next(created),
            account=account,
            content=content,
            created_at=created,
            base_url=self.url,
            in_reply_to_id=str(in_reply_to_id) if in_reply_to_id else None,
            in_reply_to_account_id=parent["account"]["id"] if parent else None,
            visibility=visibility,
            language=language,
            tags=extract_tags(text),
            mentions=mentions,
            application={"name": "Web", "website": None},
        )
        if parent is not None:
            parent["replies_count"] += 1
        self._bump_account(account, created)
        self._statuses_by_id[status["id"]] = status
        return status

    def _add_notification(
        self,
        type: str,
        account: dict[str, Any],
        status: dict[str, Any] | None,
        now: datetime,
        created: datetime,
    ) -> dict[str, Any]:
        notification = notification_entity(
            notification_id=self._ids.next(now),
            type=type,
            account=account,
            created_at=created,
            status=status,
        )
        self.notifications.append(notification)
        self._notification_ids.append(int(notification["id"]))
        self._publish("notification", notification)
        self._changed.notify_all()
        return notification

    def inject_notification(self, type: str, **kw: Any) -> dict[str, Any]:
        """Any notification type (``favourite``, ``follow``, ``reblog``, ``mention``...).

        Keywords: ``acct``, ``display_name``, ``bot``, ``note``, ``created_at``,
        ``status_id`` (the status concerned; defaults to the bot's latest status).
        For ``mention`` this is :meth:`inject_mention` with ``text``.
        """
        if type == "mention":
            text = kw.pop("text", "")
            return self.inject_mention(text, **kw)
        with self._lock:
            now = self.now()
            created = kw.get("created_at") or now
            account = self._resident(
                kw.get("acct", "alice@other.example"),
                kw.get("display_name", "Alice"),
                bool(kw.get("bot", False)),
                kw.get("note", ""),
                created,
            )
            status: dict[str, Any] | None = None
            if type in STATUSES_WITH_STATUS:
                status_id = kw.get("status_id")
                if status_id is not None:
                    status = self._statuses_by_id.get(str(status_id))
                    if status is None:
                        raise KeyError(f"unknown status {status_id}")
                elif self.statuses:
                    status = self.statuses[-1]
                else:
                    status = self._create_bot_status("…", now, record=False)
                if type == "favourite":
                    status["favourites_count"] += 1
                elif type == "reblog":
                    status["reblogs_count"] += 1
            elif type == "follow":
                self._bot["followers_count"] += 1
            return self._add_notification(type, account, status, now, created)

    def edit_status(self, status_id: str, text: str) -> dict[str, Any]:
        """A resident edits a status: pushes ``event: status.update``; returns the status."""
        with self._lock:
            status = self._statuses_by_id[str(status_id)]
            if status["account"]["id"] == self._bot["id"]:
                status["content"] = text_to_html(text)
            elif any(m["id"] == self._bot["id"] for m in status["mentions"]):
                status["content"] = self._resident_content(text)
            else:
                status["content"] = text_to_html(text)
            status["edited_at"] = iso(self.now())
            self._publish("status.update", status)
            return status

    def inject_delete(self, status_id: str) -> None:
        """A status disappears: pushes ``event: delete``."""
        with self._lock:
            self._statuses_by_id.pop(str(status_id), None)
            self._publish_raw("delete", str(status_id))

    # ------------------------------------------------------------------ streaming internals

    def _publish(self, name: str, entity: dict[str, Any]) -> None:
        if not self._streams:
            return
        payload = json.dumps(entity, separators=(",", ":"), ensure_ascii=False)
        self._publish_raw(name, payload)

    def _publish_raw(self, name: str, payload: str) -> None:
        if not self._streams:
            return
        event = StreamEvent(name, payload)
        for conn in self._streams:
            conn.push(event)

    def _stream_closed(self, conn: StreamConnection) -> None:
        with self._lock:
            if conn in self._streams:
                self._streams.remove(conn)
            self._changed.notify_all()

    # ------------------------------------------------------------------ dispatch

    def _record(self, req: HttpRequest, status: int) -> None:
        record = RequestRecord(
            method=req.method,
            path=req.path,
            query=req.query,
            headers=req.headers,
            body=req.body,
            status=status,
            time=self.now(),
        )
        with self._lock:
            self.requests.append(record)
            self._changed.notify_all()

    def _token_of(self, req: HttpRequest, websocket: bool) -> str | None:
        auth = req.headers.get("Authorization") or req.headers.get("authorization")
        if auth and auth.lower().startswith("bearer "):
            return auth[7:].strip()
        if websocket or req.path.startswith("/api/v1/streaming"):
            token = req.query.get("access_token")
            if isinstance(token, str) and token:
                return token
            proto = req.headers.get("Sec-WebSocket-Protocol")
            if websocket and proto:
                return proto.split(",", 1)[0].strip()
        return None

    def _auth_error(
        self, req: HttpRequest, *, public: bool, websocket: bool = False
    ) -> Response | None:
        token = self._token_of(req, websocket)
        if token is None:
            if public:
                return None
            return _error(401, "The access token is invalid")
        if token != self.access_token:
            return _error(401, "The access token is invalid")
        if self._revoked:
            return _error(401, "The access token was revoked")
        return None

    def _dispatch(self, handler: SandboxRequestHandler) -> None:
        req = handler.read_request()
        path = req.path.rstrip("/") or "/"
        req.path = path
        if path.startswith("/api/v1/streaming") and path != "/api/v1/streaming/health":
            self._handle_stream(handler, req)
            return
        response = self._handle_rest(req, path)
        if path.startswith("/api/"):
            response.headers.update(self._rate_limit_headers(response))
        self._record(req, response.status)
        handler.send_full(response)

    def _handle_rest(self, req: HttpRequest, path: str) -> Response:
        public = path in (
            "/api/v1/instance",
            "/api/v2/instance",
            "/api/v1/streaming/health",
        ) or not path.startswith("/api/")
        route = self._match_route(req.method, path)
        if route is None:
            return _error(404, "Record not found")
        with self._lock:
            auth = self._auth_error(req, public=public)
            if auth is not None:
                return auth
            if self._rate_limited and path.startswith("/api/"):
                count, reset_in = self._rate_limited[0]
                if count <= 1:
                    self._rate_limited.pop(0)
                else:
                    self._rate_limited[0] = (count - 1, reset_in)
                reset = self.now() + timedelta(seconds=reset_in)
                return Response(
                    429,
                    {"error": "Too many requests"},
                    {
                        "X-RateLimit-Limit": str(self.rate_limit),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    },
                )
            for fault in self._faults:
                counter, status, prefix = fault
                if path.startswith(prefix) and counter[0] > 0:
                    counter[0] -= 1
                    if counter[0] == 0:
                        self._faults.remove(fault)
                    return _error(status)
        func, args = route
        try:
            with self._lock:
                return func(req, *args)
        except Exception as exc:  # a sandbox bug must not hang the client
            return _error(500, f"sandbox error: {exc!r}")

    def _match_route(
        self, method: str, path: str
    ) -> tuple[Callable[..., Response], tuple[str, ...]] | None:
        for route_method, pattern, func in self._routes:
            if route_method != method and not (route_method == "GET" and method == "HEAD"):
                continue
            match = pattern.fullmatch(path)
            if match is not None:
                return func, match.groups()
        return None

    def _rate_limit_headers(self, response: Response) -> dict[str, str]:
        if "X-RateLimit-Limit" in response.headers:
            return {}
        with self._lock:
            now = self.now()
            window = timedelta(seconds=self.rate_limit_window)
            start = self._rl_window_start
            if (
                start is None
                or now >= start + window
                or now < start
                or (self._rl_count >= self.rate_limit)
            ):
                start = now
                self._rl_window_start = now
                self._rl_count = 0
            self._rl_count += 1
            remaining = max(self.rate_limit - self._rl_count, 0)
            reset = start + window
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    # ------------------------------------------------------------------ streams

    def _handle_stream(self, handler: SandboxRequestHandler, req: HttpRequest) -> None:
        upgrade = (req.headers.get("Upgrade") or "").lower() == "websocket"
        path = req.path
        handler.close_connection = True
        if upgrade:
            allowed = self.streaming in ("websocket", "both") and path == "/api/v1/streaming"
        else:
            allowed = self.streaming in ("sse", "both")
        if not allowed:
            self._stream_error(handler, req, _error(404, "Not found"))
            return
        with self._lock:
            auth = self._auth_error(req, public=False, websocket=upgrade)
            if auth is None and self._refuse:
                count, status = self._refuse[0]
                if count <= 1:
                    self._refuse.pop(0)
                else:
                    self._refuse[0] = (count - 1, status)
                auth = _error(status)
        if auth is not None:
            self._stream_error(handler, req, auth)
            return
        if upgrade:
            self._serve_websocket(handler, req)
        else:
            self._serve_sse(handler, req)

    def _stream_error(
        self, handler: SandboxRequestHandler, req: HttpRequest, resp: Response
    ) -> None:
        self._record(req, resp.status)
        handler.send_full(resp)

    def _register(self, conn: StreamConnection) -> None:
        with self._lock:
            self._streams.append(conn)
            self.total_stream_connects += 1
            self._changed.notify_all()

    def _serve_sse(self, handler: SandboxRequestHandler, req: HttpRequest) -> None:
        stream = _SSE_STREAMS.get(req.path)
        if req.path == "/api/v1/streaming":
            value = req.query.get("stream")
            stream = value if isinstance(value, str) else None
        if stream is None:
            self._stream_error(handler, req, _error(404, "Unknown stream type"))
            return
        self._record(req, 200)
        conn = StreamConnection(
            kind="sse",
            sock=handler.connection,
            rfile=handler.rfile,
            heartbeat_interval=self.heartbeat_interval,
            streams={stream},
            on_close=self._stream_closed,
        )
        head = handler.head_bytes(
            200,
            [
                ("Content-Type", "text/event-stream"),
                ("Cache-Control", "no-store"),
                ("Transfer-Encoding", "chunked"),
                ("X-Accel-Buffering", "no"),
                ("Connection", "close"),
            ],
        )
        self._register(conn)
        try:
            handler.connection.sendall(head + b"3\r\n:)\n\r\n")
        except OSError:
            self._stream_closed(conn)
            return
        conn.run()

    def _serve_websocket(self, handler: SandboxRequestHandler, req: HttpRequest) -> None:
        key = req.headers.get("Sec-WebSocket-Key")
        if not key:
            self._stream_error(handler, req, _error(400, "Missing Sec-WebSocket-Key"))
            return
        self._record(req, 101)
        headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", websocket_accept_key(key)),
        ]
        proto = req.headers.get("Sec-WebSocket-Protocol")
        if proto:
            headers.append(("Sec-WebSocket-Protocol", proto.split(",", 1)[0].strip()))
        streams: set[str] = set()
        initial = req.query.get("stream")
        if isinstance(initial, str) and initial:
            streams.add(initial)
        conn = StreamConnection(
            kind="websocket",
            sock=handler.connection,
            rfile=handler.rfile,
            heartbeat_interval=self.heartbeat_interval,
            streams=streams,
            on_close=self._stream_closed,
        )
        self._register(conn)
        try:
            handler.connection.sendall(handler.head_bytes(101, headers))
        except OSError:
            self._stream_closed(conn)
            return
        conn.run()

    # ------------------------------------------------------------------ routes

    def _build_routes(self) -> list[Route]:
        table: list[tuple[str, str, Callable[..., Response]]] = [
            ("GET", r"/api/v1/instance", self._get_instance_v1),
            ("GET", r"/api/v2/instance", self._get_instance_v2),
            ("GET", r"/api/v1/streaming/health", self._get_health),
            ("GET", r"/api/v1/accounts/verify_credentials", self._verify_credentials),
            ("GET", r"/api/v1/accounts/lookup", self._account_lookup),
            ("GET", r"/api/v1/accounts/([^/]+)", self._get_account),
            ("GET", r"/api/v1/accounts/([^/]+)/statuses", self._account_statuses),
            ("POST", r"/api/v1/statuses", self._post_status),
            ("GET", r"/api/v1/statuses/([^/]+)", self._get_status),
            ("PUT", r"/api/v1/statuses/([^/]+)", self._put_status),
            ("DELETE", r"/api/v1/statuses/([^/]+)", self._delete_status),
            ("GET", r"/api/v1/statuses/([^/]+)/context", self._status_context),
            ("POST", r"/api/v1/statuses/([^/]+)/pin", self._pin),
            ("POST", r"/api/v1/statuses/([^/]+)/unpin", self._unpin),
            ("GET", r"/api/v1/scheduled_statuses", self._list_scheduled),
            ("GET", r"/api/v1/scheduled_statuses/([^/]+)", self._get_scheduled),
            ("PUT", r"/api/v1/scheduled_statuses/([^/]+)", self._put_scheduled),
            ("DELETE", r"/api/v1/scheduled_statuses/([^/]+)", self._delete_scheduled),
            ("POST", r"/api/v[12]/media", self._post_media),
            ("GET", r"/api/v1/media/([^/]+)", self._get_media),
            ("PUT", r"/api/v1/media/([^/]+)", self._put_media),
            (
                "GET",
                r"/system/media_attachments/files/([^/]+)/(?:original|small)/[^/]+",
                self._media_file,
            ),
            ("GET", r"/api/v1/notifications", self._list_notifications),
            ("POST", r"/api/v1/notifications/clear", self._clear_notifications),
            ("GET", r"/api/v1/notifications/([^/]+)", self._get_notification),
            ("POST", r"/api/v1/notifications/([^/]+)/dismiss", self._dismiss_notification),
            ("GET", r"/api/v1/markers", self._get_markers),
            ("POST", r"/api/v1/markers", self._post_markers),
            ("GET", r"/api/v1/timelines/home", self._home_timeline),
            ("GET", r"/api/v1/timelines/public", self._empty_list),
        ]
        return [(m, re.compile(p), f) for m, p, f in table]

    # instance & accounts

    def _stats(self) -> dict[str, int]:
        return {
            "user_count": 1,
            "status_count": len(self.statuses),
            "domain_count": len({a["acct"].split("@")[-1] for a in self._accounts_by_id.values()}),
        }

    def _get_instance_v1(self, req: HttpRequest) -> Response:
        return Response(
            200,
            instance_v1(
                domain=self.domain,
                base_url=self.url,
                streaming_url=self.streaming_url,
                max_characters=self.max_characters,
                stats=self._stats(),
            ),
        )

    def _get_instance_v2(self, req: HttpRequest) -> Response:
        return Response(
            200,
            instance_v2(
                domain=self.domain,
                base_url=self.url,
                streaming_url=self.streaming_url,
                max_characters=self.max_characters,
                active_month=1,
            ),
        )

    def _get_health(self, req: HttpRequest) -> Response:
        if self.streaming == "none":
            return _error(404, "Not found")
        return Response(200, "OK", content_type="text/plain; charset=utf-8")

    def _verify_credentials(self, req: HttpRequest) -> Response:
        return Response(200, credential_account(self._bot))

    def _account_lookup(self, req: HttpRequest) -> Response:
        acct = str(req.query.get("acct", "")).lstrip("@").lower()
        if acct.endswith("@" + self.domain.lower()):
            acct = acct[: -len(self.domain) - 1]
        account = self._accounts_by_acct.get(acct)
        return Response(200, account) if account else _error(404)

    def _get_account(self, req: HttpRequest, account_id: str) -> Response:
        account = self._accounts_by_id.get(account_id)
        return Response(200, account) if account else _error(404)

    def _account_statuses(self, req: HttpRequest, account_id: str) -> Response:
        found = [s for s in self._statuses_by_id.values() if s["account"]["id"] == account_id]
        found.sort(key=lambda s: int(s["id"]), reverse=True)
        return Response(200, found[: self._limit(req, 20, 40)])

    def _empty_list(self, req: HttpRequest) -> Response:
        return Response(200, [])

    def _home_timeline(self, req: HttpRequest) -> Response:
        return Response(200, list(reversed(self.statuses))[: self._limit(req, 20, 40)])

    # statuses

    def _create_bot_status(
        self,
        text: str,
        now: datetime,
        *,
        record: bool = True,
        in_reply_to_id: str | None = None,
        media: list[dict[str, Any]] | None = None,
        sensitive: bool = False,
        spoiler_text: str = "",
        visibility: str = "public",
        language: str | None = "fr",
    ) -> dict[str, Any]:
        parent = self._statuses_by_id.get(in_reply_to_id) if in_reply_to_id else None
        mention_urls: dict[str, str] = {}
        mentions: list[dict[str, Any]] = []
        for acct, username, _domain in extract_mentions(text):
            known = self._accounts_by_acct.get(acct.lower())
            if known is None:
                continue
            mention_urls[acct.lower()] = known["url"]
            mentions.append(
                {
                    "id": known["id"],
                    "username": username,
                    "url": known["url"],
                    "acct": known["acct"],
                }
            )
        status = status_entity(
            status_id=self._ids.next(now),
            account=self._bot,
            content=text_to_html(text, mention_url=mention_urls),
            created_at=now,
            base_url=self.url,
            in_reply_to_id=in_reply_to_id,
            in_reply_to_account_id=parent["account"]["id"] if parent else None,
            sensitive=sensitive,
            spoiler_text=spoiler_text,
            visibility=visibility,
            language=language,
            media_attachments=media,
            mentions=mentions,
            tags=extract_tags(text),
            application=dict(APPLICATION),
            own=True,
        )
        if parent is not None:
            parent["replies_count"] += 1
        self._statuses_by_id[status["id"]] = status
        self._bump_account(self._bot, now)
        if record:
            self.statuses.append(status)
            self._changed.notify_all()
            if self.echo_own_statuses:
                self._publish("update", status)
        return status

    def _validate_text(
        self, text: str, spoiler: str, media: list[str], poll: Any = None
    ) -> Response | None:
        if not text.strip() and not media and not poll:
            return _error(422, "Validation failed: Text can't be blank")
        if count_status_length(text, spoiler) > self.max_characters:
            return _error(
                422, f"Validation failed: Text character limit of {self.max_characters} exceeded"
            )
        return None

    def _resolve_media(self, ids: list[str]) -> tuple[list[dict[str, Any]], Response | None]:
        if len(ids) > 4:
            return [], _error(422, "Cannot attach more than 4 files")
        found = []
        for media_id in ids:
            media = self.media.get(str(media_id))
            if media is None:
                return [], _error(
                    422, f"Media {media_id} not found or already attached to another post"
                )
            found.append(media)
        return found, None

    def _post_status(self, req: HttpRequest) -> Response:
        body = req.body
        now = self.now()
        key = req.headers.get("Idempotency-Key")
        if key:
            self._idempotency = {
                k: v for k, v in self._idempotency.items() if now - v[0] < IDEMPOTENCY_TTL
            }
            if key in self._idempotency:
                return Response(200, self._idempotency[key][1])
        text = str(body.get("status") or "")
        spoiler = str(body.get("spoiler_text") or "")
        media_ids = [str(m) for m in _as_list(body.get("media_ids")) if str(m)]
        error = self._validate_text(text, spoiler, media_ids, body.get("poll"))
        if error is not None:
            return error
        media, error = self._resolve_media(media_ids)
        if error is not None:
            return error
        visibility = str(body.get("visibility") or "public")
        if visibility not in ("public", "unlisted", "private", "direct"):
            return _error(422, "Validation failed: Visibility is not included in the list")
        in_reply_to_id = body.get("in_reply_to_id")
        in_reply_to_id = str(in_reply_to_id) if in_reply_to_id not in (None, "") else None
        if in_reply_to_id is not None and in_reply_to_id not in self._statuses_by_id:
            return _error(404, "The post you are trying to reply to does not appear to exist.")
        language = str(body.get("language") or "fr")
        sensitive = _truthy(body.get("sensitive"))
        scheduled_raw = body.get("scheduled_at")
        if scheduled_raw:
            return self._schedule(
                req,
                now,
                key,
                text,
                spoiler,
                media,
                media_ids,
                visibility,
                in_reply_to_id,
                language,
                sensitive,
                str(scheduled_raw),
            )
        status = self._create_bot_status(
            text,
            now,
            in_reply_to_id=in_reply_to_id,
            media=media,
            sensitive=sensitive or bool(spoiler),
            spoiler_text=spoiler,
            visibility=visibility,
            language=language,
        )
        if key:
            self._idempotency[key] = (now, status)
        return Response(200, status)

    def _check_schedule(
        self, when: datetime, now: datetime, exclude: str | None = None
    ) -> Response | None:
        if when - now < SCHEDULED_MIN_OFFSET:
            return _error(
                422, "Validation failed: Scheduled at The scheduled date must be in the future"
            )
        others = [s for s in self.scheduled_statuses if s["id"] != exclude]
        if len(others) >= SCHEDULED_TOTAL_LIMIT:
            return _error(
                422,
                f"Validation failed: You have exceeded the limit of {SCHEDULED_TOTAL_LIMIT} "
                "scheduled posts",
            )
        day = when.date()
        same_day = [s for s in others if parse_iso(s["scheduled_at"]).date() == day]
        if len(same_day) >= SCHEDULED_DAILY_LIMIT:
            return _error(
                422,
                f"Validation failed: You have exceeded the limit of {SCHEDULED_DAILY_LIMIT} "
                "scheduled posts for today",
            )
        return None

    def _schedule(
        self,
        req: HttpRequest,
        now: datetime,
        key: str | None,
        text: str,
        spoiler: str,
        media: list[dict[str, Any]],
        media_ids: list[str],
        visibility: str,
        in_reply_to_id: str | None,
        language: str,
        sensitive: bool,
        scheduled_raw: str,
    ) -> Response:
        try:
            when = parse_iso(scheduled_raw)
        except ValueError:
            return _error(422, "Validation failed: Scheduled at is invalid")
        error = self._check_schedule(when, now)
        if error is not None:
            return error
        params: dict[str, Any] = {
            "text": text,
            "quote_approval_policy": "public",
            "media_ids": media_ids or None,
            "sensitive": sensitive if "sensitive" in req.body else None,
            "spoiler_text": spoiler or None,
            "visibility": visibility if "visibility" in req.body else None,
            "language": language if "language" in req.body else None,
            "scheduled_at": None,
            "poll": None,
            "allowed_mentions": None,
            "idempotency": key,
            "with_rate_limit": False,
            "in_reply_to_id": in_reply_to_id,
            "application_id": 1,
            "quoted_status_id": None,
        }
        scheduled = scheduled_status_entity(
            scheduled_id=self._ids.next(now),
            scheduled_at=when,
            params=params,
            media_attachments=media,
        )
        self.scheduled_statuses.append(scheduled)
        if key:
            self._idempotency[key] = (now, scheduled)
        return Response(200, scheduled)

    def publish_due_scheduled_statuses(self) -> list[dict[str, Any]]:
        """Publish the scheduled statuses whose time has come (per ``self.now()``)."""
        with self._lock:
            now = self.now()
            published = []
            for scheduled in list(self.scheduled_statuses):
                if parse_iso(scheduled["scheduled_at"]) > now:
                    continue
                self.scheduled_statuses.remove(scheduled)
                p = scheduled["params"]
                published.append(
                    self._create_bot_status(
                        p["text"],
                        now,
                        in_reply_to_id=p["in_reply_to_id"],
                        media=scheduled["media_attachments"],
                        sensitive=bool(p["sensitive"]),
                        spoiler_text=p["spoiler_text"] or "",
                        visibility=p["visibility"] or "public",
                        language=p["language"] or "fr",
                    )
                )
            return published

    def _get_status(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        return Response(200, status) if status else _error(404)

    def _put_status(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        if status is None or status["account"]["id"] != self._bot["id"]:
            return _error(404)
        text = str(req.body.get("status") or "")
        spoiler = str(req.body.get("spoiler_text") or "")
        error = self._validate_text(text, spoiler, [m["id"] for m in status["media_attachments"]])
        if error is not None:
            return error
        status["content"] = text_to_html(text)
        status["spoiler_text"] = spoiler
        status["edited_at"] = iso(self.now())
        self._publish("status.update", status)
        return Response(200, status)

    def _delete_status(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        if status is None:
            return _error(404)
        if status["account"]["id"] != self._bot["id"]:
            return _error(403, "This action is not allowed")
        del self._statuses_by_id[status_id]
        if status in self.statuses:
            self.statuses.remove(status)
        self.deleted_statuses.append(status)
        self._bot["statuses_count"] = max(0, self._bot["statuses_count"] - 1)
        self._publish_raw("delete", status_id)
        out = copy.deepcopy(status)
        out["text"] = re.sub(r"<[^>]+>", "", status["content"])
        return Response(200, out)

    def _status_context(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        if status is None:
            return _error(404)
        ancestors: list[dict[str, Any]] = []
        parent_id = status["in_reply_to_id"]
        while parent_id and parent_id in self._statuses_by_id and len(ancestors) < 40:
            parent = self._statuses_by_id[parent_id]
            ancestors.insert(0, parent)
            parent_id = parent["in_reply_to_id"]
        descendants: list[dict[str, Any]] = []
        frontier = [status_id]
        while frontier:
            children = [s for s in self._statuses_by_id.values() if s["in_reply_to_id"] in frontier]
            children.sort(key=lambda s: int(s["id"]))
            descendants.extend(children)
            frontier = [c["id"] for c in children]
        return Response(200, {"ancestors": ancestors, "descendants": descendants})

    def _pin(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        if status is None or "pinned" not in status:
            return _error(404)
        pinned = [s for s in self.statuses if s.get("pinned")]
        if not status["pinned"] and len(pinned) >= 5:
            return _error(
                422, "Validation failed: You have already pinned the maximum number of posts"
            )
        status["pinned"] = True
        return Response(200, status)

    def _unpin(self, req: HttpRequest, status_id: str) -> Response:
        status = self._statuses_by_id.get(status_id)
        if status is None or "pinned" not in status:
            return _error(404)
        status["pinned"] = False
        return Response(200, status)

    # scheduled statuses

    def _find_scheduled(self, scheduled_id: str) -> dict[str, Any] | None:
        return next((s for s in self.scheduled_statuses if s["id"] == scheduled_id), None)

    def _list_scheduled(self, req: HttpRequest) -> Response:
        """Newest first, paginated with ``max_id`` and a ``Link: rel="next"`` header."""
        ordered = sorted(self.scheduled_statuses, key=lambda s: int(s["id"]), reverse=True)
        max_id = self._id_param(req, "max_id")
        if max_id is not None:
            ordered = [s for s in ordered if int(s["id"]) < max_id]
        limit = self._limit(req, 20, 40)
        page = ordered[:limit]
        headers: dict[str, str] = {}
        if page and len(ordered) > limit:
            query = urlencode([("limit", str(limit)), ("max_id", page[-1]["id"])])
            headers["Link"] = f'<{self.url}/api/v1/scheduled_statuses?{query}>; rel="next"'
        return Response(200, page, headers)

    def _get_scheduled(self, req: HttpRequest, scheduled_id: str) -> Response:
        found = self._find_scheduled(scheduled_id)
        return Response(200, found) if found else _error(404)

    def _put_scheduled(self, req: HttpRequest, scheduled_id: str) -> Response:
        found = self._find_scheduled(scheduled_id)
        if found is None:
            return _error(404)
        raw = req.body.get("scheduled_at")
        if raw:
            try:
                when = parse_iso(str(raw))
            except ValueError:
                return _error(422, "Validation failed: Scheduled at is invalid")
            error = self._check_schedule(when, self.now(), exclude=scheduled_id)
            if error is not None:
                return error
            found["scheduled_at"] = iso(when)
        return Response(200, found)

    def _delete_scheduled(self, req: HttpRequest, scheduled_id: str) -> Response:
        found = self._find_scheduled(scheduled_id)
        if found is None:
            return _error(404)
        self.scheduled_statuses.remove(found)
        return Response(200, {})

    # media

    def _post_media(self, req: HttpRequest) -> Response:
        upload = req.files.get("file")
        if upload is None:
            return _error(422, "Validation failed: File can't be blank")
        description = req.body.get("description")
        now = self.now()
        media_id = self._ids.next(now)
        mime = upload.content_type or "application/octet-stream"
        entity = media_entity(
            media_id=media_id,
            base_url=self.url,
            filename=upload.filename or "file",
            mime=mime,
            data=upload.data,
            description=str(description) if description is not None else None,
            focus=str(req.body["focus"]) if req.body.get("focus") else None,
        )
        self.media[media_id] = entity
        self.media_files[media_id] = upload.data
        return Response(200, entity)

    def _get_media(self, req: HttpRequest, media_id: str) -> Response:
        media = self.media.get(media_id)
        return Response(200, media) if media else _error(404)

    def _put_media(self, req: HttpRequest, media_id: str) -> Response:
        media = self.media.get(media_id)
        if media is None:
            return _error(404)
        if "description" in req.body:
            media["description"] = req.body["description"]
        return Response(200, media)

    def _media_file(self, req: HttpRequest, media_id: str) -> Response:
        data = self.media_files.get(media_id)
        if data is None:
            return _error(404)
        return Response(200, data, content_type="application/octet-stream")

    # notifications

    @staticmethod
    def _limit(req: HttpRequest, default: int, maximum: int) -> int:
        try:
            value = int(str(req.query.get("limit", default)))
        except ValueError:
            value = default
        return max(1, min(value, maximum))

    @staticmethod
    def _id_param(req: HttpRequest, name: str) -> int | None:
        value = req.query.get(name)
        if value in (None, ""):
            return None
        try:
            return int(str(value))
        except ValueError:
            return None

    def _list_notifications(self, req: HttpRequest) -> Response:
        from bisect import bisect_left, bisect_right

        limit = self._limit(req, 40, 80)
        types = {str(t) for t in _as_list(req.query.get("types"))}
        exclude = {str(t) for t in _as_list(req.query.get("exclude_types"))}
        max_id = self._id_param(req, "max_id")
        since_id = self._id_param(req, "since_id")
        min_id = self._id_param(req, "min_id")
        ids = self._notification_ids
        lo = bisect_right(ids, max(since_id or 0, min_id or 0)) if (since_id or min_id) else 0
        hi = bisect_left(ids, max_id) if max_id is not None else len(ids)

        def wanted(n: dict[str, Any]) -> bool:
            return (not types or n["type"] in types) and n["type"] not in exclude

        page: list[dict[str, Any]] = []
        if min_id is not None:
            for index in range(lo, hi):
                n = self.notifications[index]
                if wanted(n):
                    page.append(n)
                    if len(page) >= limit:
                        break
            page.reverse()
        else:
            for index in range(hi - 1, lo - 1, -1):
                n = self.notifications[index]
                if wanted(n):
                    page.append(n)
                    if len(page) >= limit:
                        break
        headers: dict[str, str] = {}
        if page:
            links = []
            extra: list[tuple[str, str]] = []
            if "limit" in req.query:
                extra.append(("limit", str(req.query["limit"])))
            extra.extend(("types[]", t) for t in sorted(types))
            extra.extend(("exclude_types[]", t) for t in sorted(exclude))
            base = f"{self.url}/api/v1/notifications?"
            if len(page) == limit:
                links.append(
                    f'<{base}{urlencode([*extra, ("max_id", page[-1]["id"])])}>; rel="next"'
                )
            links.append(f'<{base}{urlencode([*extra, ("min_id", page[0]["id"])])}>; rel="prev"')
            headers["Link"] = ", ".join(links)
        return Response(200, page, headers)

    def _find_notification(self, notification_id: str) -> dict[str, Any] | None:
        from bisect import bisect_left

        try:
            key = int(notification_id)
        except ValueError:
            return None
        index = bisect_left(self._notification_ids, key)
        if index < len(self._notification_ids) and self._notification_ids[index] == key:
            return self.notifications[index]
        return None

    def _get_notification(self, req: HttpRequest, notification_id: str) -> Response:
        found = self._find_notification(notification_id)
        return Response(200, found) if found else _error(404)

    def _dismiss_notification(self, req: HttpRequest, notification_id: str) -> Response:
        found = self._find_notification(notification_id)
        if found is None:
            return _error(404)
        index = self.notifications.index(found)
        del self.notifications[index]
        del self._notification_ids[index]
        return Response(200, {})

    def _clear_notifications(self, req: HttpRequest) -> Response:
        self.notifications.clear()
        self._notification_ids.clear()
        return Response(200, {})

    # markers

    def _get_markers(self, req: HttpRequest) -> Response:
        wanted = [str(t) for t in _as_list(req.query.get("timeline"))]
        out = {k: v for k, v in self.markers.items() if not wanted or k in wanted}
        return Response(200, out)

    def _post_markers(self, req: HttpRequest) -> Response:
        out: dict[str, Any] = {}
        for timeline in ("home", "notifications"):
            spec = req.body.get(timeline)
            if not isinstance(spec, dict) or spec.get("last_read_id") in (None, ""):
                continue
            previous = self.markers.get(timeline)
            marker = {
                "last_read_id": str(spec["last_read_id"]),
                "version": (previous["version"] + 1) if previous else 1,
                "updated_at": iso(self.now()),
            }
            self.markers[timeline] = marker
            out[timeline] = marker
        return Response(200, out)
