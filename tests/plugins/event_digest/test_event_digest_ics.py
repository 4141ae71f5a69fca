"""iCalendar sources, on the real-world fixtures of tests/fixtures/ics_*.ics."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import structlog
from event_digest_support import FIXTURES, PARIS

from civicbot import Fetcher
from civicbot_event_digest import source_ics
from civicbot_event_digest.config import EventDigestConfig
from civicbot_event_digest.model import Event, SourceError
from civicbot_event_digest.source_ics import parse_ics, prefilter
from civicbot_event_digest.sources import collect


def events_of(name: str, start: date, end: date, tz: str = "Europe/Paris") -> list[Event]:
    zone = ZoneInfo(tz)
    config = EventDigestConfig.model_validate(
        {"sources": [{"name": "Test", "ics": str(FIXTURES / name)}]})
    fetcher = Fetcher(timeout=timedelta(seconds=5), max_bytes=10**7, user_agent="test")
    found = collect(fetcher, config, tz=zone, language="fr", log=structlog.get_logger(),
                    start=datetime.combine(start, datetime.min.time(), zone),
                    end=datetime.combine(end, datetime.min.time(), zone))
    assert not found.failed
    return found.events


def starts(events: list[Event]) -> list[str]:
    return [e.start.isoformat() for e in events]


def test_recurrence_id_override_moves_one_occurrence_and_cancelled_one_is_removed() -> None:
    events = events_of("ics_rrule_recurrence_id_cancelled.ics", date(2014, 6, 1), date(2014, 9, 1))
    assert starts(events) == [
        "2014-06-30T07:00:00+02:00",
        "2014-07-07T09:00:00+02:00",  # RECURRENCE-ID override: 09:00-14:00 instead of 07:00
        # 14 July: STATUS:CANCELLED override, gone
        "2014-07-21T07:00:00+02:00",
        "2014-07-28T07:00:00+02:00",
        "2014-08-04T07:00:00+02:00",
    ]
    assert events[1].end.isoformat() == "2014-07-07T14:00:00+02:00"
    assert {e.title for e in events} == {"Arbeit"}


def test_exdate_in_utc_removes_the_occurrence_of_a_tzid_series() -> None:
    events = events_of("ics_exdate_utc_vs_tzid_dtstart.ics", date(2014, 6, 1), date(2014, 8, 1))
    assert starts(events) == ["2014-06-30T07:30:00+02:00", "2014-07-07T07:30:00+02:00",
                              "2014-07-14T07:30:00+02:00"]
    assert events[0].end - events[0].start == timedelta(hours=4, minutes=31)  # DURATION


def test_exdate_with_tzid_on_several_lines() -> None:
    events = events_of("ics_weekly_rrule_multi_exdate.ics", date(2012, 3, 26), date(2012, 7, 9))
    assert [e.start.date().isoformat() for e in events] == [
        "2012-03-27", "2012-04-24", "2012-05-08", "2012-05-15", "2012-05-22", "2012-06-05",
        "2012-06-12", "2012-06-19", "2012-06-26", "2012-07-03"]
    assert all(e.start.hour == 10 for e in events)


def test_google_bare_vevent_with_exdates_in_new_york_time() -> None:
    # a VEVENT-only file (no VCALENDAR wrapper); 11 and 12 October are excluded
    events = events_of("ics_google_weekly_exdate_tzid.ics", date(2013, 10, 7), date(2013, 10, 21))
    assert starts(events) == ["2013-10-18T18:00:00+02:00", "2013-10-19T18:00:00+02:00"]
    assert events[0].title == "Market East Live!"
    assert events[0].venue == "12th and Market Streets (weather permitting)"


def test_exdates_that_do_not_match_any_occurrence_are_ignored() -> None:
    events = events_of("ics_exdate_mismatch.ics", date(2011, 11, 1), date(2011, 12, 31))
    assert starts(events) == ["2011-11-12T21:50:00+01:00", "2011-11-19T21:50:00+01:00",
                              "2011-12-03T21:50:00+01:00"]


def test_all_day_events_with_dtend_equal_to_dtstart_last_one_day() -> None:
    events = events_of("ics_allday_events_dtend_eq_dtstart.ics", date(2022, 1, 1), date(2022, 1, 8))
    assert [(e.title, e.all_day, e.start.isoformat(), e.end.isoformat()) for e in events] == [
        ("New Year's Day", True, "2022-01-01T00:00:00+01:00", "2022-01-02T00:00:00+01:00"),
        ("Orthodox Christmas", True, "2022-01-07T00:00:00+01:00", "2022-01-08T00:00:00+01:00"),
    ]
    assert events[1].venue == "Russia"


def test_all_day_daily_series_with_exclusive_dtend() -> None:
    events = events_of("ics_allday_daily_rrule.ics", date(2014, 4, 14), date(2014, 4, 21))
    # COUNT=10 from 9 April: the 14th to the 18th are in the week, each one day long
    assert [e.start.date().day for e in events] == [14, 15, 16, 17, 18]
    assert all(e.all_day and e.end - e.start == timedelta(days=1) for e in events)


@pytest.mark.parametrize(("tz", "expected"), [
    ("Europe/Paris", "2014-04-09T09:30:00+02:00"),
    ("America/New_York", "2014-04-09T09:30:00-04:00"),
])
def test_floating_time_is_read_in_the_configured_time_zone(tz: str, expected: str) -> None:
    [event] = events_of("ics_floating_time.ics", date(2014, 4, 9), date(2014, 4, 10), tz)
    assert event.start.isoformat() == expected
    assert event.end - event.start == timedelta(hours=1)


def test_endless_rrule_keeps_local_time_across_daylight_saving() -> None:
    autumn = events_of("ics_google_export_vtimezone_endless_rrule.ics",
                       date(2016, 10, 24), date(2016, 11, 7))
    assert starts(autumn) == [
        "2016-10-28T14:00:00+02:00",  # first occurrence, summer time
        "2016-10-31T14:00:00+01:00", "2016-11-01T14:00:00+01:00", "2016-11-02T14:00:00+01:00",
        "2016-11-03T14:00:00+01:00", "2016-11-04T14:00:00+01:00"]
    summer = events_of("ics_google_export_vtimezone_endless_rrule.ics",
                       date(2027, 7, 5), date(2027, 7, 12))
    assert starts(summer)[0] == "2027-07-05T14:00:00+02:00" and len(summer) == 5
    assert summer[0].venue == "Roadstar 16, 12764 Happyville, Denmark"


def test_malformed_and_non_calendar_data_raise_source_errors() -> None:
    start = datetime(2026, 12, 7, tzinfo=PARIS)
    with pytest.raises(SourceError, match="not an iCalendar file"):
        parse_ics(b"<html>502 Bad Gateway</html>", source="x", tz=PARIS, start=start,
                  end=start + timedelta(days=7))
    with pytest.raises(SourceError, match="malformed iCalendar data"):
        parse_ics(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026120\r\n", source="x", tz=PARIS,
                  start=start, end=start + timedelta(days=7))


SERIES = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
BEGIN:VEVENT\r
UID:old@x\r
SUMMARY:Old one-off\r
DTSTART:20250101T100000Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:long@x\r
SUMMARY:Long exhibition\r
DTSTART;VALUE=DATE:20260101\r
DTEND;VALUE=DATE:20270101\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly@x\r
SUMMARY:Weekly reading\r
DTSTART;TZID=Europe/Paris:20260105T180000\r
RRULE:FREQ=WEEKLY;UNTIL=20261130T000000Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly@x\r
SUMMARY:Weekly reading (moved into the week)\r
RECURRENCE-ID;TZID=Europe/Paris:20261123T180000\r
DTSTART;TZID=Europe/Paris:20261209T180000\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:future@x\r
SUMMARY:Future series\r
DTSTART;TZID=Europe/Paris:20270105T180000\r
RRULE:FREQ=WEEKLY\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:now@x\r
SUMMARY:This week\r
DTSTART;TZID=Europe/Paris:20261208T180000\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_prefilter_drops_only_what_cannot_be_in_the_window(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    start = datetime(2026, 12, 7, tzinfo=PARIS)
    filtered = prefilter(SERIES, date(2026, 12, 5), date(2026, 12, 16))
    assert b"Old one-off" not in filtered and b"Future series" not in filtered
    assert b"SUMMARY:Weekly reading\r" not in filtered  # series ended (UNTIL) before the week
    assert b"moved into the week" in filtered and b"Long exhibition" in filtered
    fast = parse_ics(SERIES, source="x", tz=PARIS, start=start, end=start + timedelta(days=7))
    monkeypatch.setattr(source_ics, "prefilter", lambda data, first, last: data)
    slow = parse_ics(SERIES, source="x", tz=PARIS, start=start, end=start + timedelta(days=7))
    assert [(e.title, e.start) for e in fast] == [(e.title, e.start) for e in slow]
    assert sorted(e.title for e in fast) == ["Long exhibition", "This week",
                                             "Weekly reading (moved into the week)"]
