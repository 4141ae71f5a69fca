"""Issue 13 item 6: ``RRULE:FREQ=SECONDLY`` with no end took 60 s of CPU and 2.25 GB for one
digest (MINUTELY since 2020: 16 s, 304 MB). Sub-hourly and runaway rules are refused with a log
line naming the event, each event keeps a bounded number of occurrences, the others count."""

from __future__ import annotations

import time
import tracemalloc
from datetime import datetime
from typing import Any

import pytest
import structlog
from event_digest_support import PARIS
from structlog.testing import capture_logs

from civicbot import CommandContext
from civicbot.testing.webserver import FakeWebServer
from civicbot_event_digest import recurrence
from civicbot_event_digest.source_ics import parse_ics


def calendar(*rules: tuple[str, str, str]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0"]
    for uid, start, rule in rules:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:Event {uid}",
                  f"DTSTART:{start}", "DURATION:PT1H"]
        if rule:
            lines.append(f"RRULE:{rule}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


WEEK = (datetime(2026, 12, 7, tzinfo=PARIS), datetime(2026, 12, 14, tzinfo=PARIS))


@pytest.mark.parametrize("rule", [
    "FREQ=SECONDLY", "FREQ=MINUTELY", "FREQ=MINUTELY;INTERVAL=30",
    "FREQ=HOURLY;BYMINUTE=0,30", "FREQ=DAILY;BYHOUR=10;BYMINUTE=0,15,30,45",
    "FREQ=HOURLY",  # hourly since 2020: ~60,000 steps before the window
])
def test_runaway_rules_are_refused_quickly_and_named(rule: str) -> None:
    data = calendar(("storm", "20200101T000000Z", rule),
                    ("market", "20261205T080000Z", "FREQ=WEEKLY;BYDAY=SA,WE"))
    tracemalloc.start()
    started = time.monotonic()
    with capture_logs() as logs:
        events = parse_ics(data, source="Ville", tz=PARIS, start=WEEK[0], end=WEEK[1],
                           log=structlog.get_logger())
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert sorted({e.title for e in events}) == ["Event market"]
    refused = [e for e in logs if e["event"] == "recurring event refused"]
    assert refused and refused[0]["uid"] == "storm" and refused[0]["summary"] == "Event storm"
    assert refused[0]["log_level"] == "warning"
    assert elapsed < 5.0 and peak < 50_000_000


def test_reasonable_rules_are_kept() -> None:
    data = calendar(("daily", "19700101T090000Z", "FREQ=DAILY"),
                    ("counted", "20261207T090000Z", "FREQ=MINUTELY;COUNT=3;INTERVAL=60"),
                    ("hourly", "20261207T090000Z", "FREQ=HOURLY;UNTIL=20261207T120000Z"))
    assert recurrence.refusal is not None
    events = parse_ics(data, source="Ville", tz=PARIS, start=WEEK[0], end=WEEK[1])
    titles = [e.title for e in events]
    assert titles.count("Event daily") >= 7
    assert titles.count("Event hourly") == 4


def test_occurrences_per_event_are_capped() -> None:
    data = calendar(("hourly", "20261201T000000Z", "FREQ=HOURLY"))
    with capture_logs() as logs:
        events = parse_ics(data, source="Ville", tz=PARIS, start=WEEK[0], end=WEEK[1],
                           log=structlog.get_logger())
    assert len(events) == recurrence.MAX_PER_EVENT
    assert any(e["event"] == "recurring event capped" and e["uid"] == "hourly" for e in logs)


def test_the_agenda_command_uses_the_same_bounds(civicbot_make_bot: Any) -> None:
    import time_machine

    import civicbot_event_digest

    data = calendar(("storm", "20200101T000000Z", "FREQ=SECONDLY"),
                    ("market", "20261205T080000Z", "FREQ=WEEKLY;BYDAY=SA,WE"))
    with FakeWebServer() as web, \
            time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=PARIS), tick=False):
        web.add("/agenda.ics", data, "text/calendar")
        bot = civicbot_make_bot(plugins=[civicbot_event_digest], config={
            "timezone": "Europe/Paris",
            "plugins": {"event_digest": {"sources": [
                {"name": "Ville", "ics": f"{web.url}/agenda.ics"}]}}})
        agenda = next(c for c in bot.commands if "agenda" in c.names)
        ctx = CommandContext(bot=bot, status={"id": "1"}, notification={},
                             sender="alice@ville.example")
        with capture_logs() as logs:
            text = agenda.handler(ctx) or ""
    assert "Event market" in text and "Event storm" not in text
    assert any(e["event"] == "recurring event refused" and e["uid"] == "storm" for e in logs)
