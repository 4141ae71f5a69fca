"""Issue 13 item 5: a feed sending one byte per second kept a source busy 70 s, and a
resident's "agenda" waiting on it held every other mention for 93 s. Commands now answer from
events loaded in the background, and a late answer follows when they are there."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import civicbot_auto_reply
import civicbot_event_digest
from civicbot.testing.webserver import FakeWebServer
from civicbot_event_digest import commands

FAQ = {"cooldown": "0s", "fallback": None,
       "rules": [{"keywords": ["horaires"], "reply": "La mairie ouvre à 8 h 30."}]}
FAILED = "Désolé, l'agenda n'a pas pu être chargé pour le moment."


def test_a_slow_feed_does_not_delay_another_residents_mention(
        civicbot_sandbox: Any, civicbot_make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands, "COLD_WAIT", 0.2)
    with FakeWebServer() as web:
        # one byte per second: the source's 3 s deadline cuts it, whatever the read timeout
        web.add("/agenda.ics", "BEGIN:VCALENDAR\r\n" + "X-PAD:" + "x" * 500 + "\r\n",
                "text/calendar", trickle=1.0)
        bot = civicbot_make_bot(plugins=[civicbot_auto_reply, civicbot_event_digest], config={
            "timezone": "Europe/Paris",
            "plugins": {"auto_reply": FAQ, "event_digest": {"sources": [
                {"name": "Ville", "ics": f"{web.url}/agenda.ics", "timeout": "3s"}]}}})
        bot.start()
        civicbot_sandbox.wait_for_stream()
        civicbot_sandbox.inject_mention("agenda", acct="alice@ville.example")
        asked = time.monotonic()
        civicbot_sandbox.inject_mention("horaires ?", acct="bob@ville.example")
        first = civicbot_sandbox.wait_for_statuses(1, timeout=10)
        answered = time.monotonic() - asked
        # Bob is answered at once, the slow agenda is answered later (it failed: it says so,
        # never "no events")
        both = civicbot_sandbox.wait_for_statuses(2, timeout=15)
    assert "La mairie ouvre" in first[0]["content"]
    assert answered < 2.0
    assert "alice" in both[1]["content"] and "pas pu être chargé" in both[1]["content"]


def test_commands_serve_the_last_good_events_while_the_feed_is_slow(
        civicbot_make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicbot import CommandContext

    monkeypatch.setattr(commands, "COLD_WAIT", 5.0)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y%m%dT%H%M00Z")
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1@x\r\n"
           f"SUMMARY:Fête de la soupe\r\nDTSTART:{tomorrow}\r\nEND:VEVENT\r\n"
           "END:VCALENDAR\r\n")
    with FakeWebServer() as web:
        route = web.add("/agenda.ics", ics, "text/calendar", etag=False)
        bot = civicbot_make_bot(plugins=[civicbot_event_digest], config={
            "timezone": "Europe/Paris",
            "plugins": {"event_digest": {"sources": [
                {"name": "Ville", "ics": f"{web.url}/agenda.ics", "timeout": "30s"}]}}})
        agenda = next(c for c in bot.commands if "agenda" in c.names)
        ctx = CommandContext(bot=bot, status={"id": "1"}, notification={},
                             sender="alice@ville.example")
        assert "Fête de la soupe" in (agenda.handler(ctx) or "")
        # the feed turns slow and the data is stale: the answer comes from memory at once
        route.trickle = 1.0
        runtime = civicbot_event_digest.runtime_for(bot)
        assert runtime is not None
        monkeypatch.setattr(runtime.agenda, "max_age", 0.0)
        started = time.monotonic()
        assert "Fête de la soupe" in (agenda.handler(ctx) or "")
        assert time.monotonic() - started < 2.0
        assert runtime.agenda.loading  # refreshing in the background
        runtime.close()
