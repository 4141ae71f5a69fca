"""The period a digest or a command covers, in local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from civicbot_event_digest.config import NextDays, Window
from civicbot_event_digest.model import local_midnight


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in local time; ``kind`` is this_week, weekend, today or next_days."""

    kind: str
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    @property
    def days(self) -> int:
        return (self.end.date() - self.start.date()).days


def period_for(window: Window, now: datetime, tz: tzinfo) -> Period:
    """``this_week``: Monday 00:00 to the next Monday 00:00 of the week holding ``now``;
    ``weekend``: Saturday 00:00 to Monday 00:00 (the coming one, or the current one on a
    weekend); ``today``; ``next_days: N``: today 00:00 to N days later."""
    today = now.astimezone(tz).date()
    if isinstance(window, NextDays):
        return _span("next_days", today, window.next_days, tz)
    if window == "this_week":
        return _span("this_week", today - timedelta(days=today.weekday()), 7, tz)
    if window == "weekend":
        weekday = today.weekday()
        saturday = today + timedelta(days=5 - weekday) if weekday < 5 else \
            today - timedelta(days=weekday - 5)
        return _span("weekend", saturday, 2, tz)
    return _span("today", today, 1, tz)


def _span(kind: str, first: date, days: int, tz: tzinfo) -> Period:
    # built from dates, so a week across a DST change still ends at local midnight
    return Period(kind, local_midnight(first, tz), local_midnight(first + timedelta(days=days), tz))
