"""Jobs that plugins register: when they run (:class:`Schedule`) and what they do (:class:`Job`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from civicbot.drafts import PostDraft

if TYPE_CHECKING:
    from civicbot.bot import Bot


@dataclass(frozen=True)
class Schedule:
    """When a job runs. Build one with :func:`cron`, :func:`at` or :func:`every`."""

    kind: Literal["cron", "at", "every"]
    cron: str | None = None
    at: datetime | None = None
    every: timedelta | None = None
    start: datetime | None = None
    until: datetime | None = None

    def describe(self) -> str:
        if self.kind == "cron":
            return f"cron {self.cron}"
        if self.kind == "at":
            return f"at {self.at.isoformat() if self.at else '?'}"
        from civicbot.durations import format_duration

        return f"every {format_duration(self.every) if self.every else '?'}"


def cron(expression: str, *, start: datetime | None = None, until: datetime | None = None) -> Schedule:
    """A 5-field cron expression (minute hour day month weekday) in the bot's timezone.

    Daylight-saving changes are handled by APScheduler: ``cron("0 9 * * 1")`` is 09:00 local
    time every Monday, summer and winter. A bad expression raises :class:`ValueError` naming
    the field; day and month names may be written in English or French (``lun``, ``mon``).
    """
    from civicbot.crontab import check_cron

    return Schedule(kind="cron", cron=check_cron(expression), start=start, until=until)


def at(when: datetime) -> Schedule:
    """Once, at ``when`` (a naive datetime is read in the bot's timezone)."""
    return Schedule(kind="at", at=when)


def every(
    interval: timedelta, *, start: datetime | None = None, until: datetime | None = None
) -> Schedule:
    """Every ``interval``, from ``start`` (default: now) until ``until`` (default: for ever)."""
    if interval <= timedelta(0):
        raise ValueError("the interval must be positive")
    return Schedule(kind="every", every=interval, start=start, until=until)


@dataclass
class JobContext:
    """What a job function receives.

    ``scheduled_time`` is the time the run was planned for (use it in dedup keys, so a run is
    posted once whatever happens); ``now`` is the time the job should consider current (the
    ``--at`` time of ``civicbot preview``). When ``preview`` is true the job must not change any
    state: its drafts are printed, not posted.
    """

    bot: Bot
    job: Job
    scheduled_time: datetime
    now: datetime
    preview: bool = False


JobFunc = Callable[[JobContext], Iterable[PostDraft] | None]


@dataclass(frozen=True)
class Job:
    """A job: an id unique across plugins, a schedule, and a function returning drafts.

    The drafts the function returns are published in order (a draft whose ``in_reply_to`` is
    ``PREVIOUS`` answers the one before it). A job that cannot build its posts raises
    :class:`civicbot.errors.JobError`.
    """

    id: str
    schedule: Schedule
    func: JobFunc
    description: str = ""
    misfire_grace: timedelta | None = None
    coalesce: bool = True
    #: ``required``: the drafts are built ``desk.approval.lead`` before the run and published
    #: only once approved (see :mod:`civicbot.approvals`).
    approval: Literal["required", "never"] = "never"
    #: Channels of the job's drafts that name none (``None``: the config's ``channels``).
    channels: tuple[str, ...] | None = None
    #: Set by the host: the plugin that registered the job.
    plugin: str = field(default="", compare=False)
