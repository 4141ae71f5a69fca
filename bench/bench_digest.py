"""Benchmark: a one-week digest from a generated iCalendar feed of 5,000 events.

The feed (about 2 MB) mixes one-off events spread over a year, weekly and daily recurring
series (with EXDATEs and a cancelled RECURRENCE-ID override), all-day exhibitions and floating
times. It is served by civicbot's FakeWebServer on 127.0.0.1, and the digest job of the
``event_digest`` plugin is previewed for the week of Monday 7 December 2026, exactly as
``civicbot preview`` would. The time printed covers fetching, parsing, expanding the
recurrences, merging and rendering the thread. Target: under 1 s. Run::

    /work/venv/bin/python bench/bench_digest.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog

import civicbot_event_digest
from civicbot import Bot, mastodon_length
from civicbot.testing.webserver import FakeWebServer

EVENTS = 5_000
TZ = ZoneInfo("Europe/Paris")
AT = datetime(2026, 12, 7, 8, 0, tzinfo=TZ)
VENUES = ["Bibliothèque Abbé-Grégoire", "Maison de la BD", "Musée des Beaux-Arts",
          "Château royal", "Halle aux grains", "Salle Jean-Cocteau", "Cathédrale Saint-Louis"]


def _kind(i: int) -> str:
    if i % 500 == 0:
        return "daily"
    return {10: "weekly", 2: "all-day", 3: "floating"}.get(i % 50, "one-off")


def generate_feed(count: int = EVENTS) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//civicbot//bench//FR"]
    first = date(2026, 1, 5)
    for i in range(count):
        day = first + timedelta(days=(i * 7) % 400)
        hour = 9 + i % 12
        start = datetime(day.year, day.month, day.day, hour, (i % 4) * 15)
        uid = f"bench-{i}@civicbot.example"
        lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
                  f"SUMMARY:Événement n° {i} : lecture, concert ou atelier",
                  f"LOCATION:{VENUES[i % len(VENUES)]}",
                  f"URL:https://agenda.example.org/evenements/{i}",
                  "DESCRIPTION:" + ("Une description assez longue pour peser. " * 6).strip()]
        kind = _kind(i)
        if kind == "weekly":  # weekly series with exclusions
            lines += [f"DTSTART;TZID=Europe/Paris:{start:%Y%m%dT%H%M%S}",
                      f"DTEND;TZID=Europe/Paris:{start + timedelta(hours=2):%Y%m%dT%H%M%S}",
                      "RRULE:FREQ=WEEKLY;COUNT=60",
                      f"EXDATE;TZID=Europe/Paris:{start + timedelta(weeks=3):%Y%m%dT%H%M%S}"]
        elif kind == "daily":  # a few daily series until a date
            lines += [f"DTSTART;TZID=Europe/Paris:{start:%Y%m%dT%H%M%S}",
                      f"DTEND;TZID=Europe/Paris:{start + timedelta(hours=1):%Y%m%dT%H%M%S}",
                      "RRULE:FREQ=DAILY;UNTIL=20270301T000000Z"]
        elif kind == "all-day":  # all-day exhibition over several weeks
            lines += [f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                      f"DTEND;VALUE=DATE:{day + timedelta(days=40):%Y%m%d}"]
        elif kind == "floating":  # floating time
            lines += [f"DTSTART:{start:%Y%m%dT%H%M%S}",
                      f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%S}"]
        else:
            lines += [f"DTSTART;TZID=Europe/Paris:{start:%Y%m%dT%H%M%S}",
                      f"DTEND;TZID=Europe/Paris:{start + timedelta(hours=2):%Y%m%dT%H%M%S}"]
        lines.append("END:VEVENT")
        if kind == "weekly":  # one occurrence of each weekly series cancelled
            moved = start + timedelta(weeks=5)
            lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
                      f"RECURRENCE-ID;TZID=Europe/Paris:{moved:%Y%m%dT%H%M%S}",
                      f"DTSTART;TZID=Europe/Paris:{moved:%Y%m%dT%H%M%S}",
                      f"SUMMARY:Événement n° {i} : lecture, concert ou atelier",
                      "STATUS:CANCELLED", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def main() -> int:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    feed = generate_feed()
    with FakeWebServer() as web, tempfile.TemporaryDirectory() as tmp:
        web.add("/agenda.ics", feed, "text/calendar")
        bot = Bot(plugins=[civicbot_event_digest], state=Path(tmp) / "state.sqlite3", config={
            "timezone": "Europe/Paris",
            "mastodon": {"max_characters": 500},
            "plugins": {"event_digest": {
                "sources": [{"name": "Agenda", "ics": f"{web.url}/agenda.ics"}],
                "digests": [{"id": "semaine", "cron": "0 8 * * 1", "window": "this_week",
                             "hashtags": ["AgendaBlois"], "max_events": 500}],
            }},
        })
        try:
            started = time.perf_counter()
            drafts = bot.scheduler.preview("semaine", AT)
            elapsed = time.perf_counter() - started
            again = time.perf_counter()
            bot.scheduler.preview("semaine", AT)  # conditional request: 304, cached body
            elapsed_cached = time.perf_counter() - again
        finally:
            bot.stop()
    events = sum(d.text.count("\n• ") for d in drafts)
    print(f"feed: {EVENTS} VEVENTs, {len(feed) / 1e6:.1f} MB")
    print(f"digest for the week of {AT.date()}: {events} events in {len(drafts)} posts")
    print(f"time: {elapsed:.3f} s (second run, feed not modified: {elapsed_cached:.3f} s)")
    if not drafts or any(mastodon_length(d.text) > 500 for d in drafts):
        print("error: empty digest or a post over the limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
