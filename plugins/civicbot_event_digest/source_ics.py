"""iCalendar feeds: recurrences, EXDATE, RECURRENCE-ID overrides, cancelled occurrences, all-day
events (exclusive DTEND), floating times, VTIMEZONE, and files holding bare VEVENTs.

Floating times are read in the source's ``timezone`` (default: the bot's); all-day dates are
calendar days of the bot's time zone (a date is not an instant: a UTC-only feed's "13 December"
is the 13th in town too).

Big feeds are pre-filtered before parsing: a one-off VEVENT whose dates are clearly outside the
window (two days of margin for time zones) is dropped without being parsed. Recurring events,
overrides and anything the filter cannot read are always kept.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events

from civicbot_event_digest.model import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    VENUE_MAX,
    Event,
    SourceError,
    aware,
    clean,
    clean_url,
)
from civicbot_event_digest.recurrence import cap_per_event, drop_unbounded

_BEGIN = b"BEGIN:VEVENT"
_END = b"END:VEVENT"
_MARGIN = timedelta(days=2)


def parse_ics(data: bytes, *, source: str, tz: tzinfo, start: datetime,
              end: datetime, day_tz: tzinfo | None = None,
              zone_from_config: bool = False, log: Any = None) -> list[Event]:
    """The occurrences overlapping ``[start, end)`` (with a margin; the caller filters).

    ``tz`` reads floating times, ``day_tz`` (default ``tz``) all-day dates. When the source's
    ``timezone`` is set in the config (``zone_from_config``), it wins over the calendar's own
    ``X-WR-TIMEZONE``, which recurring-ical-events would otherwise apply first. Unbounded or
    sub-hourly recurrences are refused and each event keeps a bounded number of occurrences
    (:mod:`civicbot_event_digest.recurrence`), logged on ``log`` with the event's name."""
    if b"BEGIN:VEVENT" not in data and b"BEGIN:VCALENDAR" not in data:
        raise SourceError("not an iCalendar file (no VCALENDAR or VEVENT)")
    data = prefilter(data, start.date() - _MARGIN, end.date() + _MARGIN)
    if b"BEGIN:VCALENDAR" not in data:
        data = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + data.strip() + b"\r\nEND:VCALENDAR\r\n"
    try:
        calendar = icalendar.Calendar.from_ical(data)
        if zone_from_config and "X-WR-TIMEZONE" in calendar:
            del calendar["X-WR-TIMEZONE"]
        drop_unbounded(calendar, (end + _MARGIN).date(), log)
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        components = cap_per_event(list(query.between(start - _MARGIN, end + _MARGIN)), log)
    except Exception as exc:  # icalendar raises ValueError, KeyError, TypeError...
        raise SourceError(f"malformed iCalendar data: {exc}") from exc
    events = []
    for component in components:
        event = _to_event(component, source, tz, day_tz or tz)
        if event is not None:
            events.append(event)
    return events


def prefilter(data: bytes, first: date, last: date) -> bytes:
    """Drop VEVENTs that cannot have an occurrence between ``first`` and ``last``.

    Kept: anything the filter cannot read, series with RDATE or EXRULE, overrides with a RANGE.
    Dropped: one-off events and overrides (RECURRENCE-ID) entirely outside the dates, series
    (RRULE) starting after ``last`` or ending (UNTIL) before ``first``.
    """
    pieces = data.split(_BEGIN)
    out = [pieces[0]]
    for piece in pieces[1:]:
        end = piece.find(_END)
        if end < 0 or _keep(piece[:end], first, last):
            out.append(_BEGIN)
            out.append(piece)
        else:  # keep what follows the VEVENT (VTIMEZONE, END:VCALENDAR...)
            out.append(piece[end + len(_END):])
    return b"".join(out)


def _value_day(block: bytes, name: bytes) -> date | None:
    """The date of the first ``NAME...:YYYYMMDD`` line of a VEVENT block."""
    at = block.find(b"\n" + name)
    if at < 0:
        return None
    colon = block.find(b":", at)
    if colon < 0 or block.find(b"\n", at + 1, colon) >= 0:
        return None
    return _day(block[colon + 1: colon + 9])


def _keep(block: bytes, first: date, last: date) -> bool:
    if b"\nRDATE" in block or b"\nEXRULE" in block or b"\nDURATION" in block:
        return True
    begin = _value_day(block, b"DTSTART")
    if begin is None:
        return True
    if b"\nRRULE" in block:
        if begin > last:
            return False
        until = block.find(b"UNTIL=", block.find(b"\nRRULE"))
        line_end = block.find(b"\n", block.find(b"\nRRULE") + 1)
        if 0 <= until < (line_end if line_end >= 0 else len(block)):
            stop = _day(block[until + 6: until + 14])
            return stop is None or stop >= first
        return True
    if b"\nRECURRENCE-ID" in block:
        if b"RANGE=" in block:
            return True
        original = _value_day(block, b"RECURRENCE-ID")
        if original is None or first <= original <= last:
            return True
    finish = _value_day(block, b"DTEND") or begin
    return not (begin > last or max(begin, finish) < first)


def _day(raw: bytes) -> date | None:
    if len(raw) < 8 or not raw[:8].isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError:
        return None


def _to_event(component: Any, source: str, tz: tzinfo, day_tz: tzinfo) -> Event | None:
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
        start, end = aware(dtstart, day_tz), aware(end_day, day_tz)
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
