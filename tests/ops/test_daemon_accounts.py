"""Several accounts in one daemon: config forms, per-account isolation, failures, logs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import structlog
from ops_support import (
    BulletinPlugin,
    EchoPlugin,
    account_block,
    make_daemon,
    replies_to,
    write_config,
)

from civicbot import html_to_text
from civicbot.daemon import Daemon
from civicbot.errors import AuthenticationError
from civicbot.testing import SandboxInstance


@pytest.fixture
def sandboxes() -> Iterator[list[SandboxInstance]]:
    """Three fake instances, one per account (each account is its own Mastodon user)."""
    with ExitStack() as stack:
        yield [stack.enter_context(SandboxInstance(heartbeat_interval=0.2, account_username=u))
               for u in ("ville", "musee", "festival")]


def _texts(sandbox: SandboxInstance) -> list[str]:
    return [html_to_text(s["content"], drop_mentions=True) for s in sandbox.statuses]


def _start(daemon: Daemon) -> Daemon:
    daemon.start()
    assert daemon.wait_ready(10), daemon.healthy()
    return daemon


def test_accounts_each_answer_their_own_mentions(tmp_path: Path,
                                                 sandboxes: list[SandboxInstance]) -> None:
    ville, musee, _ = sandboxes
    cfg = write_config(tmp_path / "cfg.yaml", [account_block("ville", ville),
                                               account_block("musee", musee, language="en")])
    daemon = _start(make_daemon(cfg, [EchoPlugin()]))
    try:
        assert [b.name for b in daemon.bots] == ["ville", "musee"]
        a = ville.inject_mention("horaires ?", acct="alice@other.example")
        b = musee.inject_mention("opening hours?", acct="bob@other.example")
        [reply_a] = ville.wait_for_statuses(1)
        [reply_b] = musee.wait_for_statuses(1)
        assert _texts(ville) == ["Bien reçu (ville) : horaires ?"]
        assert _texts(musee) == ["Bien reçu (musee) : opening hours?"]
        assert [m["acct"] for m in reply_a["mentions"]] == ["alice@other.example"]
        assert [m["acct"] for m in reply_b["mentions"]] == ["bob@other.example"]
        assert (reply_a["language"], reply_b["language"]) == ("fr", "en")
        assert reply_a["in_reply_to_id"] == a["status"]["id"]
        assert reply_b["in_reply_to_id"] == b["status"]["id"]
        for bot in daemon.bots:
            assert bot.stream is not None and bot.stream.dispatcher.wait_idle(5)
        # each account has its own cursor and dedup keys in the shared store
        store = daemon.store
        assert store.get_cursor("ville", "notifications") == a["id"]
        assert store.get_cursor("musee", "notifications") == b["id"]
        # (both sandboxes may hand out the same status id: the keys are scoped anyway)
        post_a = store.get_post("ville", f"reply:{a['status']['id']}")
        post_b = store.get_post("musee", f"reply:{b['status']['id']}")
        assert post_a is not None and post_a.payload["text"].endswith("(ville) : horaires ?")
        assert post_b is not None and post_b.payload["text"].endswith("(musee) : opening hours?")
        assert store.count_posts("ville") == store.count_posts("musee") == 1
        assert store.count_posts("festival") == 0
        # each account has its own Mastodon client (and so its own rate-limit budget)
        clients = {id(bot.client) for bot in daemon.bots}
        assert len(clients) == 2
    finally:
        daemon.stop()
    assert len(ville.statuses) == 1 and len(musee.statuses) == 1


def test_same_dedup_key_and_job_id_are_per_account(tmp_path: Path,
                                                   sandboxes: list[SandboxInstance]) -> None:
    ville, musee, _ = sandboxes
    cfg = write_config(tmp_path / "cfg.yaml", [account_block("ville", ville),
                                               account_block("musee", musee)])
    daemon = _start(make_daemon(cfg, [BulletinPlugin()]))
    try:
        when = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
        for bot in daemon.bots:
            assert sorted(bot.jobs) == ["alert", "bulletin", "core.approvals", "core.engagement",
                                        "core.retry-pending", "digest"]
            bot.scheduler.run(bot.scheduler.get("bulletin"), when)
        # the second run of the same key in the same account is a no-op
        daemon.bot("ville").scheduler.run(daemon.bot("ville").scheduler.get("bulletin"), when)
        assert _texts(ville) == ["Bulletin ville de 09h"]
        assert _texts(musee) == ["Bulletin musee de 09h"]
        key = f"bulletin:{when.isoformat()}"
        assert daemon.bot("ville").state.was_posted(key)
        assert daemon.bot("musee").state.was_posted(key)
        last_ville = daemon.store.get_job_run("ville", "bulletin")
        assert last_ville is not None and last_ville[0] == when
        assert daemon.store.get_job_run("festival", "bulletin") is None
    finally:
        daemon.stop()


def test_single_account_form_still_works(tmp_path: Path,
                                         sandboxes: list[SandboxInstance]) -> None:
    ville = sandboxes[0]
    cfg = write_config(tmp_path / "cfg.yaml", single=ville, name="mairie")
    daemon = _start(make_daemon(cfg, [EchoPlugin()]))
    try:
        assert [b.name for b in daemon.bots] == ["mairie"]
        ville.inject_mention("bonjour")
        [reply] = ville.wait_for_statuses(1)
        assert html_to_text(reply["content"], drop_mentions=True) == "Bien reçu (mairie) : bonjour"
        assert daemon.healthy() == (True, [])
    finally:
        daemon.stop()


def test_revoked_token_stops_only_that_account(tmp_path: Path,
                                               sandboxes: list[SandboxInstance]) -> None:
    ville, musee, festival = sandboxes
    cfg = write_config(tmp_path / "cfg.yaml", [account_block("ville", ville),
                                               account_block("musee", musee),
                                               account_block("festival", festival)])
    daemon = _start(make_daemon(cfg, [EchoPlugin()]))
    try:
        musee.revoke_token()
        deadline = 10.0
        musee_bot = daemon.bot("musee")
        assert musee_bot.stream is not None
        assert musee_bot.stream.wait_state({"failed"}, deadline)
        from ops_support import wait_until

        wait_until(lambda: "musee" in daemon.failed, 5, "musee recorded as failed")
        assert isinstance(daemon.failed["musee"], AuthenticationError)
        ok, reasons = daemon.healthy()
        assert not ok
        assert len(reasons) == 1 and reasons[0].startswith("musee: failed: ")
        # the others keep answering
        ville.inject_mention("toujours là ?")
        festival.inject_mention("programme ?")
        ville.wait_for_statuses(1)
        festival.wait_for_statuses(1)
        assert _texts(ville) == ["Bien reçu (ville) : toujours là ?"]
        assert _texts(festival) == ["Bien reçu (festival) : programme ?"]
        assert musee.statuses == []
    finally:
        daemon.stop()


def test_refused_token_at_start_and_unreachable_instance(tmp_path: Path,
                                                         sandboxes: list[SandboxInstance]
                                                         ) -> None:
    ville, musee, festival = sandboxes
    festival_url = festival.url
    festival.stop()  # instance down at start: that account retries, the others run
    cfg = write_config(tmp_path / "cfg.yaml", [
        account_block("ville", ville),
        {"name": "musee", "mastodon": {"api_base_url": musee.url, "access_token": "wrong"}},
        {"name": "festival", "mastodon": {"api_base_url": festival_url,
                                          "access_token": "sandbox-token",
                                          "request_timeout": "1s", "max_attempts": 1}},
    ])
    daemon = make_daemon(cfg, [EchoPlugin()])
    daemon.start()
    try:
        assert isinstance(daemon.failed.get("musee"), AuthenticationError)
        assert "festival" not in daemon.failed
        ville.inject_mention("ça marche ?")
        [reply] = ville.wait_for_statuses(1)
        assert html_to_text(reply["content"], drop_mentions=True) == "Bien reçu (ville) : ça marche ?"
        ok, reasons = daemon.healthy()
        assert not ok
        assert reasons[0].startswith("musee: failed: ")
        assert reasons[1] in {"festival: stream connecting", "festival: stream backoff"}
    finally:
        daemon.stop()


def test_run_raises_when_the_only_account_is_refused(tmp_path: Path,
                                                     sandboxes: list[SandboxInstance]) -> None:
    ville = sandboxes[0]
    cfg = write_config(tmp_path / "cfg.yaml", single=ville)
    text = cfg.read_text().replace("sandbox-token", "wrong")
    cfg.write_text(text)
    daemon = make_daemon(cfg)
    with pytest.raises(AuthenticationError):
        daemon.run()


def test_every_log_line_carries_the_account(tmp_path: Path,
                                            sandboxes: list[SandboxInstance]) -> None:
    ville, musee, _ = sandboxes
    cfg = write_config(tmp_path / "cfg.yaml", [account_block("ville", ville),
                                               account_block("musee", musee)])
    daemon = make_daemon(cfg, [EchoPlugin(), BulletinPlugin()])
    with structlog.testing.capture_logs() as logs:
        _start(daemon)
        ville.inject_mention("un")
        musee.inject_mention("deux")
        ville.wait_for_statuses(1)
        musee.wait_for_statuses(1)
        musee.drop_streams()
        musee.wait_for_stream_connects(2)
        bot = daemon.bot("ville")
        bot.scheduler.run(bot.scheduler.get("alert"), bot.now())
        daemon.stop()
    events = {entry["event"] for entry in logs}
    # the loggers of the bot, stream, dispatcher, publisher, scheduler and daemon all spoke
    assert {"bot started", "stream state", "posted", "job ran", "job scheduled",
            "stream closed", "daemon stopped", "bot stopped"} <= events
    missing = [entry for entry in logs if "account" not in entry]
    assert missing == []
    accounts = {entry["account"] for entry in logs}
    assert accounts == {"ville", "musee", "*"}
    assert replies_to(ville) and replies_to(musee)
