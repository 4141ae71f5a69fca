"""Request dispatch for the sandbox instance: auth, faults, rate limits, routing, streams."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta

from civicbot.testing.sandbox_http import (
    HttpRequest,
    RequestRecord,
    Response,
    SandboxRequestHandler,
)
from civicbot.testing.sandbox_state import SandboxState, error_response
from civicbot.testing.sandbox_streams import StreamConnection, websocket_accept_key

__all__ = ["DispatchMixin"]

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


class DispatchMixin(SandboxState):
    """Request dispatch: auth, injected faults, rate limits, routing, SSE/WebSocket streams."""

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
            return error_response(401, "The access token is invalid")
        if token != self.access_token:
            return error_response(401, "The access token is invalid")
        if self._revoked:
            return error_response(401, "The access token was revoked")
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
            return error_response(404, "Record not found")
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
            if self.enforce_rate_limit and path.startswith("/api/"):
                start = self._rl_window_start
                window = timedelta(seconds=self.rate_limit_window)
                if start is not None and self.now() < start + window \
                        and self._rl_count >= self.rate_limit:
                    return Response(
                        429,
                        {"error": "Too many requests"},
                        {
                            "X-RateLimit-Limit": str(self.rate_limit),
                            "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": (start + window).strftime(
                                "%Y-%m-%dT%H:%M:%S.%fZ"),
                        },
                    )
            for fault in self._faults:
                counter, status, prefix = fault
                if path.startswith(prefix) and counter[0] > 0:
                    counter[0] -= 1
                    if counter[0] == 0:
                        self._faults.remove(fault)
                    return error_response(status)
        func, args = route
        try:
            with self._lock:
                return func(req, *args)
        except Exception as exc:  # a sandbox bug must not hang the client
            return error_response(500, f"sandbox error: {exc!r}")

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
                or (self._rl_count >= self.rate_limit and not self.enforce_rate_limit)
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
            self._stream_error(handler, req, error_response(404, "Not found"))
            return
        with self._lock:
            auth = self._auth_error(req, public=False, websocket=upgrade)
            if auth is None and self._refuse:
                count, status = self._refuse[0]
                if count <= 1:
                    self._refuse.pop(0)
                else:
                    self._refuse[0] = (count - 1, status)
                auth = error_response(status)
        if auth is not None:
            self._stream_error(handler, req, auth)
            return
        if self.streaming_failure == "close":
            self._close_at_once(handler, req, upgrade)
            return
        if upgrade:
            self._serve_websocket(handler, req)
        else:
            self._serve_sse(handler, req)

    def _close_at_once(
        self, handler: SandboxRequestHandler, req: HttpRequest, upgrade: bool
    ) -> None:
        """A stream accepted then closed at once (a proxy that does not pass streams)."""
        self._record(req, 101 if upgrade else 200)
        with self._lock:
            self.total_stream_connects += 1
            self._changed.notify_all()
        if upgrade:
            key = req.headers.get("Sec-WebSocket-Key") or ""
            head = handler.head_bytes(101, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                            ("Sec-WebSocket-Accept", websocket_accept_key(key))])
            data = head + b"\x88\x00"  # a close frame
        else:
            head = handler.head_bytes(200, [("Content-Type", "text/event-stream"),
                                            ("Transfer-Encoding", "chunked"),
                                            ("Connection", "close")])
            data = head + b"0\r\n\r\n"
        with contextlib.suppress(OSError):
            handler.connection.sendall(data)

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
            self._stream_error(handler, req, error_response(404, "Unknown stream type"))
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
            self._stream_error(handler, req, error_response(400, "Missing Sec-WebSocket-Key"))
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

    def _stream_closed(self, conn: StreamConnection) -> None:
        with self._lock:
            if conn in self._streams:
                self._streams.remove(conn)
            self._changed.notify_all()
