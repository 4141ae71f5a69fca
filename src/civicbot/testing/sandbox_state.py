"""Shared state of the sandbox instance: configuration, recorded traffic, error helpers."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from civicbot.testing.sandbox_entities import (
    extract_mentions,
    extract_tags,
    iso_date,
    status_entity,
    text_to_html,
)
from civicbot.testing.sandbox_http import HttpRequest, RequestRecord, Response, SandboxHTTPServer
from civicbot.testing.sandbox_profiles import (
    ProfileIds,
    SandboxProfile,
    StreamingFailure,
    id_sort_key,
    profile_named,
)
from civicbot.testing.sandbox_streams import StreamConnection, StreamEvent

__all__ = [
    "APPLICATION",
    "ERROR_MESSAGES",
    "Route",
    "SandboxState",
    "StreamingMode",
    "as_list",
    "error_response",
    "truthy",
]

StreamingMode = Literal["sse", "websocket", "both", "none"]

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

Route = tuple[str, re.Pattern[str], Callable[..., Response]]


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("1", "true", "t", "on", "yes")


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def error_response(status: int, message: str | None = None) -> Response:
    return Response(status, {"error": message or ERROR_MESSAGES.get(status, "Error")})


class SandboxState:
    """Configuration and recorded state of a sandbox, plus the helpers every part shares.

    :class:`~civicbot.testing.sandbox.SandboxInstance` combines this with the dispatch,
    resident and REST endpoint mixins, and supplies the route table (:meth:`_build_routes`).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_token: str = "sandbox-token",
        max_characters: int = 500,
        heartbeat_interval: float = 15.0,
        streaming: StreamingMode | None = None,
        profile: str | SandboxProfile = "mastodon",
        streaming_failure: StreamingFailure | None = None,
        account_username: str = "ville",
        domain: str = "sandbox.example",
        rate_limit: int = 300,
        rate_limit_window: float = 300.0,
        enforce_rate_limit: bool = False,
        echo_own_statuses: bool = True,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.access_token = access_token
        self.max_characters = max_characters
        self.heartbeat_interval = heartbeat_interval
        #: which server this sandbox behaves like (``mastodon``, ``gotosocial``, ``snac``)
        self.profile: SandboxProfile = (
            profile if isinstance(profile, SandboxProfile) else profile_named(profile))
        self.streaming: StreamingMode = streaming or self.profile.streaming
        #: how the advertised streaming URL fails: ``tls`` (``wss://`` on plain http),
        #: ``refused`` (nothing listens there), ``close`` (accepted, then closed at once)
        self.streaming_failure: StreamingFailure | None = streaming_failure
        self._refused_port = _closed_port(host) if streaming_failure == "refused" else 0
        self.account_username = account_username
        self.domain = domain
        self.rate_limit = rate_limit
        self.rate_limit_window = rate_limit_window
        #: Answer 429 once ``rate_limit`` requests were made in the window (as Mastodon does);
        #: by default the headers count down but requests are never refused.
        self.enforce_rate_limit = enforce_rate_limit
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
        self._ids = ProfileIds(self.profile.ids)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._streams: list[StreamConnection] = []
        self._statuses_by_id: dict[str, dict[str, Any]] = {}
        self._accounts_by_id: dict[str, dict[str, Any]] = {}
        self._accounts_by_acct: dict[str, dict[str, Any]] = {}
        self._notification_ids: list[tuple[int, int, str]] = []
        self._idempotency: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self._faults: list[tuple[list[int], int, str]] = []
        self._rate_limited: list[tuple[int, float]] = []
        self._refuse: list[tuple[int, int]] = []
        self._revoked = False
        self._rl_window_start: datetime | None = None
        self._rl_count = 0
        self._bot: dict[str, Any] = {}
        self._routes: list[Route] = self._build_routes()

    def _build_routes(self) -> list[Route]:
        raise NotImplementedError("SandboxInstance supplies the route table")

    @property
    def streaming_url(self) -> str:
        """What the instance advertises (``urls.streaming_api``), broken on purpose by
        ``streaming_failure``."""
        if self.streaming_failure == "tls":
            return "wss://" + self.url.split("://", 1)[1]
        if self.streaming_failure == "refused":
            return f"ws://{self.host}:{self._refused_port}"
        return "ws://" + self.url.split("://", 1)[1]

    def local_acct(self, username: str) -> str:
        """How the server writes a local account's ``acct`` in statuses and notifications
        (snac: ``alice@host:port``; ``verify_credentials`` still says ``alice``)."""
        if self.profile.acct_with_host:
            return f"{username}@{self.url.split('://', 1)[1]}"
        return username

    @property
    def account(self) -> dict[str, Any]:
        """The bot's own account entity."""
        return self._bot

    # ------------------------------------------------------------------ shared helpers

    def _remember_account(self, account: dict[str, Any]) -> None:
        self._accounts_by_id[account["id"]] = account
        self._accounts_by_acct[account["acct"].lower()] = account

    def _bump_account(self, account: dict[str, Any], when: datetime) -> None:
        account["statuses_count"] += 1
        account["last_status_at"] = iso_date(when)

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

    @staticmethod
    def _limit(req: HttpRequest, default: int, maximum: int) -> int:
        try:
            value = int(str(req.query.get("limit", default)))
        except ValueError:
            value = default
        return max(1, min(value, maximum))

    @staticmethod
    def _id_param(req: HttpRequest, name: str) -> tuple[int, int, str] | None:
        """An id parameter as a sort key (snowflakes, ULIDs and snac's ids alike)."""
        value = req.query.get(name)
        if value in (None, ""):
            return None
        return id_sort_key(str(value))

    # ------------------------------------------------------------------ the bot posts

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
        if self.profile.forced_language is not None:
            language = self.profile.forced_language
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
            status_id=self._ids.status(now),
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


def _closed_port(host: str) -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
