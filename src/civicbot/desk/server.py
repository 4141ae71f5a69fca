"""Serves the desk with uvicorn on a thread, next to ``/healthz`` and ``/metrics``.

Chosen by :func:`civicbot.http.make_server` when the config has a ``desk:`` section; the
endpoint's contracts (paths, status codes, bodies, loopback only unless allowed) are those of
:class:`~civicbot.http.HealthServer`, which this class extends.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from civicbot.errors import ConfigError
from civicbot.http import HealthServer
from civicbot.metrics import render

if TYPE_CHECKING:
    from civicbot.daemon import Daemon


class DeskServer(HealthServer):
    """``/`` (the desk), ``/healthz`` and ``/metrics`` served by uvicorn."""

    def __init__(self, daemon: Daemon, address: str, *, allow_remote: bool | None = None
                 ) -> None:
        super().__init__(daemon, address, allow_remote=allow_remote)
        self._uvicorn: Any = None
        self._desk_thread: threading.Thread | None = None

    def _routes(self) -> list[Route]:
        from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

        def healthz(request: Request) -> Response:
            status, body, ctype = self.healthz()
            return Response(body, status_code=status, media_type=ctype,
                            headers={"Cache-Control": "no-store"})

        def metrics(request: Request) -> Response:
            return Response(render(self.registry), media_type=CONTENT_TYPE_PLAIN_0_0_4,
                            headers={"Cache-Control": "no-store"})

        return [Route("/healthz", healthz, methods=["GET", "HEAD"]),
                Route("/metrics", metrics, methods=["GET", "HEAD"])]

    def start(self) -> DeskServer:
        import uvicorn

        from civicbot.desk.app import make_app

        desk = self.daemon.config.core.desk
        assert desk is not None
        app = make_app(self.daemon, desk, extra_routes=self._routes())
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"http: cannot listen on {self.host}:{self.port}: "
                              f"{exc.strerror or exc}") from exc
        sock.listen(128)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                proxy_headers=True, server_header=False)
        server = uvicorn.Server(config)
        self._uvicorn = server

        def serve() -> None:
            asyncio.run(server.serve(sockets=[sock]))

        self._desk_thread = threading.Thread(target=serve, daemon=True, name="civicbot-desk")
        self._desk_thread.start()
        self.log.info("desk listening", url=self.url)
        return self

    def stop(self) -> None:
        server, self._uvicorn = self._uvicorn, None
        if server is None:
            return
        server.should_exit = True
        if self._desk_thread is not None:
            self._desk_thread.join(5.0)
