"""Issue 13, item 10 (disk full) and the malformed notification: the cursor never moves past
a notification that was not handled, the store is waited for, the real error is logged."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

import civicbot_auto_reply
from civicbot import hookimpl, html_to_text
from civicbot.dispatch import Dispatcher
from civicbot.state import SQLiteStateStore


def fill(store: SQLiteStateStore) -> None:
    """Make the SQLite file really full: no new page can be written (SQLITE_FULL)."""
    db = store._db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count={pages + 1}")
    for sql in ("INSERT INTO kv VALUES ('filler', 'x', ?, ?, '')",
                "INSERT INTO seen_notifications VALUES ('filler', ?, ?)",
                "INSERT INTO cursors VALUES ('filler', ?, ?, '')",
                "INSERT INTO posts VALUES ('filler', ?, 'sent', NULL, NULL, ?, NULL, 0, '', NULL)"):
        for i in range(100_000):
            try:
                db.execute(sql, (f"{i}-{sql[12:16]}", "x" * (200 if i % 2 else 20)))
            except sqlite3.OperationalError as exc:
                assert "full" in str(exc)
                break


def free(store: SQLiteStateStore) -> None:
    store._db.execute("PRAGMA max_page_count=1073741823")


def test_a_full_disk_reports_itself_not_cannot_rollback(tmp_path: Path) -> None:
    store = SQLiteStateStore(tmp_path / "state.sqlite3")
    fill(store)
    with pytest.raises(sqlite3.OperationalError, match="full"):
        for i in range(50):  # small rows may still fit in a page's free bytes
            store.mark_notification("ville", f"9{i:04d}", cursor=f"9{i:04d}")
    free(store)
    store.mark_notification("ville", "99999", cursor="99999")
    assert store.get_cursor("ville", "notifications") == "99999"


def _wait(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_disk_full_loses_no_mention_and_holds_the_cursor(
        civicbot_sandbox: Any, civicbot_make_bot: Any, tmp_path: Path) -> None:
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config={"plugins": {"auto_reply": {
        "cooldown": "0s", "fallback": "Merci pour votre message !"}}})
    bot.start()
    assert bot.stream.wait_state({"connected"})
    dispatcher: Dispatcher = bot.stream.dispatcher
    dispatcher.store_retry_initial, dispatcher.store_retry_max = 0.02, 0.1
    store = bot.state.store
    before = dispatcher.cursor
    fill(store)
    first = civicbot_sandbox.inject_mention("première question", acct="a@ville.example")
    second = civicbot_sandbox.inject_mention("deuxième question", acct="b@ville.example")
    _wait(lambda: dispatcher.store_failures >= 5)
    third = civicbot_sandbox.inject_mention("troisième question", acct="c@ville.example")
    _wait(lambda: dispatcher.store_failures >= 10)  # far more than the old five attempts
    assert dispatcher.cursor == before
    assert store.get_cursor(bot.name, "notifications") == before
    assert not any(store.notification_seen(bot.name, str(n["id"]))
                   for n in (first, second, third))
    free(store)
    statuses = civicbot_sandbox.wait_for_statuses(3, timeout=15)
    assert sorted(s["in_reply_to_id"] for s in statuses) == sorted(
        str(n["status"]["id"]) for n in (first, second, third))
    assert all(html_to_text(s["content"]).endswith("Merci pour votre message !")
               for s in statuses)
    assert dispatcher.wait_idle(10)
    assert dispatcher.cursor == str(third["id"])
    assert not dispatcher.store_waiting


def test_the_real_error_is_logged(civicbot_sandbox: Any, civicbot_make_bot: Any,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config={"plugins": {"auto_reply": {
        "cooldown": "0s"}}, "log": {"format": "json"}})
    bot.start()
    assert bot.stream.wait_state({"connected"})
    dispatcher: Dispatcher = bot.stream.dispatcher
    dispatcher.store_retry_initial, dispatcher.store_retry_max = 0.02, 0.1
    fill(bot.state.store)
    civicbot_sandbox.inject_mention("question", acct="a@ville.example")
    _wait(lambda: dispatcher.store_failures >= 2)
    free(bot.state.store)
    civicbot_sandbox.wait_for_statuses(1)
    err = capsys.readouterr().err
    assert "database or disk is full" in err
    assert "cannot rollback" not in err


class Breaks:
    """A plugin-independent failure: the notification itself is unusable for the core."""

    calls = 0

    @hookimpl
    def civicbot_on_notification(self, bot: Any, notification: dict[str, Any]) -> None:
        Breaks.calls += 1


def test_a_malformed_notification_is_dropped_at_once(civicbot_sandbox: Any,
                                                     civicbot_make_bot: Any) -> None:
    bot = civicbot_make_bot(plugins=[Breaks()])
    bot.start()
    assert bot.stream.wait_state({"connected"})
    dispatcher: Dispatcher = bot.stream.dispatcher
    # a mention whose status is not an object: the core cannot read its date
    bad = {"id": "900", "type": "mention", "status": ["not", "a", "status"]}
    assert dispatcher.submit(bad)
    assert dispatcher.wait_idle(5)
    assert Breaks.calls == 1  # not retried
    assert dispatcher.dropped_malformed == 1
    assert bot.state.store.notification_seen(bot.name, "900")
    assert dispatcher.cursor == "900"
