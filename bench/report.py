"""Benchmark: ``civicbot report`` over 13 months of daily snapshots of 10 accounts.

A SQLite state store is filled with what the ``core.engagement`` job would have recorded over
395 days for 10 accounts posting 4,000 times a year each (about 43,000 posts with their
favourites, boosts and replies; 3,950 account snapshots; a year of auto-reply counters). The
time printed covers reading the store, computing the tables, drawing every chart (matplotlib,
SVG) and writing the HTML page, for the whole 13 months (``--since 395d``), and separately
the CSV files. Target: under 5 s. Run::

    .venv/bin/python bench/report.py
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from civicbot.report import build_report, render_html, write_csv
from civicbot.state import AccountSnapshot, PostEngagement, SQLiteStateStore, StateStore

ACCOUNTS = 10
POSTS_PER_YEAR = 4_000
DAYS = 395
TZ = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=TZ)
SOURCES = [("scheduled_posts", "agenda-lundi"), ("scheduled_posts", "marche"),
           ("event_digest", "event_digest.digest"), ("weather", "weather.forecast"),
           ("weather", "weather.alerts"), ("auto_reply", ""), ("", "")]
ANSWERS = ["command:agenda", "command:météo", "rule:horaires", "rule:état civil",
           "rule:déchets", "fallback"]


def fill(store: StateStore, accounts: int = ACCOUNTS, posts_per_year: int = POSTS_PER_YEAR,
         days: int = DAYS, now: datetime = NOW, seed: int = 19) -> int:
    """Record ``days`` daily snapshots per account, as the engagement job would; return the
    number of posts recorded."""
    rng = random.Random(seed)
    first = now - timedelta(days=days)
    total = 0
    per_day = posts_per_year / 365
    for a in range(accounts):
        name = f"compte{a:02d}"
        followers = 500 + 100 * a
        posts: list[PostEngagement] = []
        count = 0
        for d in range(days):
            day_start = first + timedelta(days=d)
            count = int(per_day) + (1 if rng.random() < per_day % 1 else 0)
            for _ in range(count):
                source, job = rng.choice(SOURCES)
                created = day_start.replace(hour=rng.randint(7, 21), minute=rng.randint(0, 59))
                status_id = f"{a}{len(posts):07d}"
                posts.append(PostEngagement(
                    status_id=status_id, created_at=created.astimezone(UTC),
                    url=f"https://ville.example/@compte{a}/{status_id}", source=source, job=job,
                    favourites=rng.randint(0, 40), boosts=rng.randint(0, 15),
                    replies=rng.randint(0, 6), is_reply=source == "auto_reply",
                    counted_on=(created + timedelta(days=30)).date()))
            followers += rng.randint(-1, 6)
            snapshot = AccountSnapshot(day=day_start.date(), taken_at=day_start.astimezone(UTC),
                                       followers=followers, following=40 + a,
                                       statuses=len(posts))
            # the job re-counts the posts of the last 30 days every day; the store ends the
            # same when each post is written once with its final counts (a quicker set-up)
            store.save_engagement(name, snapshot, posts[-count:] if count else [])
            for answer in ANSWERS:
                store.add_daily_count(name, day_start.date(), "auto_reply.answers", answer,
                                      rng.randint(0, 4))
        total += len(posts)
    return total


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStateStore(Path(folder) / "state.sqlite3")
        started = time.perf_counter()
        posts = fill(store)
        print(f"filled the store: {ACCOUNTS} accounts, {posts} posts, {ACCOUNTS * DAYS} "
              f"snapshots in {time.perf_counter() - started:.1f} s")
        accounts = [(f"compte{a:02d}", TZ) for a in range(ACCOUNTS)]
        started, cpu = time.perf_counter(), time.process_time()
        report = build_report(store, accounts, since=timedelta(days=DAYS), now=NOW)
        tables = time.perf_counter() - started
        page = render_html(report)
        out = Path(folder) / "report.html"
        out.write_text(page, encoding="utf-8")
        html_time = time.perf_counter() - started
        html_cpu = time.process_time() - cpu
        workers = min(4, os.cpu_count() or 1)
        started = time.perf_counter()
        report = build_report(store, accounts, since=timedelta(days=DAYS), now=NOW)
        render_html(report, workers=workers)
        parallel = time.perf_counter() - started
        started = time.perf_counter()
        write_csv(report, Path(folder) / "csv")
        csv_time = time.perf_counter() - started
        store.close()
    charts = page.count("<svg")
    print(f"HTML report ({charts} charts, {len(page) / 1e6:.1f} MB): {html_time:.2f} s "
          f"(CPU {html_cpu:.2f} s; tables {tables:.2f} s) — target < 5 s")
    print(f"same, charts drawn by {workers} processes (as civicbot report does): "
          f"{parallel:.2f} s")
    print(f"CSV files: {csv_time:.2f} s")
    return 0 if min(html_time, parallel) < 5 else 1


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["fill"]
