"""Daemons sharing a PostgreSQL state, in this process: the status command, ``/metrics``,
``/healthz``, a clean hand-over, and a database that goes down and comes back."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ops_support import (
    EchoPlugin,
    account_block,
    http_get,
    http_json,
    make_daemon,
    replies_to,
    wait_until,
    write_config,
)

from civicbot.cli import main
from civicbot.daemon import Daemon
from civicbot.testing import SandboxInstance

pytest.importorskip("psycopg")


@pytest.fixture
def sandboxes() -> Iterator[dict[str, SandboxInstance]]:
    made = {name: SandboxInstance(heartbeat_interval=0.2, account_username=name).start()
            for name in ("ville", "musee")}
    yield made
    for sandbox in made.values():
        sandbox.stop()


def _config(tmp_path: Path, state: str, sandboxes: dict[str, SandboxInstance]) -> Path:
    return write_config(tmp_path / "cfg.yaml", [account_block(n, s) for n, s in sandboxes.items()],
                        state=state, http="127.0.0.1:0", cluster={"lease_ttl": "2s"})


def _daemon(cfg: Path, stack: list[Daemon]) -> Daemon:
    daemon = make_daemon(cfg, [EchoPlugin()])
    stack.append(daemon)
    daemon.start()
    return daemon


def _names(daemon: Daemon) -> list[str]:
    return sorted(b.name for b in daemon.bots)


def test_status_metrics_and_a_clean_hand_over(civicbot_postgres_url: str, tmp_path: Path,
                                               sandboxes: dict[str, SandboxInstance],
                                               capsys: pytest.CaptureFixture[str]):
    cfg = _config(tmp_path, civicbot_postgres_url, sandboxes)
    daemons: list[Daemon] = []
    try:
        first = _daemon(cfg, daemons)
        assert first.leases is not None
        wait_until(lambda: _names(first) == ["musee", "ville"], 10, "first daemon serving both")
        assert first.wait_ready(10)
        assert main(["status", "--config", str(cfg)]) == 0
        out = capsys.readouterr().out
        assert out.count(f"lease: held by {socket.gethostname()} pid {os.getpid()} since") == 2
        assert main(["status", "--config", str(cfg), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert {item["account"]: item["lease"]["pid"] for item in report} == \
            {"ville": os.getpid(), "musee": os.getpid()}
        wait_until(lambda: len(first.leases.renew_seconds) >= 2, 5, "two heartbeats")
        _, metrics, _ = http_get(f"{first.http.url}/metrics")
        assert "civicbot_leases_held 2.0" in metrics
        assert "civicbot_lease_takeovers_total 0.0" in metrics
        assert 'civicbot_lease_renew_seconds{which="last"}' in metrics
        # a second daemon joins: one account each, and /healthz speaks for its own only
        second = _daemon(cfg, daemons)
        wait_until(lambda: len(_names(first)) == 1 and len(_names(second)) == 1, 10,
                   "one account each")
        wait_until(lambda: http_json(f"{second.http.url}/healthz")[0] == 200, 10,
                   "the second daemon healthy")
        _, body = http_json(f"{second.http.url}/healthz")
        assert sorted(body["accounts"]) == _names(second)
        mine = _names(second)[0]
        note = sandboxes[mine].inject_mention("@bot bonjour")
        wait_until(lambda: replies_to(sandboxes[mine]).get(str(note["status"]["id"])) == 1, 10,
                   "the second daemon answering")
        # a clean stop hands the accounts over at once (released, not taken over)
        first.stop()
        wait_until(lambda: _names(second) == ["musee", "ville"], 5, "hand-over")
        assert second.leases is not None and second.leases.takeovers == 0
    finally:
        for daemon in daemons:
            daemon.stop()


def test_database_down_no_lease_nothing_posted_then_resumes(tmp_path: Path,
                                                            sandboxes: dict[str, Any]):
    from civicbot.testing.postgres import ThrowawayPostgres, find_pg_bin

    if find_pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not found")
    daemons: list[Daemon] = []
    with ThrowawayPostgres() as pg:
        cfg = _config(tmp_path, pg.create_database(), sandboxes)
        try:
            daemon = _daemon(cfg, daemons)
            wait_until(lambda: _names(daemon) == ["musee", "ville"], 10, "serving both")
            assert daemon.wait_ready(10)
            pg.halt()
            # the leases run out: the bots stop, and mentions wait on the server
            wait_until(lambda: _names(daemon) == [], 10, "bots stopped without a lease")
            note = sandboxes["ville"].inject_mention("@bot pendant la panne")
            status, _ = http_json(f"{daemon.http.url}/healthz")
            assert status == 200  # nothing held, nothing failing: the daemon waits
            assert replies_to(sandboxes["ville"]) == {}
            time.sleep(6)  # a longer outage: the pool's reconnection attempts give up meanwhile
            assert replies_to(sandboxes["ville"]) == {} and _names(daemon) == []
            pg.resume()
            wait_until(lambda: _names(daemon) == ["musee", "ville"], 15, "leases taken again")
            wait_until(lambda: replies_to(sandboxes["ville"]) == {str(note["status"]["id"]): 1},
                       15, "the mention of the outage answered once")
        finally:
            for daemon in daemons:
                daemon.stop()
