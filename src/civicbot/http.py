"""The health and metrics endpoint of ``civicbot run --http 127.0.0.1:9310``.

* ``GET /healthz`` → ``200 {"status": "ok", ...}`` when every account's stream is connected
  or polling and its scheduler runs; otherwise ``503 {"status": "unhealthy", "reasons": [...]}``.
* ``GET /metrics`` → the Prometheus text format (see :mod:`civicbot.metrics`).

A stdlib :class:`~http.server.ThreadingHTTPServer` on a daemon thread. It binds to loopback;
another address is refused unless ``CIVICBOT_HTTP_ALLOW_REMOTE=1`` is set (the endpoint has
no authentication: put it behind a reverse proxy or a firewall). A connection idle for
``IDLE_TIMEOUT`` seconds is closed, and at most ``MAX_CONNECTIONS`` are served at once (more
are closed at once): idle clients cannot pile up threads.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from civicbot.errors import ConfigError
from civicbot.metrics import make_registry, render

if TYPE_CHECKING:
    from civicbot.daemon import Daemon

ALLOW_REMOTE_ENV = "CIVICBOT_HTTP_ALLOW_REMOTE"
#: Seconds a connection may stay silent before it is closed, and most connections at once.
IDLE_TIMEOUT = 10.0
MAX_CONNECTIONS = 32


def parse_address(address: str) -> tuple[str, int]:
    """``"127.0.0.1:9310"``, ``"[::1]:9310"``, ``":9310"`` (loopback) → (host, port)."""
    text = address.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"http: expected host:port such as 127.0.0.1:9310, got {address!r}")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], owner: HealthServer) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.owner = owner
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr

    def process_request(self, request: Any, client_address: Any) -> None:
        # one thread per connection, at most max_connections of them: beyond, refused
        if not self.owner.slots.acquire(blocking=False):
            self.owner.refused += 1
            if self.owner.refused == 1 or self.owner.refused % 1000 == 0:
                self.owner.log.warning("health endpoint: too many open connections; refused",
                                       limit=self.owner.max_connections,
                                       refused=self.owner.refused)
            self.shutdown_request(request)
            return
        self.owner.count_serving(+1)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.owner.count_serving(-1)
            self.owner.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.owner.count_serving(-1)
            self.owner.slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "civicbot"

    def setup(self) -> None:
        # an idle (or one byte a minute) connection is closed after idle_timeout seconds
        self.timeout = self.server.owner.idle_timeout  # type: ignore[misc]
        super().setup()

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, *, head: bool) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        try:
            if path == "/healthz":
                status, body, ctype = owner.healthz()
            elif path == "/metrics":
                status, body, ctype = 200, render(owner.registry), CONTENT_TYPE_PLAIN_0_0_4
            else:
                status, ctype = 404, "application/json"
                body = json.dumps({"error": "not found", "paths": ["/healthz", "/metrics"]}
                                  ).encode()
        except Exception as exc:  # never let a scrape kill the thread silently
            owner.log.error("health endpoint failed", path=path, exc_info=exc)
            status, ctype = 500, "application/json"
            body = json.dumps({"error": type(exc).__name__}).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # scrapes are not logged
        pass


class HealthServer:
    """Serves ``/healthz`` and ``/metrics`` for one :class:`~civicbot.daemon.Daemon`."""

    def __init__(self, daemon: Daemon, address: str, *, allow_remote: bool | None = None
                 ) -> None:
        self.daemon = daemon
        self.host, self.port = parse_address(address)
        self.log = structlog.get_logger("civicbot.http").bind(account="*")
        if allow_remote is None:
            allow_remote = os.environ.get(ALLOW_REMOTE_ENV, "") in {"1", "true", "yes"}
        if not is_loopback(self.host):
            if not allow_remote:
                raise ConfigError(
                    f"http: refusing to serve /healthz and /metrics on {self.host} (not a "
                    f"loopback address; the endpoint has no authentication). Use 127.0.0.1, "
                    f"or set {ALLOW_REMOTE_ENV}=1 to allow it.")
            self.log.warning("health endpoint reachable from other hosts", host=self.host)
        self.registry = make_registry(daemon)
        self.idle_timeout = IDLE_TIMEOUT
        self.max_connections = MAX_CONNECTIONS
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.refused = 0
        #: Connections being served now (at most ``max_connections``).
        self.serving = 0
        self._serving_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def count_serving(self, change: int) -> None:
        with self._serving_lock:
            self.serving += change

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> HealthServer:
        try:
            server = _Server((self.host, self.port), self)
        except OSError as exc:
            raise ConfigError(f"http: cannot listen on {self.host}:{self.port}: "
                              f"{exc.strerror or exc}") from exc
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        daemon=True, name="civicbot-http")
        self._thread.start()
        self.log.info("health endpoint listening", url=self.url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(2.0)

    def healthz(self) -> tuple[int, bytes, str]:
        ok, reasons = self.daemon.healthy()
        accounts = self.daemon.health_report()
        body = {"status": "ok" if ok else "unhealthy", "reasons": reasons, "accounts": accounts}
        return (200 if ok else 503, json.dumps(body, ensure_ascii=False).encode(),
                "application/json")


def make_server(daemon: Daemon, address: str) -> HealthServer:
    """The endpoint for ``--http``: the desk (with ``/healthz`` and ``/metrics``) when the
    config has a ``desk:`` section, else the small stdlib server. The web stack is imported
    only in the first case."""
    if daemon.config.core.desk is not None:
        from civicbot.desk.server import DeskServer

        return DeskServer(daemon, address)
    return HealthServer(daemon, address)
