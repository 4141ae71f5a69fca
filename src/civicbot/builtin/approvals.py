"""Built-in plugin ``core.approvals``: build drafts of jobs under approval ahead of their time,
and run the posts written on the desk at theirs (see :mod:`civicbot.approvals`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from civicbot.approvals import (
    APPROVED,
    DESK_JOB_PREFIX,
    WAITING,
    draft_from_json,
    prepare_drafts,
)
from civicbot.bot import Bot
from civicbot.drafts import PostDraft
from civicbot.hookspecs import hookimpl
from civicbot.jobs import Job, JobContext, at, every
from civicbot.state import ApprovalRecord

JOB_ID = "core.approvals"
#: How often drafts are built ahead and desk posts are synchronised with the state store.
INTERVAL = timedelta(minutes=1)


def desk_job(bot: Bot, record: ApprovalRecord) -> Job:
    """The job that publishes one desk post at its time (if approved then)."""
    record_id = record.id

    def build(ctx: JobContext) -> list[PostDraft]:
        current = ctx.bot.state.store.get_approval(record_id)
        return [draft_from_json(d) for d in current.drafts] if current else []

    return Job(id=record.job_id,
               schedule=at(record.run_time.astimezone(bot.timezone)), func=build,
               description=f"post written on the desk by {record.author or '?'}",
               approval="required", plugin="core.approvals")


def sync_desk_jobs(bot: Bot) -> None:
    """One job per desk post still to send; none for deleted, rejected or sent ones."""
    scheduler = bot.scheduler
    live = {r.job_id: r for r in bot.state.store.list_approvals(
        bot.name, states=(WAITING, APPROVED), job_id=DESK_JOB_PREFIX)}
    for job_id in [j for j in scheduler.jobs if j.startswith(DESK_JOB_PREFIX)]:
        if job_id not in live:
            scheduler.remove(job_id)
    for record in live.values():
        job = scheduler.jobs.get(record.job_id)
        if job is None or job.schedule.at != record.run_time.astimezone(bot.timezone):
            scheduler.add(desk_job(bot, record), replace=True)


def _tick(ctx: JobContext) -> None:
    if ctx.preview:
        return
    prepare_drafts(ctx.bot)
    sync_desk_jobs(ctx.bot)


@hookimpl
def civicbot_register_jobs(register: Callable[[Job], None], bot: Bot) -> None:
    register(Job(id=JOB_ID, schedule=every(INTERVAL), func=_tick, misfire_grace=INTERVAL,
                 description="build drafts waiting for approval; schedule desk posts"))
    for record in bot.state.store.list_approvals(bot.name, states=(WAITING, APPROVED),
                                                 job_id=DESK_JOB_PREFIX):
        register(desk_job(bot, record))


@hookimpl
def civicbot_startup(bot: Bot) -> None:
    if not bot.dry_run:
        prepare_drafts(bot)
