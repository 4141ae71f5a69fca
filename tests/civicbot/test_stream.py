"""The supervised stream: faults injected by the sandbox, every mention answered exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from civicbot import AuthenticationError, hookimpl
from civicbot.cli import main
from civicbot.dispatch import id_key
from civicbot.testing import SandboxInstance, every_server

#: The servers with a stream (snac has none): Mastodon (SSE) and GoToSocial (WebSocket only).
streaming_servers = pytest.mark.parametrize("civicbot_sandbox", ["mastodon", "gotosocial"],
                                            indirect=True)

FAULTY_STREAM = {"stream": {"watchdog": "0.6s", "backoff_initial": "0.02s", "backoff_max": "0.2s"}}


class Echo:
    """Answers every mention; remembers the order it saw them in."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.lock = threading.Lock()

    @hookimpl
    def civicbot_on_mention(self, bot, status, notification):
        with self.lock:
            self.seen.append(str(notification["id"]))
        bot.reply(status, "Bien reçu, merci !")


class Boom:
    @hookimpl
    def civicbot_on_mention(self, bot, status, notification):
        raise RuntimeError("this plugin is broken")


def replies_by_mention(sandbox: SandboxInstance) -> Counter[str]:
    return Counter(s["in_reply_to_id"] for s in sandbox.statuses if s["in_reply_to_id"])


def mention_ids(sandbox: SandboxInstance) -> list[str]:
    return [n["status"]["id"] for n in sandbox.notifications if n["type"] == "mention"]


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_every_mention_answered_once_through_drops_stalls_refusals_and_5xx(civicbot_make_bot):
    sandbox = SandboxInstance(heartbeat_interval=0.1).start()
    try:
        echo = Echo()
        bot = civicbot_make_bot(plugins=[echo], config=FAULTY_STREAM, sandbox=sandbox)
        bot.start()
        assert bot.stream.wait_state({"connected"})
        faults = (["drop"] * 5 + ["stall"] * 2 + ["refuse"] * 3 + ["rest502"])
        for batch, fault in enumerate([*faults, None]):
            for i in range(200 // (len(faults) + 1) + (1 if batch < 200 % (len(faults) + 1) else 0)):
                sandbox.inject_mention(f"question {batch}-{i}", acct=f"r{batch}x{i}@ville.example")
            before = bot.stream.reconnects
            if fault == "drop":
                sandbox.drop_streams()
            elif fault == "stall":
                sandbox.stall_streams()
            elif fault == "refuse":
                sandbox.refuse_streams(1, status=503)
                sandbox.drop_streams()
            elif fault == "rest502":
                sandbox.fail_next(4, status=502, path_prefix="/api/v1/notifications")
                sandbox.drop_streams()
            if fault is not None:  # let the supervisor notice and reconnect before the next one
                assert wait_for(lambda b=before: bot.stream.reconnects > b
                                and bot.stream.state == "connected", timeout=20), fault
        ids = mention_ids(sandbox)
        assert len(ids) == 200
        assert wait_for(lambda: len(replies_by_mention(sandbox)) == 200, timeout=60)
        bot.stream.dispatcher.wait_idle()
        counts = replies_by_mention(sandbox)
        assert set(counts) == set(ids)
        assert max(counts.values()) == 1, "a mention was answered twice"
        assert bot.stream.reconnects >= 11
        assert echo.seen == sorted(echo.seen, key=lambda x: (len(x), x)), "not in id order"
        health = bot.stream.health()
        assert health["handled"] == 200 and health["failed"] == 0
    finally:
        sandbox.stop()


@every_server
def test_failing_plugin_does_not_stop_another(civicbot_sandbox, civicbot_make_bot):
    echo = Echo()
    bot = civicbot_make_bot(plugins=[("boom", Boom()), ("echo", echo)])
    bot.start()
    assert bot.stream.wait_state({"connected", "polling"})
    for i in range(10):
        civicbot_sandbox.inject_mention(f"bonjour {i}")
    assert wait_for(lambda: len(civicbot_sandbox.statuses) == 10)
    bot.stream.dispatcher.wait_idle()
    assert bot.hooks.failures["boom"] == 10
    assert bot.stream.dispatcher.failed == 10
    assert bot.stream.dispatcher.handled == 10


@every_server
def test_old_mentions_are_recorded_not_answered_on_first_start(civicbot_sandbox, civicbot_make_bot):
    old = civicbot_sandbox.inject_mention("vieille question",
                                          created_at=datetime.now(UTC) - timedelta(days=3))
    recent = civicbot_sandbox.inject_mention("question récente",
                                             created_at=datetime.now(UTC) - timedelta(hours=2))
    bot = civicbot_make_bot(plugins=[Echo()])
    bot.start()
    assert wait_for(lambda: len(civicbot_sandbox.statuses) == 1)
    control = civicbot_sandbox.inject_mention("contrôle")
    assert wait_for(lambda: len(civicbot_sandbox.statuses) == 2)
    answered = set(replies_by_mention(civicbot_sandbox))
    assert answered == {recent["status"]["id"], control["status"]["id"]}
    assert old["status"]["id"] not in answered


@every_server
def test_old_mention_after_long_outage_is_not_answered(civicbot_sandbox, civicbot_make_bot,
                                                       tmp_path: Path):
    state = tmp_path / "s.sqlite3"
    bot = civicbot_make_bot(plugins=[Echo()], state=state,
                            config={"stream": {"max_mention_age": "1h"}})
    bot.start()
    assert bot.stream.wait_state({"connected", "polling"})
    civicbot_sandbox.inject_mention("avant la panne")
    assert wait_for(lambda: len(civicbot_sandbox.statuses) == 1)
    bot.stream.dispatcher.wait_idle()
    bot.stop()
    stale = civicbot_sandbox.inject_mention("pendant la panne",
                                            created_at=datetime.now(UTC) - timedelta(hours=5))
    fresh = civicbot_sandbox.inject_mention("juste avant le redémarrage")
    again = civicbot_make_bot(plugins=[Echo()], state=state,
                              config={"stream": {"max_mention_age": "1h"}})
    again.start()
    assert wait_for(lambda: len(civicbot_sandbox.statuses) == 2)
    again.stream.dispatcher.wait_idle()
    answered = replies_by_mention(civicbot_sandbox)
    assert fresh["status"]["id"] in answered and stale["status"]["id"] not in answered
    assert again.stream.dispatcher.skipped_old == 1


def test_revoked_token_stops_the_bot_with_a_clear_error(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot(plugins=[Echo()])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            bot.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert wait_for(lambda: bot.stream is not None and bot.stream.state == "connected")
    civicbot_sandbox.revoke_token()
    thread.join(10)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], AuthenticationError)
    assert bot.stream.state == "failed"
    assert civicbot_sandbox.total_stream_connects <= 2  # no retry loop on a revoked token


def test_cli_run_with_a_refused_token_exits_1_with_the_reason(tmp_path: Path, capsys):
    with SandboxInstance() as sandbox:
        cfg = tmp_path / "civicbot.yaml"
        cfg.write_text(f"mastodon:\n  api_base_url: {sandbox.url}\n  access_token: wrong-token\n")
        assert main(["--log-format", "json", "run", "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "error: the instance refused the access token" in err
    assert "wrong-token" not in err


@pytest.mark.parametrize(("streaming", "transport"), [("websocket", "websocket"),
                                                      ("none", "poll")])
def test_auto_transport_falls_back(civicbot_make_bot, streaming, transport):
    sandbox = SandboxInstance(streaming=streaming, heartbeat_interval=0.1).start()
    try:
        bot = civicbot_make_bot(plugins=[Echo()], sandbox=sandbox)
        bot.start()
        assert bot.stream.wait_state({"connected", "polling"})
        assert bot.stream.transport == transport
        for i in range(5):
            sandbox.inject_mention(f"question {i}")
        assert wait_for(lambda: len(sandbox.statuses) == 5)
        assert max(replies_by_mention(sandbox).values()) == 1
    finally:
        sandbox.stop()


def test_forced_websocket_survives_drops(civicbot_make_bot):
    sandbox = SandboxInstance(streaming="both", heartbeat_interval=0.1).start()
    try:
        bot = civicbot_make_bot(plugins=[Echo()], sandbox=sandbox,
                                config={"stream": {"transport": "websocket", "watchdog": "1s"}})
        bot.start()
        assert bot.stream.wait_state({"connected"})
        for round_ in range(3):
            for i in range(5):
                sandbox.inject_mention(f"ws {round_}-{i}")
            sandbox.drop_streams()
        assert wait_for(lambda: len(sandbox.statuses) == 15)
        assert max(replies_by_mention(sandbox).values()) == 1
    finally:
        sandbox.stop()


@every_server
def test_catch_up_after_restart_in_id_order(civicbot_sandbox, civicbot_make_bot, tmp_path: Path):
    state = tmp_path / "s.sqlite3"
    bot = civicbot_make_bot(plugins=[Echo()], state=state)
    bot.start()
    assert bot.stream.wait_state({"connected", "polling"})
    civicbot_sandbox.inject_mention("premier")
    assert wait_for(lambda: len(civicbot_sandbox.statuses) == 1)
    bot.stream.dispatcher.wait_idle()
    bot.stop()
    # more than two pages of 80 (snac reaches its newest 64 only: test_servers covers more)
    missed = min(170, civicbot_sandbox.profile.notifications_kept or 170)
    for i in range(missed):
        civicbot_sandbox.inject_mention(f"pendant l'arrêt {i}")
    echo = Echo()
    again = civicbot_make_bot(plugins=[echo], state=state)
    again.start()
    assert wait_for(lambda: len(civicbot_sandbox.statuses) == missed + 1)
    assert echo.seen == sorted(echo.seen, key=id_key)
    assert max(replies_by_mention(civicbot_sandbox).values()) == 1


KILL_SCRIPT = """
import signal
import sys
from civicbot import Bot, hookimpl

class Echo:
    @hookimpl
    def civicbot_on_mention(self, bot, status, notification):
        bot.reply(status, "Bien reçu !")

bot = Bot(sys.argv[1], access_token=sys.argv[2], plugins=[Echo()], state=sys.argv[3],
          config={"stream": {"backoff_initial": "0.05s", "backoff_max": "0.3s"}})
signal.signal(signal.SIGTERM, lambda *_: bot.request_stop())
bot.run()
"""


def test_sigkill_while_mentions_arrive_then_restart(tmp_path: Path):
    script = tmp_path / "bot.py"
    script.write_text(textwrap.dedent(KILL_SCRIPT))
    state = tmp_path / "state.sqlite3"
    with SandboxInstance(heartbeat_interval=0.2) as sandbox:
        args = [sys.executable, str(script), sandbox.url, sandbox.access_token, str(state)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            sandbox.wait_for_stream(timeout=20)
            for i in range(60):
                sandbox.inject_mention(f"avant le kill {i}")
            wait_for(lambda: len(sandbox.statuses) >= 20, timeout=20)
            proc.send_signal(signal.SIGKILL)  # while mentions are still being answered
            proc.wait(10)
            for i in range(30):
                sandbox.inject_mention(f"pendant l'arrêt {i}")
            proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            sandbox.wait_for_stream(timeout=20)
            for i in range(30):
                sandbox.inject_mention(f"après le redémarrage {i}")
            ids = mention_ids(sandbox)
            assert wait_for(lambda: len(replies_by_mention(sandbox)) == len(ids), timeout=60)
            counts = replies_by_mention(sandbox)
            assert set(counts) == set(ids) and len(ids) == 120
            assert max(counts.values()) == 1, "a mention was answered twice"
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0


def test_cli_run_stops_cleanly_on_sigterm_and_status_reads_the_state(tmp_path: Path):
    with SandboxInstance(heartbeat_interval=0.2) as sandbox:
        cfg = tmp_path / "civicbot.yaml"
        cfg.write_text(
            f"mastodon:\n  api_base_url: {sandbox.url}\n  access_token: {sandbox.access_token}\n"
            "state: state.sqlite3\n")
        proc = subprocess.Popen([sys.executable, "-m", "civicbot", "--log-format", "json", "run",
                                 "--config", str(cfg)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        sandbox.wait_for_stream(timeout=20)
        sandbox.inject_notification("favourite")
        time.sleep(0.3)  # let the favourite be handled before stopping (not a timing assertion)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert sandbox.access_token not in err
        assert '"event": "signal received; stopping"' in err
        status = subprocess.run([sys.executable, "-m", "civicbot", "status", "--config", str(cfg)],
                                capture_output=True, text=True, check=True)
        assert "account default: stream stopped (sse)" in status.stdout


@streaming_servers
def test_clean_close_reconnects_and_catches_up(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot(plugins=[Echo()])
    bot.start()
    assert bot.stream.wait_state({"connected"})
    civicbot_sandbox.close_streams_cleanly()
    civicbot_sandbox.inject_mention("pendant la reconnexion")
    assert wait_for(lambda: bot.stream.reconnects == 1 and bot.stream.state == "connected")
    assert wait_for(lambda: len(civicbot_sandbox.statuses) == 1)


def test_backoff_is_exponential_jittered_capped_and_resets():
    from civicbot.stream_wire import Backoff

    backoff = Backoff(1.0, 8.0)
    delays = [backoff.next() for _ in range(6)]
    for delay, base in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert base / 2 <= delay <= base
    backoff.reset()
    assert backoff.next() <= 1.0


class Slow:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()
        self.finished = threading.Event()

    @hookimpl
    def civicbot_on_mention(self, bot, status, notification):
        self.started.set()
        time.sleep(self.seconds)  # the plugin's own slow work, not a test wait
        self.finished.set()


def test_shutdown_finishes_the_handler_in_hand(civicbot_sandbox, civicbot_make_bot):
    slow = Slow(0.5)
    bot = civicbot_make_bot(plugins=[slow])
    bot.start()
    assert bot.stream.wait_state({"connected"})
    note = civicbot_sandbox.inject_mention("question lente")
    assert slow.started.wait(10)
    bot.stop()
    assert slow.finished.is_set()
    assert bot.stream.dispatcher.cursor == note["id"]


def test_shutdown_does_not_wait_forever_for_a_stuck_plugin(civicbot_sandbox, civicbot_make_bot):
    slow = Slow(5.0)
    bot = civicbot_make_bot(plugins=[slow], config={"stream": {"shutdown_grace": "0.3s"}})
    bot.start()
    assert bot.stream.wait_state({"connected"})
    civicbot_sandbox.inject_mention("question bloquée")
    assert slow.started.wait(10)
    began = time.monotonic()
    bot.stop()
    assert time.monotonic() - began < 4.0
    assert bot.stream.dispatcher.cursor is None  # not handled: caught up at the next start


@streaming_servers
def test_burst_during_catch_up_larger_than_the_buffer_loses_nothing(civicbot_sandbox,
                                                                   civicbot_make_bot):
    """Stream events that arrive while catching up are held back; when more arrive than can be
    held, another REST round fetches them: none is lost, none is handled twice."""
    seen: list[str] = []
    first_handled = threading.Event()

    class SlowCounter:
        @hookimpl
        def civicbot_on_notification(self, bot, notification):
            first_handled.set()
            time.sleep(0.02)  # a plugin doing real work keeps the small queue full
            seen.append(str(notification["id"]))

    for i in range(30):
        civicbot_sandbox.inject_notification("favourite", acct=f"avant{i}@ville.example")
    bot = civicbot_make_bot(plugins=[SlowCounter()], config={"stream": {"queue_size": 5}})
    bot.start()
    # the REST round is done and the catch-up is still feeding the slow plugin: what the stream
    # brings now must be held back, and there is more of it than can be held
    assert first_handled.wait(10)
    for i in range(120):
        civicbot_sandbox.inject_notification("favourite", acct=f"pendant{i}@ville.example")
    expected = [n["id"] for n in civicbot_sandbox.notifications]
    assert wait_for(lambda: len(seen) >= len(expected), timeout=30)
    bot.stream.dispatcher.wait_idle()
    assert sorted(seen, key=id_key) == sorted(expected, key=id_key)
    assert len(seen) == len(set(seen)) == 150


def test_a_notification_delivered_out_of_order_is_still_handled(civicbot_sandbox,
                                                                civicbot_make_bot):
    """Handled notifications are recognised by id, not by "below the cursor": a notification a
    server delivers late, with a lower id than one already handled, is still answered."""
    echo = Echo()
    bot = civicbot_make_bot(plugins=[echo])
    bot.start()
    assert bot.stream.wait_state({"connected"})
    first = civicbot_sandbox.inject_mention("première")
    second = civicbot_sandbox.inject_mention("seconde")
    assert wait_for(lambda: len(civicbot_sandbox.statuses) == 2)
    bot.stream.dispatcher.wait_idle()
    civicbot_sandbox.stall_streams()
    third = civicbot_sandbox.inject_mention("troisième")
    late = dict(third, id=str(int(first["id"]) - 1))  # delivered with a lower id than handled
    assert bot.stream.dispatcher.submit(late)
    assert wait_for(lambda: len(civicbot_sandbox.statuses) == 3)
    assert not bot.stream.dispatcher.submit(second)  # handled already: not again
    bot.stream.dispatcher.wait_idle()
    assert replies_by_mention(civicbot_sandbox)[third["status"]["id"]] == 1


@every_server
def test_a_store_failure_while_handling_is_retried_not_lost(civicbot_sandbox, civicbot_make_bot):
    echo = Echo()
    bot = civicbot_make_bot(plugins=[echo])
    store = bot.state.store
    real = store.mark_notification
    failures = []

    def flaky(account, notification_id, cursor=None):
        if not failures:
            failures.append(notification_id)
            raise RuntimeError("database is locked")
        return real(account, notification_id, cursor)

    store.mark_notification = flaky  # type: ignore[method-assign]
    bot.start()
    assert bot.stream.wait_state({"connected", "polling"})
    note = civicbot_sandbox.inject_mention("question")
    assert wait_for(lambda: bot.stream.dispatcher.cursor == note["id"])
    assert failures == [note["id"]]
    assert len(civicbot_sandbox.statuses) == 1  # handled twice, answered once (dedup key)
    assert store.notification_seen(bot.name, note["id"])


def test_stop_with_a_full_queue_of_one_does_not_raise(civicbot_sandbox, civicbot_make_bot):
    slow = Slow(0.3)
    bot = civicbot_make_bot(plugins=[slow], config={"stream": {"queue_size": 1,
                                                               "shutdown_grace": "1s"}})
    bot.start()
    assert bot.stream.wait_state({"connected"})
    for i in range(3):
        civicbot_sandbox.inject_mention(f"q{i}")
    assert slow.started.wait(10)
    bot.stop()  # must neither raise nor hang


def test_catch_up_pages_are_plain_json_with_or_without_mastodon_py_internals(civicbot_sandbox):
    from mastodon import Mastodon

    from civicbot.stream_wire import notifications_page

    civicbot_sandbox.inject_mention("bonjour")
    client = Mastodon(access_token=civicbot_sandbox.access_token, api_base_url=civicbot_sandbox.url)

    class PublicOnly:  # a Mastodon.py whose internals moved: the public method is used
        def notifications(self, **params):
            return client.notifications(**params)

    fast = notifications_page(client, limit=5)
    slow = notifications_page(PublicOnly(), limit=5)
    assert fast[0]["id"] == slow[0]["id"] == civicbot_sandbox.notifications[0]["id"]
    for page in (fast, slow):
        assert isinstance(page[0]["created_at"], str)
        assert isinstance(page[0]["status"]["account"]["acct"], str)
        assert type(page[0]) is dict


def test_connection_failures_are_classified_by_status_not_by_digits():
    from mastodon import MastodonNetworkError

    from civicbot.stream_wire import Unsupported, classify_failure

    down = MastodonNetworkError(
        "HTTPConnectionPool(host='127.0.0.1', port=40135): Max retries exceeded with url: "
        "/api/v1/streaming/user (Caused by NewConnectionError: [Errno 111] Connection refused)")
    assert classify_failure(down) is down
    odd_port = MastodonNetworkError("Could not connect to streaming server: Bad Gateway",
                                    "http://127.0.0.1:40404/")
    assert classify_failure(odd_port) is odd_port
    assert isinstance(classify_failure(MastodonNetworkError(
        "Could not connect to streaming server: Unauthorized")), AuthenticationError)
    assert isinstance(classify_failure(MastodonNetworkError(
        "WebSocket streaming connection failed.", "Handshake status 403 Forbidden")),
        AuthenticationError)
    assert isinstance(classify_failure(MastodonNetworkError(
        "WebSocket streaming connection failed.", "Handshake status 404 Not Found")), Unsupported)


def test_a_stream_that_opens_after_the_bot_stopped_is_closed_at_once(tmp_path: Path):
    """Stopped while its stream was still opening (an account given to another daemon): the
    connection that opens afterwards is closed at once, never left reading beside the new
    owner's (it was: the sandbox counted two streams for one account)."""
    from civicbot import Bot

    with SandboxInstance(heartbeat_interval=0.2) as sandbox:
        bot = Bot(sandbox.url, access_token=sandbox.access_token,
                  state=tmp_path / "state.sqlite3")
        gate, opening = threading.Event(), threading.Event()
        new_client = bot.new_client

        def slow_to_open_client():  # the stream's client: its stream opens when let through
            client = new_client()
            stream_user = client.stream_user

            def held_stream_user(*args, **kwargs):
                opening.set()
                gate.wait(10)
                return stream_user(*args, **kwargs)

            client.stream_user = held_stream_user
            return client

        bot.new_client = slow_to_open_client  # type: ignore[method-assign]
        bot.start()
        assert opening.wait(10)
        bot.stop()  # gives up on the stream still opening
        gate.set()  # ... which opens now
        sandbox.wait_for_stream_connects(1, 10)
        deadline = time.monotonic() + 10
        while sandbox.stream_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandbox.stream_connections == 0
