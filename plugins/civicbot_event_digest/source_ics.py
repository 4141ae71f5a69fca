"""iCalendar feeds: recurrences, EXDATE, RECURRENCE-ID overrides, cancelled occurrences, all-day
events (exclusive DTEND), floating times, VTIMEZONE, and files holding bare VEVENTs.

Floating times and all-day dates are read in the source's ``timezone`` (default: the bot's).

Big feeds are pre-filtered before parsing: a one-off VEVENT whose dates are clearly outside the
window (two days of margin for time zones) is dropped without being parsed. Recurring events,
overrides and anything the filter cannot read are always kept.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events

from civicbot_event_digest.fetch import SourceError
from civicbot_event_digest.model import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    VENUE_MAX,
    Event,
    aware,
    clean,
    clean_url,
)

_VEVENT = re.compile(rb"BEGIN:VEVENT\r?\n.*?END:VEVENT[ \t]*(?:\r?\n|$)", re.DOTALL)
_RECURRING = re.compile(rb"^(?:RRULE|RDATE|EXRULE|RECURRENCE-ID)[;:]", re.MULTILINE)
_DTSTART = re.compile(rb"^DTSTART[^:\r\n]*:(\d{8})", re.MULTILINE)
_DTEND = re.compile(rb"^DTEND[^:\r\n]*:(\d{8})", re.MULTILINE)
_DURATION = re.compile(rb"^DURATION[;:]", re.MULTILINE)
_MARGIN = timedelta(days=2)


def parse_ics(data: bytes, *, source: str, tz: tzinfo, start: datetime,
              end: datetime) -> list[Event]:
    """The occurrences overlapping ``[start, end)`` (with a margin; the caller filters)."""
    if b"BEGIN:VEVENT" not in data and b"BEGIN:VCALENDAR" not in data:
        raise SourceError("not an iCalendar file (no VCALENDAR or VEVENT)")
    data = prefilter(data, start.date() - _MARGIN, end.date() + _MARGIN)
    if b"BEGIN:VCALENDAR" not in data:
        data = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + data.strip() + b"\r\nEND:VCALENDAR\r\n"
    try:
        calendar = icalendar.Calendar.from_ical(data)
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        components = list(query.between(start - _MARGIN, end + _MARGIN))
    except Exception as exc:  # icalendar raises ValueError, KeyError, TypeError...
        raise SourceError(f"malformed iCalendar data: {exc}") from exc
    events = []
    for component in components:
        event = _to_event(component, source, tz)
        if event is not None:
            events.append(event)
    return events


def prefilter(data: bytes, first: date, last: date) -> bytes:
    """Drop one-off VEVENTs entirely before ``first`` or after ``last``."""

    def keep(match: re.Match[bytes]) -> bytes:
        block = match.group(0)
        if _RECURRING.search(block) or _DURATION.search(block):
            return block
        found = _DTSTART.search(block)
        if found is None:
            return block
        begin = _day(found.group(1))
        ends = _DTEND.search(block)
        finish = _day(ends.group(1)) if ends else begin
        if begin is None or finish is None:
            return block
        if begin > last or max(begin, finish) < first:
            return b""
        return block

    return _VEVENT.sub(keep, data)


def _day(raw: bytes) -> date | None:
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError:
        return None


def _to_event(component: Any, source: str, tz: tzinfo) -> Event | None:
    if str(component.get("STATUS", "")).upper() == "CANCELLED":
        return None
    title = clean(component.get("SUMMARY", ""), TITLE_MAX)
    start_prop = component.get("DTSTART")
    if not title or start_prop is None:
        return None
    dtstart = start_prop.dt
    end_prop = component.get("DTEND")
    dtend: date | datetime | None = end_prop.dt if end_prop is not None else None
    if dtend is None and component.get("DURATION") is not None:
        dtend = dtstart + component.get("DURATION").dt
    all_day = not isinstance(dtstart, datetime)
    if all_day:
        end_day = dtend if isinstance(dtend, date) and not isinstance(dtend, datetime) else None
        if end_day is None or end_day <= dtstart:  # DTEND missing or DTEND == DTSTART
            end_day = dtstart + timedelta(days=1)
        start, end = aware(dtstart, tz), aware(end_day, tz)
    else:
        start = aware(dtstart, tz)
        end = aware(dtend, tz) if isinstance(dtend, datetime) else start
        end = max(end, start)
    location = str(component.get("LOCATION", "") or "").replace("\n", ", ")
    return Event(
        title=title, start=start, end=end, source=source, all_day=all_day,
        venue=clean(location, VENUE_MAX), url=clean_url(component.get("URL", "")),
        uid=str(component.get("UID", "") or ""),
        description=clean(component.get("DESCRIPTION", ""), DESCRIPTION_MAX),
    )
