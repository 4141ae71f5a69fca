"""The ``core.engagement`` job: daily snapshots hold the right counts, and only counts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import time_machine
from engagement_month import DAYS, START, Month

from civicbot.builtin.engagement import JOB_ID, START_DELAY
from civicbot.state import AccountSnapshot, PostEngagement, SQLiteStateStore


def test_each_day_holds_followers_following_and_post_counts(engagement_month: Month) -> None:
    store = SQLiteStateStore(engagement_month.state)
    try:
        snapshots = store.snapshots("default", date(2000, 1, 1))
    finally:
        store.close()
    assert len(snapshots) == DAYS
    assert [(s.day, s.followers, s.following, s.statuses) for s in snapshots] == \
        engagement_month.expected_days
    assert engagement_month.expected_days[-1][1] > 20  # residents did follow


def test_posts_hold_their_counts_of_the_last_snapshot_within_30_days(
        engagement_month: Month) -> None:
    store = SQLiteStateStore(engagement_month.state)
    try:
        recorded = {p.status_id: p for p in store.post_engagement("default",
                                                                  START - timedelta(days=1))}
    finally:
        store.close()
    posts = engagement_month.posts
    assert set(recorded) == set(posts)
    for status_id, post in posts.items():
        got = recorded[status_id]
        favourites, boosts, replies, counted_on = engagement_month.expected_counts[status_id]
        assert (got.favourites, got.boosts, got.replies, got.counted_on) == \
            (favourites, boosts, replies, counted_on), status_id
        assert (got.source, got.job, got.url) == (post.source, post.job, post.url)
        assert got.created_at == post.created_at
        assert not got.is_reply
    # the first posts left the 30-day window: residents went on favouriting them, but their
    # counts stay those of their last snapshot
    first = min(posts.values(), key=lambda p: p.created_at)
    assert recorded[first.status_id].favourites < first.favourites
    assert recorded[first.status_id].counted_on == (START + timedelta(days=29)).date()
    # the thread's second part answers the first: not counted as a resident's reply
    parts = [p for p in posts.values() if p.thread_part]
    assert len(parts) == 1
    head = next(p for p in posts.values() if p.job == "agenda"
                and p.created_at == parts[0].created_at and not p.thread_part)
    assert recorded[head.status_id].replies == engagement_month.expected_counts[
        head.status_id][2]


def test_only_aggregate_counts_are_stored(engagement_month: Month) -> None:
    db = sqlite3.connect(engagement_month.state)
    try:
        dumped = " ".join(str(cell) for table in ("engagement_accounts", "engagement_posts")
                          for row in db.execute(f"SELECT * FROM {table}") for cell in row)
    finally:
        db.close()
    assert "fan" not in dumped and "new1" not in dumped and "ex.org" not in dumped


def test_prune_after_13_months(tmp_path: Path) -> None:
    store = SQLiteStateStore(tmp_path / "s.sqlite3")
    old, recent = date(2025, 1, 10), date(2026, 2, 10)
    for day in (old, recent):
        when = datetime(day.year, day.month, day.day, 22, tzinfo=UTC)
        store.save_engagement("ville", AccountSnapshot(day, when, 10, 2, 5), [
            PostEngagement(f"id{day}", when, None, "weather", "", 1, 2, 3, False, day)])
        store.add_daily_count("ville", day, "auto_reply.answers", "fallback", 2)
    store.add_daily_count("ville", recent, "auto_reply.answers", "fallback")
    assert store.prune_engagement("ville", date(2025, 11, 7)) == 3
    assert [s.day for s in store.snapshots("ville", date(2000, 1, 1))] == [recent]
    assert [p.status_id for p in store.post_engagement(
        "ville", datetime(2000, 1, 1, tzinfo=UTC))] == [f"id{recent}"]
    assert store.daily_counts("ville", "auto_reply.answers", date(2000, 1, 1)) == [
        (recent, "fallback", 3)]
    store.close()


def test_the_job_runs_daily_and_soon_after_start_when_the_last_snapshot_is_old(
        civicbot_make_bot: Any, tmp_path: Path) -> None:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        bot = civicbot_make_bot(state=tmp_path / "a.sqlite3")
        assert JOB_ID in bot.jobs and bot.jobs[JOB_ID].plugin == "core.engagement"
        # never taken: soon after start
        assert bot.scheduler.next_run_times()[JOB_ID] == now + START_DELAY
        bot.scheduler.run(bot.jobs[JOB_ID], bot.now())
        fresh = bot.state.store.last_snapshot(bot.name)
        assert fresh is not None and fresh.taken_at == now
        # taken now: the next one a day later (a new bot on the same store: a restart)
        again = civicbot_make_bot(state=tmp_path / "a.sqlite3")
        assert again.scheduler.next_run_times()[JOB_ID] == now + timedelta(days=1)
    with time_machine.travel(now + timedelta(days=3), tick=False):
        later = civicbot_make_bot(state=tmp_path / "b.sqlite3")
        later.state.store.save_engagement(later.name, AccountSnapshot(
            date(2026, 12, 7), now, 1, 1, 1), [])
        assert later.scheduler.next_run_times()[JOB_ID] == \
            now + timedelta(days=3) + START_DELAY


def test_a_dry_run_or_preview_takes_no_snapshot(civicbot_make_bot: Any,
                                                civicbot_sandbox: Any) -> None:
    bot = civicbot_make_bot(dry_run=True)
    bot.scheduler.run(bot.jobs[JOB_ID], bot.now())
    assert bot.scheduler.preview(JOB_ID) == []
    assert bot.state.store.last_snapshot(bot.name) is None
    assert not [r for r in civicbot_sandbox.requests if "statuses" in r.path]


def test_statuses_page_without_mastodon_py_internals() -> None:
    """Another Mastodon.py layout: its public method, converted to plain JSON."""
    from civicbot.builtin.engagement import statuses_page

    class Client:
        def account_statuses(self, account_id: str, **params: Any) -> list[dict[str, Any]]:
            assert (account_id, params) == ("7", {"max_id": "99", "limit": 40})
            return [{"id": "98", "created_at": datetime(2026, 12, 1, 9, tzinfo=UTC)}]

    assert statuses_page(Client(), "7", max_id="99", limit=40) == [
        {"id": "98", "created_at": "2026-12-01T09:00:00Z"}]
