"""The sources are loaded in the background a moment after start (issue 15): the first
"agenda" is answered from memory, and the mentions caught up at a restart are not slowed down
by parsing calendars at the same moment."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import civicbot_event_digest
from civicbot.testing.webserver import FakeWebServer


def _ics() -> str:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y%m%dT%H%M00Z")
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1@x\r\n"
            f"SUMMARY:Fête de la soupe\r\nDTSTART:{tomorrow}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def _started(civicbot_make_bot: Any, web: FakeWebServer) -> Any:
    """A bot with one calendar source, started; its event_digest runtime."""
    web.add("/agenda.ics", _ics(), "text/calendar")
    bot = civicbot_make_bot(plugins=[civicbot_event_digest], config={
        "timezone": "Europe/Paris",
        "plugins": {"event_digest": {"sources": [{"name": "Ville",
                                                  "ics": f"{web.url}/agenda.ics"}]}}})
    bot.start()
    runtime = civicbot_event_digest.runtime_for(bot)
    assert runtime is not None
    return runtime


def test_sources_are_loaded_in_the_background_after_the_warm_up_delay(
        civicbot_sandbox: Any, civicbot_make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(civicbot_event_digest, "WARM_UP_DELAY", 0.05)
    with FakeWebServer() as web:
        runtime = _started(civicbot_make_bot, web)
        deadline = time.monotonic() + 10
        while runtime.agenda.value is None and time.monotonic() < deadline:
            time.sleep(0.02)
        horizon = runtime.agenda.value
    assert horizon is not None, "the sources were not loaded after start"
    assert "Fête de la soupe" in repr(horizon)
    assert len(web.requests_to("/agenda.ics")) == 1


def test_nothing_is_loaded_before_the_warm_up_delay(
        civicbot_sandbox: Any, civicbot_make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(civicbot_event_digest, "WARM_UP_DELAY", 60.0)
    with FakeWebServer() as web:
        runtime = _started(civicbot_make_bot, web)
        civicbot_sandbox.wait_for_stream()
        assert runtime.agenda.value is None and not runtime.agenda.loading
        assert web.requests_to("/agenda.ics") == []
