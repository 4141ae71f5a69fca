"""/healthz and /metrics over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from ops_support import (
    BulletinPlugin,
    EchoPlugin,
    FailingPlugin,
    account_block,
    http_get,
    http_json,
    make_daemon,
    wait_until,
    write_config,
)
from prometheus_client.parser import text_string_to_metric_families

from civicbot.daemon import Daemon
from civicbot.errors import ConfigError
from civicbot.http import HealthServer
from civicbot.testing import SandboxInstance


@pytest.fixture
def pair() -> Iterator[tuple[SandboxInstance, SandboxInstance]]:
    with ExitStack() as stack:
        yield (stack.enter_context(SandboxInstance(heartbeat_interval=0.2, account_username="ville")),
               stack.enter_context(SandboxInstance(heartbeat_interval=0.2,
                                                   account_username="musee")))


@pytest.fixture
def daemon(tmp_path: Path, pair: tuple[SandboxInstance, SandboxInstance]) -> Iterator[Daemon]:
    ville, musee = pair
    cfg = write_config(tmp_path / "cfg.yaml", [account_block("ville", ville),
                                               account_block("musee", musee)],
                       http="127.0.0.1:0")
    d = make_daemon(cfg, [EchoPlugin(), FailingPlugin(), BulletinPlugin()])
    d.start()
    assert d.wait_ready(10)
    try:
        yield d
    finally:
        d.stop()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
           **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_healthz_ok_when_every_stream_is_connected(daemon: Daemon) -> None:
    status, body = http_json(f"{daemon.http.url}/healthz")
    assert status == 200
    assert body["status"] == "ok" and body["reasons"] == []
    assert body["accounts"]["ville"]["ok"] is True
    assert body["accounts"]["musee"]["stream"]["state"] == "connected"
    assert body["accounts"]["musee"]["stream"]["transport"] == "sse"


def test_healthz_503_while_a_stream_is_refused_then_200_again(
        daemon: Daemon, pair: tuple[SandboxInstance, SandboxInstance]) -> None:
    musee = pair[1]
    musee.refuse_streams(6)
    musee.drop_streams()
    url = f"{daemon.http.url}/healthz"
    seen: list[tuple[int, object]] = []

    def unhealthy() -> bool:
        seen.append(http_json(url))
        return seen[-1][0] == 503

    wait_until(unhealthy, 10, "a 503")
    _status, body = seen[-1]
    assert isinstance(body, dict) and body["status"] == "unhealthy"
    [reason] = body["reasons"]
    assert reason in {"musee: stream reconnecting", "musee: stream backoff",
                      "musee: stream connecting"}
    assert body["accounts"]["ville"]["ok"] is True
    assert body["accounts"]["musee"]["ok"] is False
    wait_until(lambda: http_json(url)[0] == 200, 10, "healthy again")
    assert daemon.bot("musee").stream is not None
    assert daemon.bot("musee").stream.reconnects == 1


def test_healthz_503_when_the_instance_is_down(
        daemon: Daemon, pair: tuple[SandboxInstance, SandboxInstance]) -> None:
    pair[0].stop()
    url = f"{daemon.http.url}/healthz"
    wait_until(lambda: http_json(url)[0] == 503, 10, "a 503")
    _, body = http_json(url)
    assert [r.split(":")[0] for r in body["reasons"]] == ["ville"]
    assert body["reasons"][0].startswith("ville: stream ")


def test_metrics_report_live_values_by_account(
        daemon: Daemon, pair: tuple[SandboxInstance, SandboxInstance]) -> None:
    ville, musee = pair
    ville.inject_mention("un")
    ville.inject_mention("deux")
    ville.wait_for_statuses(2)
    ville.inject_notification("favourite")
    musee.inject_mention("trois")
    musee.wait_for_statuses(1)
    for bot in daemon.bots:
        assert bot.stream is not None and bot.stream.dispatcher.wait_idle(5)
    bot = daemon.bot("musee")
    bot.scheduler.run(bot.scheduler.get("alert"), bot.now())  # a post that is not a reply
    musee.drop_streams()
    musee.wait_for_stream_connects(2)
    wait_until(lambda: bot.stream is not None and bot.stream.state == "connected", 5)

    status, text, headers = http_get(f"{daemon.http.url}/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    s = _samples(text)
    assert _value(s, "civicbot_posts_sent_total", account="ville") == 2
    assert _value(s, "civicbot_posts_sent_total", account="musee") == 2
    assert _value(s, "civicbot_replies_sent_total", account="ville") == 2
    assert _value(s, "civicbot_replies_sent_total", account="musee") == 1
    assert _value(s, "civicbot_notifications_handled_total", account="ville") == 3
    assert _value(s, "civicbot_notifications_failed_total", account="ville") == 3
    assert _value(s, "civicbot_plugin_errors_total", account="ville",
                  plugin="FailingPlugin") == 3
    assert _value(s, "civicbot_plugin_errors_total", account="musee",
                  plugin="FailingPlugin") == 1
    assert _value(s, "civicbot_publish_errors_total", account="ville") == 0
    assert _value(s, "civicbot_stream_reconnects_total", account="ville") == 0
    assert _value(s, "civicbot_stream_reconnects_total", account="musee") == 1
    assert _value(s, "civicbot_stream_state", account="musee", state="connected") == 1
    assert _value(s, "civicbot_stream_state", account="musee", state="backoff") == 0
    assert _value(s, "civicbot_account_up", account="ville") == 1
    assert _value(s, "civicbot_dispatch_queue_depth", account="ville") == 0
    assert _value(s, "civicbot_job_runs_total", account="musee") == 1
    assert 0 <= _value(s, "civicbot_stream_lag_seconds", account="ville") < 2
    next_bulletin = _value(s, "civicbot_job_next_run_timestamp_seconds", account="ville",
                           job="bulletin")
    expected = daemon.bot("ville").scheduler.next_run_times()["bulletin"]
    assert expected is not None and next_bulletin == expected.timestamp()
    assert time.time() < next_bulletin <= time.time() + 3600
    assert _value(s, "process_resident_memory_bytes") > 10_000_000
    assert 0 < _value(s, "civicbot_daemon_ready_seconds") < 5


def test_metrics_of_a_failed_account(tmp_path: Path,
                                     pair: tuple[SandboxInstance, SandboxInstance]) -> None:
    ville, musee = pair
    cfg = write_config(tmp_path / "cfg.yaml", [
        account_block("ville", ville),
        {"name": "musee", "mastodon": {"api_base_url": musee.url, "access_token": "révoqué"}}])
    d = make_daemon(cfg, http="127.0.0.1:0")
    d.start()
    try:
        assert d.wait_ready(10)
        s = _samples(http_get(f"{d.http.url}/metrics")[1])
        assert _value(s, "civicbot_account_up", account="ville") == 1
        assert _value(s, "civicbot_account_up", account="musee") == 0
        assert _value(s, "civicbot_stream_state", account="musee", state="failed") == 1
        status, body = http_json(f"{d.http.url}/healthz")
        assert status == 503
        assert body["reasons"] == [f"musee: failed: {d.failed['musee']}"]
    finally:
        d.stop()


def test_unknown_path_and_head(daemon: Daemon) -> None:
    status, body = http_json(f"{daemon.http.url}/nope")
    assert status == 404 and body["paths"] == ["/healthz", "/metrics"]
    import urllib.request

    request = urllib.request.Request(f"{daemon.http.url}/healthz", method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200 and response.read() == b""


def test_non_loopback_bind_is_refused_unless_allowed(
        daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIVICBOT_HTTP_ALLOW_REMOTE", raising=False)
    with pytest.raises(ConfigError, match="not a loopback address"):
        HealthServer(daemon, "0.0.0.0:9310")
    with pytest.raises(ConfigError, match="expected host:port"):
        HealthServer(daemon, "localhost")
    assert HealthServer(daemon, "0.0.0.0:9310", allow_remote=True).host == "0.0.0.0"
    monkeypatch.setenv("CIVICBOT_HTTP_ALLOW_REMOTE", "1")
    assert HealthServer(daemon, "192.0.2.1:9310").port == 9310
    assert HealthServer(daemon, "[::1]:0").url == "http://[::1]:0"


def test_health_checks_before_start_do_not_create_schedulers(
        tmp_path: Path, pair: tuple[SandboxInstance, SandboxInstance]) -> None:
    # the endpoint answers while accounts are still starting: reading health must not build a
    # second scheduler that would replace the one bot.start() is starting (a race seen live)
    cfg = write_config(tmp_path / "cfg.yaml", [account_block("ville", pair[0])])
    d = make_daemon(cfg, [BulletinPlugin()])
    try:
        assert d.healthy() == (False, ["ville: not started"])
        d.started_at = 0.0  # as if start() had begun
        assert d.healthy() == (False, ["ville: stream not started",
                                       "ville: scheduler not running"])
        d.health_report()
        assert d.bot("ville")._scheduler is None
    finally:
        d.stop()
