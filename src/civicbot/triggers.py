"""Turn a :class:`civicbot.jobs.Schedule` into an APScheduler 3 trigger.

APScheduler 3 reads cron weekday numbers with 0 = Monday, unlike crontab (0 = Sunday; see
agronholm/apscheduler#286). People write crontab, so numbers are translated to day names here:
``0 9 * * 1`` is Monday 09:00, as in every crontab.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from civicbot.jobs import Schedule

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_weekdays(field: str) -> str:
    """Translate crontab weekday numbers (0 or 7 = Sunday) into APScheduler day names."""

    def name(match: re.Match[str]) -> str:
        number = int(match.group(0))
        if number > 7:
            raise ValueError(f"weekday {number} is out of range 0-7")
        return _DAYS[number]

    out = []
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base in {"*", "?"}:
            out.append(part)
            continue
        base = re.sub(r"\d+", name, base)
        if base == "sun-sun":
            base = "*"
        elif "-" in base:
            start, end = base.split("-", 1)
            if start != "sun" and end == "sun":  # "1-7" / "1-0": Monday to Sunday
                base = f"{start}-sun"
        out.append(f"{base}/{step}" if step else base)
    return ",".join(out)


def localize(value: datetime | None, zone: tzinfo) -> datetime | None:
    """A naive datetime is read in the bot's time zone."""
    if value is None:
        return None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def repeated_wall_time(when: datetime, zone: tzinfo) -> bool:
    """True for the second pass of a wall-clock time repeated when clocks go back (DST end)."""
    local = when.astimezone(zone)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


def fixed_hour(schedule: Schedule) -> bool:
    """A cron schedule whose hour is not a wildcard (``30 2 * * *``, not ``15 * * * *``): like
    crontab, it runs once on the night the clocks go back, not in both passes of the hour."""
    return (schedule.kind == "cron" and schedule.cron is not None
            and not schedule.cron.split()[1].startswith("*"))


def build_trigger(schedule: Schedule, zone: tzinfo) -> BaseTrigger:
    start, until = localize(schedule.start, zone), localize(schedule.until, zone)
    if schedule.kind == "cron":
        assert schedule.cron is not None
        minute, hour, day, month, weekday = schedule.cron.split()
        return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                           day_of_week=crontab_weekdays(weekday), start_date=start,
                           end_date=until, timezone=zone)
    if schedule.kind == "at":
        assert schedule.at is not None
        return DateTrigger(run_date=localize(schedule.at, zone), timezone=zone)
    assert schedule.every is not None
    return IntervalTrigger(seconds=schedule.every.total_seconds(), start_date=start,
                           end_date=until, timezone=zone)


def first_fire_after(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after`` (a previous run)."""
    result: datetime | None = trigger.get_next_fire_time(after, after)
    return result
