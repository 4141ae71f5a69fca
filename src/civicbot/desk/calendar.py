"""What the calendar shows: every run of every job in the next days, and every desk post,
each previewed as residents will see it (or with the reason its preview failed)."""

from __future__ import annotations

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
from civicbot.preview import PreviewPost, preview_posts

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
    def desk(self) -> bool:
        return self.job_id.startswith(DESK_JOB_PREFIX)


def _describe_every(job: Job) -> str | None:
    if job.schedule.kind == "every" and job.schedule.every is not None \
            and job.schedule.every < POLLER:
        from civicbot.durations import format_duration

        return format_duration(job.schedule.every)
    return None


def _preview(bot: Bot, drafts: Iterable[Any]) -> list[PreviewPost]:
    return preview_posts(bot, list(drafts))


def entries(bots: Iterable[Bot], days: int, *, account: str | None = None,
            now: datetime | None = None) -> list[Entry]:
    out: list[Entry] = []
    for bot in bots:
        if account and bot.name != account:
            continue
        start = (now or bot.now()).astimezone(bot.timezone)
        # whole days: today and the next ones, up to midnight (wall clock) of the last one
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        end = (midnight + timedelta(days=days)).replace(tzinfo=bot.timezone)
        out += _job_entries(bot, start, end)
        out += _desk_entries(bot, start, end)
    return sorted(out, key=lambda e: (e.when, e.account, e.job_id))


def _job_entries(bot: Bot, start: datetime, end: datetime) -> list[Entry]:
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
            try:
                if record is not None:
                    entry.state, entry.approval_id = record.state, record.id
                    entry.posts = _preview(bot, (draft_from_json(d) for d in record.drafts))
                else:
                    entry.state = "to approve" if job.approval == "required" else None
                    entry.posts = _preview(bot, bot.scheduler.preview(job.id, when))
            except Exception as exc:  # shown on the calendar, never an empty slot
                entry.error = f"{type(exc).__name__}: {exc}"[:500]
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
