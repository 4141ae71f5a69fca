"""A source's configured time zone wins over the calendar's X-WR-TIMEZONE for floating times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from civicbot_event_digest.source_ics import parse_ics

PARIS = ZoneInfo("Europe/Paris")
CAL = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
X-WR-TIMEZONE:America/New_York\r
BEGIN:VEVENT\r
UID:floating-1\r
DTSTART:20261209T180000\r
DTEND:20261209T200000\r
SUMMARY:Concert du soir\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _start(**kw):
    [event] = parse_ics(CAL, source="Ville", start=datetime(2026, 12, 7, tzinfo=PARIS),
                        end=datetime(2026, 12, 14, tzinfo=PARIS), day_tz=PARIS, **kw)
    return event.start


def test_configured_zone_wins_over_x_wr_timezone():
    start = _start(tz=PARIS, zone_from_config=True)
    assert start == datetime(2026, 12, 9, 18, 0, tzinfo=PARIS)


def test_without_a_configured_zone_the_calendar_header_applies():
    start = _start(tz=PARIS)
    assert start == datetime(2026, 12, 9, 18, 0, tzinfo=ZoneInfo("America/New_York"))
