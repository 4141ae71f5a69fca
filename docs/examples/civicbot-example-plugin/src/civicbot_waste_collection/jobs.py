"""The reminder job: every evening, post tomorrow's collections (if any)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from civicbot import Job, JobContext, JobError, PostDraft, cron

from civicbot_waste_collection.calendar import kinds_on, read_calendar
from civicbot_waste_collection.config import SECTION, WasteCollectionConfig
from civicbot_waste_collection.messages import reminder

JOB_ID = "waste_collection"


def reminder_job(config: WasteCollectionConfig) -> Job:
    """A job that runs every day at ``config.hour``:00 and posts if tomorrow is a collection day."""

    def build(ctx: JobContext) -> Iterable[PostDraft]:
        tomorrow = ctx.scheduled_time.astimezone(ctx.bot.timezone).date() + timedelta(days=1)
        try:
            calendar = read_calendar(config.calendar)
        except ValueError as exc:  # the file was broken after the bot started
            raise JobError(str(exc)) from exc
        kinds = kinds_on(calendar, tomorrow)
        if not kinds:
            return []
        return [PostDraft(
            text=reminder(tomorrow, kinds, config.hashtags, ctx.bot.language),
            # one reminder per collection day, whatever the time it runs or how often
            dedup_key=f"{SECTION}:{tomorrow.isoformat()}",
        )]

    return Job(
        id=JOB_ID,
        schedule=cron(f"0 {config.hour} * * *"),
        func=build,
        description="waste collection reminder, the evening before",
        # after an outage, a reminder is still useful until late in the evening
        misfire_grace=timedelta(hours=3),
    )
