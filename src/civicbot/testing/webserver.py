"""A small web server on 127.0.0.1 for feeds in tests and in the demo (ICS, CAP, JSON...).

Routes are set per path; each can answer with a status, headers and a body, honour ETag /
Last-Modified conditional requests, fail the next N requests, stall (time out the client), or
trickle its answer one byte at a time (a slow server).
Every request is recorded, so tests can check headers such as ``key`` or ``apikey``.
"""

from __future__ import annotations

import email.utils
import hashlib
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Route:
    body: bytes
    content_type: str = "application/octet-stream"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True
    last_modified: float | None = None
    fail_next: int = 0
    fail_status: int = 500
    stall_next: int = 0
    stall_seconds: float = 5.0
    #: Seconds between two bytes of the answer (a slow server); ``trickle_headers`` trickles
    #: the status line and headers too, not only the body.
    trickle: float = 0.0
    trickle_headers: bool = False


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int


class FakeWebServer:
    """``with FakeWebServer() as web: web.add("/agenda.ics", data, "text/calendar")``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner._serve(self)

            def do_HEAD(self) -> None:
                owner._serve(self, head=True)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = self._handle_error  # type: ignore[method-assign]
        self._thread: threading.Thread | None = None

    def _handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a fetch cut at its deadline or size cap) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            ThreadingHTTPServer.handle_error(self._server, request, client_address)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeWebServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeWebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add(self, path: str, body: bytes | str, content_type: str = "application/octet-stream",
            **options: Any) -> Route:
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(body=data, content_type=content_type, **options)
        with self._lock:
            self.routes[path] = route
        return route

    def add_file(self, path: str, file: Path, content_type: str | None = None,
                 **options: Any) -> Route:
        import mimetypes

        kind = content_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return self.add(path, file.read_bytes(), kind, **options)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def _serve(self, handler: BaseHTTPRequestHandler, head: bool = False) -> None:
        parts = urlsplit(handler.path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            route = self.routes.get(parts.path)
            stall = fail = False
            if route is not None and route.stall_next > 0:
                route.stall_next -= 1
                stall = True
            elif route is not None and route.fail_next > 0:
                route.fail_next -= 1
                fail = True
        status = 404 if route is None else (route.fail_status if fail else route.status)
        body = b'{"error": "not found"}' if route is None else route.body
        extra: dict[str, str] = {}
        if route is not None and not fail:
            extra.update(route.headers)
            if route.etag:
                tag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
                extra["ETag"] = tag
                if headers.get("if-none-match") == tag:
                    status, body = 304, b""
            if route.last_modified is not None:
                extra["Last-Modified"] = email.utils.formatdate(route.last_modified, usegmt=True)
                since = headers.get("if-modified-since")
                if since and status == 200:
                    parsed = email.utils.parsedate_to_datetime(since).timestamp()
                    if parsed >= int(route.last_modified):
                        status, body = 304, b""
        if fail:
            body = b"Internal Server Error"
        self.requests.append(Request("HEAD" if head else "GET", parts.path,
                                     parse_qs(parts.query), headers, status))
        if stall and route is not None:
            time.sleep(route.stall_seconds)
        if route is not None and route.trickle > 0 and not fail:
            self._trickle(handler, route, status, body, extra, head)
            return
        handler.send_response(status)
        handler.send_header("Content-Type", route.content_type if route and not fail
                            else "text/plain")
        handler.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            handler.send_header(key, value)
        handler.end_headers()
        if not head and status != 304:
            handler.wfile.write(body)

    @staticmethod
    def _trickle(handler: BaseHTTPRequestHandler, route: Route, status: int, body: bytes,
                 extra: dict[str, str], head: bool) -> None:
        lines = [f"HTTP/1.1 {status} OK", f"Content-Type: {route.content_type}",
                 f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in extra.items())]
        start = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = b"" if head or status == 304 else body
        if not route.trickle_headers:
            handler.wfile.write(start)
            handler.wfile.flush()
            start = b""
        handler.close_connection = True
        try:
            data = start + payload
            for i in range(len(data)):
                handler.wfile.write(data[i:i + 1])
                handler.wfile.flush()
                time.sleep(route.trickle)
        except OSError:  # the client gave up
            pass
