"""The state stores (SQLite and PostgreSQL, every test against both): records survive a reopen
and a kill -9."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from civicbot.state import AccountState, StateStore, open_state_store


@pytest.fixture(params=["sqlite", "postgresql"])
def state_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "s.sqlite3")
    url: str = request.getfixturevalue("civicbot_postgres_url")
    return url


@pytest.fixture
def open_store(state_location: str) -> Iterator[Callable[[], StateStore]]:
    """Open (or reopen) the store at :func:`state_location`; every one is closed at the end."""
    opened: list[StateStore] = []

    def make() -> StateStore:
        opened.append(open_state_store(state_location))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


def test_posts_lifecycle_and_order(open_store: Callable[[], StateStore]):
    store = open_store()
    store.add_pending("ville", [("a", {"text": "A"}), ("b", {"text": "B"})])
    store.add_pending("ville", [("a", {"text": "changed"})])  # existing keys are kept
    assert [p.dedup_key for p in store.pending_posts("ville")] == ["a", "b"]
    assert store.get_post("ville", "a").payload == {"text": "A"}
    store.mark_sent("ville", "a", "101", "https://x/101")
    store.mark_failed("ville", "b", "422 too long")
    assert store.get_post("ville", "a").state == "sent"
    assert store.get_post("ville", "b").error == "422 too long"
    assert store.pending_posts("ville") == []
    assert store.count_posts("ville", "sent") == 1
    assert store.get_post("musee", "a") is None  # accounts do not share keys
    store.close()


def test_kv_namespaces_and_cursor(open_store: Callable[[], StateStore]):
    store = open_store()
    weather = AccountState(store, "ville").namespace("weather")
    weather.set("FRB05:orages", {"level": "orange"})
    assert weather.get("FRB05:orages") == {"level": "orange"}
    assert AccountState(store, "musee").namespace("weather").get("FRB05:orages") is None
    assert weather.items() == {"FRB05:orages": {"level": "orange"}}
    weather.delete("FRB05:orages")
    assert weather.get("FRB05:orages", "none") == "none"
    store.mark_notification("ville", "42", cursor="42")
    assert store.get_cursor("ville", "notifications") == "42"
    assert store.notification_seen("ville", "42")
    assert not store.notification_seen("musee", "42")
    when = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    store.set_job_run("ville", "semaine", when, "ok")
    assert store.get_job_run("ville", "semaine") == (when, "ok")


def test_survives_kill_9(state_location: str, open_store: Callable[[], StateStore]):
    script = textwrap.dedent(f"""
        import os, signal
        from civicbot.state import open_state_store
        store = open_state_store({state_location!r})
        store.add_pending("ville", [("k1", {{"text": "pending"}})])
        store.mark_notification("ville", "77", cursor="77")
        store.kv_set("ville", "core", "paused", True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", script], check=False)
    assert result.returncode == -9
    store = open_store()
    assert [p.dedup_key for p in store.pending_posts("ville")] == ["k1"]
    assert store.get_cursor("ville", "notifications") == "77"
    assert store.kv_get("ville", "core", "paused") is True
    store.close()


def test_prune_seen_forgets_only_old_records(open_store: Callable[[], StateStore]):
    import time_machine

    store = open_store()
    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False):
        store.mark_notification("ville", "1", cursor="1")
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        store.mark_notification("ville", "2", cursor="2")
        assert store.prune_seen("ville", datetime(2026, 2, 1, tzinfo=UTC)) == 1
    assert not store.notification_seen("ville", "1")
    assert store.notification_seen("ville", "2")
    assert store.get_cursor("ville", "notifications") == "2"


def test_approval_queue_audit_and_failed_posts(open_store: Callable[[], StateStore]):
    from datetime import timedelta, timezone

    store = open_store()
    paris = timezone(timedelta(hours=1))
    when = datetime(2026, 12, 7, 8, 0, tzinfo=paris)
    first = store.add_approval("ville", "semaine", when, [{"text": "a", "dedup_key": "k"}])
    assert first is not None
    assert store.add_approval("ville", "semaine", when.astimezone(UTC), []) is None  # same run
    desk = store.add_approval("ville", "desk:ab12", when + timedelta(hours=1), [],
                              state="approved", author="mehdi")
    store.add_approval("musee", "semaine", when, [])
    record = store.find_approval("ville", "semaine", when)
    assert record is not None and record.id == first and record.run_time == when
    assert [r.job_id for r in store.list_approvals("ville")] == ["semaine", "desk:ab12"]
    assert [r.id for r in store.list_approvals("ville", job_id="desk:")] == [desk]
    assert len(store.list_approvals(states=("waiting",))) == 2
    assert not store.update_approval(first, expect=("approved",), state="published")
    assert store.update_approval(first, expect=("waiting",), state="rejected", decided_by="anne",
                                 reason="non", drafts=[{"text": "b", "dedup_key": "k"}])
    record = store.get_approval(first)
    assert (record.state, record.decided_by, record.reason, record.drafts[0]["text"]) == (
        "rejected", "anne", "non", "b")
    store.add_audit("anne", "reject", "#1")
    store.add_audit("claire", "pause", "all accounts")
    assert [e.who for e in store.audit_entries()] == ["claire", "anne"]
    store.add_pending("ville", [("p1", {"text": "x"})])
    store.mark_failed("ville", "p1", "422")
    assert [p.error for p in store.recent_posts("ville", state="failed")] == ["422"]
    assert store.retry_post("ville", "p1") and not store.retry_post("ville", "p1")
    assert store.get_post("ville", "p1").state == "pending"
    store.close()
