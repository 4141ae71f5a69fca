"""Issue 13 item 5: a slow Open-Meteo does not hold the other residents' mentions behind a
"météo" command; the command is answered later."""

from __future__ import annotations

import time
from typing import Any

import pytest

import civicbot_auto_reply
import civicbot_weather
from civicbot import html_to_text
from civicbot.testing.webserver import FakeWebServer
from civicbot_weather import forecast_job

FAQ = {"cooldown": "0s", "fallback": None,
       "rules": [{"keywords": ["horaires"], "reply": "La mairie ouvre à 8 h 30."}]}


def test_a_slow_forecast_does_not_delay_another_residents_mention(
        civicbot_sandbox: Any, civicbot_make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forecast_job, "COLD_WAIT", 0.2)
    with FakeWebServer() as web:
        web.add("/v1/forecast", '{"daily": {}}' + " " * 200, "application/json", trickle=1.0)
        bot = civicbot_make_bot(plugins=[civicbot_auto_reply, civicbot_weather], config={
            "timezone": "Europe/Paris",
            "plugins": {"auto_reply": FAQ, "weather": {
                "place": "Blois", "latitude": 47.5861, "longitude": 1.3359,
                "forecast": {"base_url": web.url, "timeout": "2s"}}}})
        bot.start()
        civicbot_sandbox.wait_for_stream()
        civicbot_sandbox.inject_mention("météo", acct="alice@ville.example")
        asked = time.monotonic()
        civicbot_sandbox.inject_mention("horaires ?", acct="bob@ville.example")
        first = civicbot_sandbox.wait_for_statuses(1, timeout=10)
        answered = time.monotonic() - asked
        both = civicbot_sandbox.wait_for_statuses(2, timeout=15)
    assert "La mairie ouvre" in first[0]["content"]
    assert answered < 2.0
    assert "alice" in both[1]["content"]
    assert "La météo n'est pas disponible" in html_to_text(both[1]["content"])
