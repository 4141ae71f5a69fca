"""Issue 13: idle connections to the --http endpoint are closed after a timeout and bounded
in number, so they cannot hold threads for ever."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ops_support import http_get, make_daemon, wait_until, write_config

import civicbot.http
from civicbot.daemon import Daemon
from civicbot.testing import SandboxInstance


@pytest.fixture
def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Daemon]]:
    daemons: list[Daemon] = []
    with SandboxInstance(heartbeat_interval=0.2) as sandbox:
        def make(idle: float, most: int) -> Daemon:
            monkeypatch.setattr(civicbot.http, "IDLE_TIMEOUT", idle)
            monkeypatch.setattr(civicbot.http, "MAX_CONNECTIONS", most)
            d = make_daemon(write_config(tmp_path / "cfg.yaml", single=sandbox,
                                         http="127.0.0.1:0"))
            daemons.append(d)
            d.start()
            assert d.wait_ready(10)
            return d
        try:
            yield make
        finally:
            for d in daemons:
                d.stop()


def _idle(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_an_idle_connection_is_closed_by_the_server(start: Callable[..., Daemon]) -> None:
    daemon = start(idle=0.5, most=32)
    sock = _idle(daemon.http.url)
    try:
        began = time.monotonic()
        assert sock.recv(1) == b""  # closed by the server (the old one waited for ever)
        assert time.monotonic() - began < 9
    finally:
        sock.close()
    assert http_get(f"{daemon.http.url}/healthz")[0] == 200


def test_connections_beyond_the_bound_are_refused(start: Callable[..., Daemon]) -> None:
    daemon = start(idle=30, most=4)
    sockets = [_idle(daemon.http.url) for _ in range(8)]
    try:
        wait_until(lambda: daemon.http.refused >= 4, timeout=10,
                   what="connections beyond the bound refused")
        assert 1 <= daemon.http.serving <= 4
        assert sockets[-1].recv(1) == b""  # refused: closed at once
    finally:
        for sock in sockets:
            sock.close()
    wait_until(lambda: http_get(f"{daemon.http.url}/healthz")[0] == 200, timeout=10,
               what="/healthz answers once the idle clients are gone")
