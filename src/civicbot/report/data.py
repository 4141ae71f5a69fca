"""From the state store to the report's tables (plain values, no drawing)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from civicbot.report.texts import texts_for
from civicbot.state import PostEngagement, StateStore

#: The auto-reply plugin's daily counters (``command:NAME``, ``rule:KEYWORD``, ``fallback``).
ANSWERS_CATEGORY = "auto_reply.answers"
TOP_POSTS = 10

Cell = str | int | float


@dataclass
class Table:
    """One table of the report; ``chart`` names how it is drawn (``None``: table only).

    ``key`` is stable (the CSV file name); ``title`` and ``columns`` are in the report's
    language. ``link_column`` is the index of a column holding URLs.
    """

    key: str
    title: str
    columns: list[str]
    rows: list[tuple[Cell, ...]]
    chart: str | None = None
    axes: tuple[str, str] = ("", "")
    note: str = ""
    link_column: int | None = None
    series: list[str] = field(default_factory=list)


@dataclass
class AccountReport:
    name: str
    tables: list[Table]

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


@dataclass
class Report:
    language: str
    start: date
    end: date
    generated_at: datetime
    accounts: list[AccountReport]


def source_label(post: PostEngagement, words: dict[str, str]) -> str:
    """``plugin · job``, the plugin alone, or "not from civicbot"."""
    if not post.source:
        return words["other"]
    if post.job and post.job != post.source:
        return f"{post.source} · {post.job}"
    return post.source


def answer_label(name: str, words: dict[str, str]) -> str:
    kind, _, rest = name.partition(":")
    if kind == "command":
        return words["answer.command"].format(name=rest)
    if kind == "rule":
        return words["answer.rule"].format(name=rest)
    if name == "fallback":
        return words["answer.fallback"]
    return name


def _median(values: Sequence[int]) -> float:
    return float(statistics.median(values))


def _stats(groups: Iterable[tuple[Any, list[int]]]) -> list[tuple[Cell, ...]]:
    return [(key, len(values), _median(values), max(values)) for key, values in groups if values]


def weekday_names(language: str) -> list[str]:
    from babel.dates import get_day_names

    names = get_day_names("wide", locale=language)
    return [str(names[i]).capitalize() for i in range(7)]


def account_tables(store: StateStore, account: str, zone: tzinfo, since: datetime,
                   language: str) -> list[Table]:
    """Every table of one account, for posts and days from ``since`` on."""
    words = texts_for(language)
    start_day = since.astimezone(zone).date()
    snapshots = store.snapshots(account, start_day)
    posts = store.post_engagement(account, since)
    engagement_cols = [words["col.posts"], words["col.median"], words["col.top"]]

    followers = Table(
        "followers", words["followers.title"],
        [words["col.day"], words["col.followers"], words["col.following"],
         words["col.statuses"]],
        [(s.day.isoformat(), s.followers, s.following, s.statuses) for s in snapshots],
        chart="lines", axes=(words["followers.x"], words["followers.y"]),
        series=[words["col.followers"], words["col.following"]])

    weekly: Counter[tuple[str, str]] = Counter()
    for post in posts:
        local = post.created_at.astimezone(zone).date()
        monday = local - timedelta(days=local.weekday())
        weekly[(monday.isoformat(), source_label(post, words))] += 1
    posts_weekly = Table(
        "posts_per_week", words["weekly.title"],
        [words["col.week"], words["col.source"], words["col.posts"]],
        [(week, label, count) for (week, label), count in sorted(weekly.items())],
        chart="stacked", axes=(words["weekly.x"], words["weekly.y"]))

    by_source: dict[str, list[int]] = defaultdict(list)
    for post in posts:
        by_source[source_label(post, words)].append(post.engagement)
    source_rows = sorted(_stats(by_source.items()), key=lambda r: (-float(r[2]), str(r[0])))
    source_table = Table(
        "engagement_by_source", words["by_source.title"], [words["col.source"], *engagement_cols],
        source_rows, chart="hbars", axes=(words["by_source.x"], words["col.source"]),
        note=words["engagement_note"], series=[words["median"], words["top"]])

    # when to post: the account's own posts, not its answers to residents
    published = [p for p in posts if not p.is_reply]
    hours: dict[int, list[int]] = defaultdict(list)
    days: dict[int, list[int]] = defaultdict(list)
    for post in published:
        local_time = post.created_at.astimezone(zone)
        hours[local_time.hour].append(post.engagement)
        days[local_time.weekday()].append(post.engagement)
    hour_table = Table(
        "engagement_by_hour", words["by_hour.title"], [words["col.hour"], *engagement_cols],
        [(f"{h:02d}:00", *rest) for h, *rest in _stats(sorted(hours.items()))],
        chart="bars", axes=(words["by_hour.x"], words["engagement.y"]),
        series=[words["median"], words["top"]])
    names = weekday_names(language)
    day_table = Table(
        "engagement_by_weekday", words["by_weekday.title"],
        [words["col.weekday"], *engagement_cols],
        [(names[int(d)], *rest) for d, *rest in _stats(sorted(days.items()))],
        chart="bars", axes=(words["by_weekday.x"], words["engagement.y"]),
        series=[words["median"], words["top"]])

    best = sorted(published, key=lambda p: (-p.engagement, p.created_at, p.status_id))
    top_table = Table(
        "top_posts", words["top_posts.title"],
        [words["col.rank"], words["col.date"], words["col.source"], words["col.favourites"],
         words["col.boosts"], words["col.replies"], words["col.engagement"], words["col.link"]],
        [(rank, p.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
          source_label(p, words), p.favourites, p.boosts, p.replies, p.engagement, p.url or "")
         for rank, p in enumerate(best[:TOP_POSTS], start=1)],
        link_column=7)

    answers: Counter[str] = Counter({"fallback": 0})
    for _day, name, count in store.daily_counts(account, ANSWERS_CATEGORY, start_day):
        answers[name] += count
    answer_rows: list[tuple[Cell, ...]] = [
        (answer_label(name, words), count)
        for name, count in sorted(answers.items(), key=lambda kv: (-kv[1], kv[0]))]
    answers_table = Table(
        "answers", words["answers.title"], [words["col.answer"], words["col.count"]],
        answer_rows, chart="hbar", axes=(words["answers.x"], words["col.answer"]),
        note=words["answers.note"])
    return [followers, posts_weekly, source_table, hour_table, day_table, top_table,
            answers_table]


def build_report(store: StateStore, accounts: Sequence[tuple[str, tzinfo]], *,
                 since: timedelta = timedelta(days=90), now: datetime | None = None,
                 language: str = "fr") -> Report:
    """The report of ``accounts`` (``(name, time zone)`` pairs) over the last ``since``."""
    texts_for(language)  # an unknown language fails before any work
    now = now or datetime.now(UTC)
    start = now - since
    zone = accounts[0][1] if accounts else UTC
    return Report(
        language=language, start=start.astimezone(zone).date(), end=now.astimezone(zone).date(),
        generated_at=now,
        accounts=[AccountReport(name, account_tables(store, name, tz, start, language))
                  for name, tz in accounts])
