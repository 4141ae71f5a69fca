"""The approval queue: drafts built ahead of their time, published only once approved.

A job registered with ``approval="required"`` (``approval: required`` in a plugin's config
entry) does not build its posts at its time. ``desk.approval.lead`` (default 2h) before each
run, the built-in plugin ``core.approvals`` builds the drafts (as ``civicbot preview`` would,
for that time) and queues them in the state store as *waiting*. An approver may edit them
(checked like any draft), approve or reject them — on the desk or with ``civicbot approve`` /
``civicbot reject``, from another process, through the state store. At the run's time the
scheduler asks :func:`drafts_for_run`: approved drafts are published (with their dedup keys, so
once), a draft still waiting is marked *expired* and logged, a rejected one is dropped.

Posts written on the desk are records of the same queue (``job_id`` ``desk:<hex>``), run by a
job of the same id at their time; they are *approved* from the start unless
``desk.approval.desk_posts`` is ``required``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from civicbot.desk.config import DEFAULT_LEAD
from civicbot.drafts import Media, PostDraft
from civicbot.errors import PostRefused
from civicbot.state import ApprovalRecord

if TYPE_CHECKING:
    from civicbot.bot import Bot
    from civicbot.jobs import Job

WAITING, APPROVED, REJECTED, EXPIRED, PUBLISHED, DELETED = (
    "waiting", "approved", "rejected", "expired", "published", "deleted")
#: Posts written on the desk have the ``job_id`` (and job) ``desk:<random hex>``.
DESK_JOB_PREFIX = "desk:"
#: Who the log and the audit name for what the daemon does by itself.
SYSTEM = "civicbot"


class ApprovalError(Exception):
    """An approval action that cannot be done (unknown id, already decided, invalid edit)."""


def lead(bot: Bot) -> timedelta:
    desk = bot.settings.core.desk
    return desk.approval.lead if desk is not None else DEFAULT_LEAD


# -- drafts as JSON ------------------------------------------------------------------------------
def draft_to_json(draft: PostDraft) -> dict[str, Any]:
    """Everything of a draft, to keep it in the queue and publish it later as it was."""
    return {
        "text": draft.text, "dedup_key": draft.dedup_key, "visibility": draft.visibility,
        "spoiler_text": draft.spoiler_text, "language": draft.language,
        "media": [m.to_json() for m in draft.media], "in_reply_to": draft.in_reply_to,
        "reply_to_key": draft.reply_to_key, "sensitive": draft.sensitive,
        "scheduled_at": draft.scheduled_at.isoformat() if draft.scheduled_at else None,
        "pin": draft.pin, "source": draft.source,
        "channels": list(draft.channels) if draft.channels is not None else None,
    }


def draft_from_json(data: dict[str, Any]) -> PostDraft:
    scheduled = data.get("scheduled_at")
    return PostDraft(
        text=str(data.get("text") or ""), dedup_key=str(data["dedup_key"]),
        visibility=data.get("visibility") or "public",
        spoiler_text=str(data.get("spoiler_text") or ""), language=data.get("language"),
        media=[Media(Path(m["path"]), str(m.get("description") or ""))
               for m in data.get("media") or []],
        in_reply_to=data.get("in_reply_to"), reply_to_key=data.get("reply_to_key"),
        sensitive=bool(data.get("sensitive")),
        scheduled_at=datetime.fromisoformat(scheduled) if scheduled else None,
        pin=bool(data.get("pin")), source=str(data.get("source") or ""),
        channels=tuple(data["channels"]) if data.get("channels") is not None else None,
    )


def first_line(record: ApprovalRecord) -> str:
    text = next((str(d.get("text") or "") for d in record.drafts), "")
    return next((line.strip() for line in text.splitlines() if line.strip()), "(no text)")


# -- building drafts ahead -----------------------------------------------------------------------
def upcoming_runs(bot: Bot, job: Job, start: datetime, end: datetime) -> list[datetime]:
    """The job's run times in ``(start, end]``."""
    from civicbot.triggers import build_trigger

    trigger = build_trigger(job.schedule, bot.timezone)
    out: list[datetime] = []
    previous: datetime | None = None
    now = start
    while len(out) < 1000:
        fire: datetime | None = trigger.get_next_fire_time(previous, now)
        if fire is None or fire > end:
            break
        if fire > start:
            out.append(fire)
        previous, now = fire, fire + timedelta(microseconds=1)
    return out


def prepare_drafts(bot: Bot, now: datetime | None = None) -> list[int]:
    """Queue the drafts of every run under approval due within the lead; return new ids."""
    now = now or bot.now()
    store, created = bot.state.store, []
    for job in list(bot.jobs.values()):
        if job.approval != "required" or job.id.startswith(DESK_JOB_PREFIX):
            continue
        last = store.get_job_run(bot.name, job.id)
        for when in upcoming_runs(bot, job, now, now + lead(bot)):
            if last is not None and when <= last[0]:
                continue
            if store.find_approval(bot.name, job.id, when) is not None:
                continue
            try:
                drafts = bot.scheduler.preview(job.id, when)
            except Exception as exc:  # shown on the desk; retried at the next round
                bot.log.error("could not build drafts for approval", job=job.id,
                              scheduled=when.isoformat(), error=str(exc)[:300])
                continue
            new = store.add_approval(bot.name, job.id, when, [draft_to_json(d) for d in drafts])
            if new is not None:
                created.append(new)
                bot.log.info("drafts waiting for approval", job=job.id, approval_id=new,
                             scheduled=when.isoformat(), drafts=len(drafts))
    return created


# -- at the run's time -----------------------------------------------------------------------------
def drafts_for_run(bot: Bot, job: Job, scheduled_time: datetime) -> tuple[list[PostDraft],
                                                                        ApprovalRecord | None]:
    """What a run under approval publishes: its approved drafts, or nothing (and why, logged)."""
    store = bot.state.store
    log = bot.log.bind(job=job.id, scheduled=scheduled_time.isoformat())
    if job.id.startswith(DESK_JOB_PREFIX):
        record = next(iter(store.list_approvals(bot.name, job_id=job.id)), None)
        if record is None:
            return [], None
    else:
        record = store.find_approval(bot.name, job.id, scheduled_time)
    if record is None:
        # never queued (the daemon started after the lead): kept as expired, so it is reported
        try:
            drafts = [draft_to_json(d) for d in bot.scheduler.preview(job.id, scheduled_time)]
        except Exception as exc:
            drafts = []
            log.error("could not build drafts for approval", error=str(exc)[:300])
        new = store.add_approval(bot.name, job.id, scheduled_time, drafts, state=EXPIRED)
        if new is not None:
            store.update_approval(new, expect=(EXPIRED,), reason="never approved: queued too late")
        log.warning("drafts were not approved before their time; not published", approval_id=new)
        store.add_audit(SYSTEM, "expire", f"#{new} {job.id} {scheduled_time.isoformat()}")
        return [], None
    if record.state == WAITING:
        if store.update_approval(record.id, expect=(WAITING,), state=EXPIRED,
                                 reason="not approved before its time"):
            log.warning("drafts were not approved before their time; not published",
                        approval_id=record.id)
            store.add_audit(SYSTEM, "expire", f"#{record.id} {job.id} "
                            f"{scheduled_time.isoformat()}")
            return [], None
        record = store.get_approval(record.id) or record  # decided just now
    if record.state != APPROVED:
        log.info("drafts not published", approval_id=record.id, state=record.state)
        return [], None
    return [draft_from_json(d) for d in record.drafts], record


def mark_published(bot: Bot, record: ApprovalRecord, failed: Iterable[str]) -> None:
    problems = list(failed)
    bot.state.store.update_approval(record.id, expect=(APPROVED,), state=PUBLISHED,
                                    reason="; ".join(problems) or None)


# -- decisions (CLI and desk) ------------------------------------------------------------------------
def decide(store: Any, approval_id: int, *, approve: bool, by: str, reason: str = "") -> ApprovalRecord:
    """Approve or reject a waiting record (raises :class:`ApprovalError`)."""
    record = store.get_approval(approval_id)
    if record is None:
        raise ApprovalError(f"no draft #{approval_id}")
    if not approve and not reason.strip():
        raise ApprovalError("a rejection needs a reason")
    state = APPROVED if approve else REJECTED
    if not store.update_approval(approval_id, expect=(WAITING,), state=state, decided_by=by,
                                 reason=None if approve else reason.strip()):
        raise ApprovalError(f"draft #{approval_id} is {record.state}, not waiting")
    store.add_audit(by, "approve" if approve else "reject",
                    f"#{approval_id} {record.job_id}" + ("" if approve else f": {reason.strip()}"))
    decided: ApprovalRecord = store.get_approval(approval_id)
    return decided


def check_edit(drafts: list[PostDraft], original: list[dict[str, Any]], limit: int) -> None:
    """An edited draft is checked like any draft: not empty, alt text on every image, and not
    longer than the instance's limit unless the original was (raises :class:`PostRefused`)."""
    from civicbot.publisher import check_draft
    from civicbot.text import mastodon_length

    for draft, before in zip(drafts, original, strict=True):
        check_draft(draft)
        length = mastodon_length(draft.text) + mastodon_length(draft.spoiler_text)
        was = mastodon_length(str(before.get("text") or "")) + mastodon_length(
            str(before.get("spoiler_text") or ""))
        if length > limit and length > was:
            raise PostRefused(f"too long: {length} characters (the limit is {limit})")
