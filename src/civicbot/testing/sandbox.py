"""A fake Mastodon instance on 127.0.0.1 that speaks the real REST and streaming wire format.

The real, unmodified Mastodon.py client works against it::

    with SandboxInstance() as sandbox:
        api = Mastodon(access_token=sandbox.access_token, api_base_url=sandbox.url)
        api.status_post("Bonjour !")
        sandbox.inject_mention("quand ouvre la mairie ?")

Entities follow the shapes of a real Mastodon 4.x server (``tests/fixtures/mastodon``).
Streaming is served on the same port, both as server-sent events
(``/api/v1/streaming/user``) and as WebSocket (``/api/v1/streaming``).

This module is the facade: lifecycle, waits, fault injection and the route table. The rest of
:class:`SandboxInstance` is assembled from mixins:

- ``sandbox_state``: configuration, recorded state, shared helpers (:class:`SandboxState`);
- ``sandbox_residents``: ``inject_mention``, ``inject_status``, ``inject_notification``...;
- ``sandbox_dispatch``: auth, injected faults, rate limits, routing, SSE/WebSocket streams;
- ``sandbox_rest_statuses`` / ``sandbox_rest_scheduled``: statuses, media, scheduled statuses;
- ``sandbox_rest_accounts``: instance, accounts, timelines, notifications, markers.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from civicbot.testing.sandbox_dispatch import DispatchMixin
from civicbot.testing.sandbox_entities import account_entity
from civicbot.testing.sandbox_http import RequestRecord, Response, SandboxHTTPServer
from civicbot.testing.sandbox_residents import ResidentsMixin
from civicbot.testing.sandbox_rest_accounts import AccountsRestMixin
from civicbot.testing.sandbox_rest_statuses import StatusesRestMixin
from civicbot.testing.sandbox_state import Route
from civicbot.testing.sandbox_state import StreamingMode as StreamingMode

__all__ = ["RequestRecord", "SandboxInstance"]


class SandboxInstance(ResidentsMixin, DispatchMixin, StatusesRestMixin, AccountsRestMixin):
    """A fake Mastodon server for tests and benchmarks (see module docstring)."""

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
            account_id=self._ids.account(created, self.account_username),
            username=self.account_username,
            acct=self.local_acct(self.account_username),
            base_url=self.url,
            display_name=self.account_username.capitalize(),
            bot=True,
            note="",
            created_at=created,
        )
        self._remember_account(self._bot)
        if self.profile.acct_with_host:  # residents may still write @ville
            self._accounts_by_acct[self.account_username.lower()] = self._bot
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
