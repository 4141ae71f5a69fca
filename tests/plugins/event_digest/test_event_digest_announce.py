"""Optional announcements: new events and reminders, each posted at most once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import time_machine
from event_digest_support import EXAMPLES, PARIS

import civicbot_event_digest
from civicbot import Bot, html_to_text
from civicbot.testing.webserver import FakeWebServer

BAL_FOLK = b"""BEGIN:VEVENT\r
UID:bal-folk@ville.example\r
SUMMARY:Bal folk\r
DTSTART;TZID=Europe/Paris:20261219T203000\r
DTEND;TZID=Europe/Paris:20261219T233000\r
LOCATION:Halle aux grains\r
URL:https://ville.example.org/bal-folk\r
END:VEVENT\r
END:VCALENDAR"""


def make(civicbot_make_bot: Callable[..., Bot], url: str, **section: Any) -> Bot:
    return civicbot_make_bot(plugins=[civicbot_event_digest], config={
        "timezone": "Europe/Paris",
        "plugins": {"event_digest": {"sources": [{"name": "Ville", "ics": url}],
                                     "hashtags": ["AgendaBlois"], **section}}})


def texts(sandbox: Any) -> list[str]:
    return [html_to_text(s["content"]) for s in sandbox.statuses]


def test_new_event_is_announced_once(civicbot_make_bot: Callable[..., Bot],
                                     civicbot_sandbox: Any) -> None:
    original = (EXAMPLES / "ville.ics").read_bytes()
    with FakeWebServer() as web, time_machine.travel(
            datetime(2026, 12, 1, 9, 0, tzinfo=PARIS), tick=False) as clock:
        web.add("/ville.ics", original, "text/calendar")
        bot = make(civicbot_make_bot, f"{web.url}/ville.ics", new_events={"enabled": True})
        job = bot.jobs["event_digest_new_events"]
        assert bot.scheduler.preview(job.id) == []  # preview changes nothing...
        assert bot.state.namespace("event_digest").get("known_events") is None
        bot.scheduler.run(job, bot.now())  # ...the first run learns the agenda, posts nothing
        assert civicbot_sandbox.statuses == []
        web.add("/ville.ics", original.replace(b"END:VCALENDAR", BAL_FOLK), "text/calendar")
        clock.shift(timedelta(hours=1))
        preview = bot.scheduler.preview(job.id)
        bot.scheduler.run(job, bot.now())
        clock.shift(timedelta(hours=1))
        bot.scheduler.run(job, bot.now())
    expected = ("🆕 Nouveau dans l'agenda : Bal folk\n"
                "Samedi 19 décembre à 20 h 30 — Halle aux grains\n"
                "https://ville.example.org/bal-folk\n\n#AgendaBlois")
    assert [d.text for d in preview] == [expected]
    assert texts(civicbot_sandbox) == [expected]
    assert civicbot_sandbox.statuses[0]["language"] == "fr"


def test_reminder_before_the_event_is_posted_once(civicbot_make_bot: Callable[..., Bot],
                                                  civicbot_sandbox: Any) -> None:
    with FakeWebServer() as web, time_machine.travel(
            datetime(2026, 12, 12, 15, 30, tzinfo=PARIS), tick=False) as clock:
        web.add_file("/ville.ics", EXAMPLES / "ville.ics", "text/calendar")
        bot = make(civicbot_make_bot, f"{web.url}/ville.ics",
                   reminders={"enabled": True, "before": "24h", "hashtags": ["Noël à Blois"]})
        job = bot.jobs["event_digest_reminders"]
        bot.scheduler.run(job, bot.now())  # the concert is 24 h 30 away: too early
        assert civicbot_sandbox.statuses == []
        for _ in range(3):
            clock.shift(timedelta(minutes=30))
            bot.scheduler.run(job, bot.now())
    assert texts(civicbot_sandbox) == [
        "⏰ Rappel : Concert de Noël des chœurs de Blois\n"
        "Dimanche 13 décembre à 16 h — Cathédrale Saint-Louis\n"
        "https://ville.example.org/concert-de-noel\n\n#NoëlÀBlois"]


def test_announcements_are_off_by_default(civicbot_make_bot: Callable[..., Bot]) -> None:
    bot = make(civicbot_make_bot, str(EXAMPLES / "ville.ics"))
    assert sorted(bot.jobs) == ["core.approvals", "core.engagement", "core.retry-pending"]
