"""Review: a source that fails for a while, or is added later, must not make its whole
agenda "new"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import time_machine
from event_digest_support import EXAMPLES, PARIS

import civicbot_event_digest
from civicbot import Bot, html_to_text
from civicbot.testing.webserver import FakeWebServer

BAL_FOLK = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
BEGIN:VEVENT\r
UID:bal-folk@asso.example\r
SUMMARY:Bal folk\r
DTSTART;TZID=Europe/Paris:20261219T203000\r
DTEND;TZID=Europe/Paris:20261219T233000\r
LOCATION:Halle aux grains\r
END:VEVENT\r
END:VCALENDAR\r
"""


def make(civicbot_make_bot: Callable[..., Bot], sources: list[dict[str, Any]],
         state: Any = None) -> Bot:
    extra = {"state": state} if state is not None else {}
    return civicbot_make_bot(plugins=[civicbot_event_digest], config={
        "timezone": "Europe/Paris",
        "plugins": {"event_digest": {"sources": sources, "new_events": {"enabled": True}}}},
        **extra)


def test_events_of_a_source_that_failed_for_a_while_are_not_new(
        civicbot_make_bot: Callable[..., Bot], civicbot_sandbox: Any) -> None:
    with FakeWebServer() as web, time_machine.travel(
            datetime(2026, 12, 1, 9, 0, tzinfo=PARIS), tick=False) as clock:
        web.add_file("/ville.ics", EXAMPLES / "ville.ics", "text/calendar")
        web.add("/asso.ics", BAL_FOLK, "text/calendar")
        bot = make(civicbot_make_bot, [{"name": "Ville", "ics": f"{web.url}/ville.ics"},
                                       {"name": "Asso", "ics": f"{web.url}/asso.ics"}])
        job = bot.jobs["event_digest_new_events"]
        bot.scheduler.run(job, bot.now())  # learns both agendas
        web.add("/ville.ics", b"oops", "text/html", status=500)
        clock.shift(timedelta(hours=1))
        bot.scheduler.run(job, bot.now())  # Ville is down: Asso still checked
        web.add_file("/ville.ics", EXAMPLES / "ville.ics", "text/calendar")
        clock.shift(timedelta(hours=1))
        bot.scheduler.run(job, bot.now())  # Ville is back, with nothing new
    assert [html_to_text(s["content"]) for s in civicbot_sandbox.statuses] == []


def test_a_source_added_later_is_learned_silently_first(
        civicbot_make_bot: Callable[..., Bot], civicbot_sandbox: Any, tmp_path: Any) -> None:
    state = tmp_path / "state.sqlite3"
    with FakeWebServer() as web, time_machine.travel(
            datetime(2026, 12, 1, 9, 0, tzinfo=PARIS), tick=False) as clock:
        web.add_file("/ville.ics", EXAMPLES / "ville.ics", "text/calendar")
        web.add("/asso.ics", BAL_FOLK, "text/calendar")
        ville = {"name": "Ville", "ics": f"{web.url}/ville.ics"}
        first = make(civicbot_make_bot, [ville], state=state)
        first.scheduler.run(first.jobs["event_digest_new_events"], first.now())
        first.stop()
        clock.shift(timedelta(hours=1))
        second = make(civicbot_make_bot, [ville, {"name": "Asso", "ics": f"{web.url}/asso.ics"}],
                      state=state)
        second.scheduler.run(second.jobs["event_digest_new_events"], second.now())
    assert civicbot_sandbox.statuses == []
