"""What the calendar shows: every run of every job in the next days, and every desk post,
each previewed as residents will see it (or with the reason its preview failed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from civicbot.approvals import (
    APPROVED,
    DESK_JOB_PREFIX,
    WAITING,
    draft_from_json,
    upcoming_runs,
)
from civicbot.preview import PreviewPost, channel_previews, preview_posts

if TYPE_CHECKING:
    from civicbot.bot import Bot
    from civicbot.jobs import Job

#: Jobs running more often than this are pollers (alerts, reloads): one line, not one per run.
POLLER = timedelta(hours=1)
MAX_RUNS_PER_JOB = 200


@dataclass
class Entry:
    account: str
    when: datetime
    job_id: str
    plugin: str
    description: str
    posts: list[PreviewPost] = field(default_factory=list)
    error: str | None = None
    state: str | None = None
    approval_id: int | None = None
    author: str | None = None
    every: str | None = None

    @property
    def variants(self) -> list[tuple[str, list[PreviewPost]]]:
        """The posts channel by channel (Mastodon first, then Bluesky...), in order."""
        out: dict[str, list[PreviewPost]] = {}
        for post in self.posts:
            out.setdefault(post.channel, []).append(post)
        return list(out.items())

    @property
    def desk(self) -> bool:
        return self.job_id.startswith(DESK_JOB_PREFIX)


def _describe_every(job: Job) -> str | None:
    if job.schedule.kind == "every" and job.schedule.every is not None \
            and job.schedule.every < POLLER:
        from civicbot.durations import format_duration

        return format_duration(job.schedule.every)
    return None


def _preview(bot: Bot, drafts: Iterable[Any]) -> list[PreviewPost]:
    """The Mastodon posts, then each other channel's variant (as residents there see it)."""
    wanted = list(drafts)
    posts = preview_posts(bot, wanted)
    for variant in channel_previews(bot, wanted):
        post = variant.post
        posts.append(PreviewPost(
            text=str(post.get("text", "")), visibility="public", spoiler_text="",
            language=(post.get("langs") or [None])[0], in_reply_to=None,
            media=[{"path": str(m.get("path")), "description": str(m.get("alt"))}
                   for m in post.get("images") or []],
            dedup_key=variant.dedup_key, scheduled_at=None, channel=variant.channel))
    return posts


class PreviewCache:
    """Job previews kept ``ttl`` seconds (a forecast or an agenda preview fetches a feed), and
    a time budget per page: past it, later runs say so instead of keeping the page waiting."""

    def __init__(self, ttl: float = 120.0, budget: float = 15.0) -> None:
        self.ttl, self.budget = ttl, budget
        self._items: dict[tuple[str, str, str], tuple[float, list[PreviewPost], str | None]] = {}
        self._lock = threading.Lock()

    def get(self, bot: Bot, job: Job, when: datetime, deadline: float
            ) -> tuple[list[PreviewPost], str | None]:
        key = (bot.name, job.id, when.isoformat())
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1], hit[2]
        if now > deadline:
            return [], "not previewed: the calendar's time budget is spent (reload the page)"
        error: str | None = None
        posts: list[PreviewPost] = []
        try:
            posts = _preview(bot, bot.scheduler.preview(job.id, when))
        except Exception as exc:  # shown on the calendar, never an empty slot
            error = f"{type(exc).__name__}: {exc}"[:500]
        with self._lock:
            if len(self._items) > 5000:
                self._items.clear()
            self._items[key] = (time.monotonic(), posts, error)
        return posts, error


def entries(bots: Iterable[Bot], days: int, *, account: str | None = None,
            now: datetime | None = None, cache: PreviewCache | None = None) -> list[Entry]:
    cache = cache or PreviewCache()
    deadline = time.monotonic() + cache.budget
    out: list[Entry] = []
    for bot in bots:
        if account and bot.name != account:
            continue
        start = (now or bot.now()).astimezone(bot.timezone)
        # whole days: today and the next ones, up to midnight (wall clock) of the last one
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        end = (midnight + timedelta(days=days)).replace(tzinfo=bot.timezone)
        out += _job_entries(bot, start, end, cache, deadline)
        out += _desk_entries(bot, start, end)
    return sorted(out, key=lambda e: (e.when, e.account, e.job_id))


def _job_entries(bot: Bot, start: datetime, end: datetime, cache: PreviewCache,
                 deadline: float) -> list[Entry]:
    out: list[Entry] = []
    store = bot.state.store
    queued = {(r.job_id, r.run_time): r for r in store.list_approvals(bot.name)
              if not r.job_id.startswith(DESK_JOB_PREFIX)}
    for job in list(bot.jobs.values()):
        if job.id.startswith(("core.", DESK_JOB_PREFIX)):
            continue
        every = _describe_every(job)
        if every is not None:
            nxt = bot.scheduler.next_run_times().get(job.id)
            out.append(Entry(bot.name, (nxt or start).astimezone(bot.timezone), job.id,
                             job.plugin, job.description, every=every))
            continue
        for when in upcoming_runs(bot, job, start, end)[:MAX_RUNS_PER_JOB]:
            entry = Entry(bot.name, when.astimezone(bot.timezone), job.id, job.plugin,
                          job.description)
            record = queued.get((job.id, when))
            if record is not None:
                entry.state, entry.approval_id = record.state, record.id
                try:
                    entry.posts = _preview(bot, (draft_from_json(d) for d in record.drafts))
                except Exception as exc:
                    entry.error = f"{type(exc).__name__}: {exc}"[:500]
            else:
                entry.state = "to approve" if job.approval == "required" else None
                entry.posts, entry.error = cache.get(bot, job, when, deadline)
            out.append(entry)
    return out


def _desk_entries(bot: Bot, start: datetime, end: datetime) -> list[Entry]:
    out = []
    for record in bot.state.store.list_approvals(bot.name, states=(WAITING, APPROVED),
                                                 job_id=DESK_JOB_PREFIX):
        when = record.run_time.astimezone(bot.timezone)
        if when > end:
            continue
        entry = Entry(bot.name, max(when, start) if when < start else when, record.job_id,
                      "desk", "", state=record.state, approval_id=record.id,
                      author=record.author)
        try:
            entry.posts = _preview(bot, (draft_from_json(d) for d in record.drafts))
        except Exception as exc:
            entry.error = f"{type(exc).__name__}: {exc}"[:500]
        out.append(entry)
    return out
