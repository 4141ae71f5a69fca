"""Shared helpers of the weather plugin's tests: a CAP document generator (synthetic, see
tests/fixtures/PROVENANCE-synthetic.md), a started FakeWebServer and a bot factory."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import civicbot_weather
from civicbot import Bot, CommandContext
from civicbot.testing.webserver import FakeWebServer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LEVEL_NUMBERS = {"green": 1, "yellow": 2, "orange": 3, "red": 4}
SEVERITIES = {"green": "Minor", "yellow": "Moderate", "orange": "Severe", "red": "Extreme"}
LEVEL_FR = {"green": "verte", "yellow": "jaune", "orange": "orange", "red": "rouge"}


def make_cap(
    *,
    identifier: str,
    sent: str,
    level: str = "yellow",
    msg_type: str = "Alert",
    response: str = "Monitor",
    onset: str = "2026-06-10T12:00:00+02:00",
    expires: str = "2026-06-11T06:00:00+02:00",
    references: str = "",
    awareness_type: str = "3; Thunderstorm",
    event_fr: str = "orages",
    area: tuple[str, str] = ("Loir et Cher", "FRB05"),
    with_info: bool = True,
) -> bytes:
    """A Météo-France-style CAP 1.2 document (fr-FR and en-GB info blocks)."""
    refs = f"<references>{references}</references>" if references else ""

    def info(language: str, event: str, description: str) -> str:
        return f"""
  <info>
    <language>{language}</language>
    <category>Met</category>
    <event>{event}</event>
    <responseType>{response}</responseType>
    <urgency>Future</urgency>
    <severity>{SEVERITIES[level]}</severity>
    <certainty>Likely</certainty>
    <effective>{sent}</effective>
    <onset>{onset}</onset>
    <expires>{expires}</expires>
    <senderName>METEO-FRANCE</senderName>
    <headline>{event}</headline>
    <description>{description}</description>
    <instruction>{"Évitez les déplacements." if language == "fr-FR" else "Avoid travel."}</instruction>
    <web>http://vigilance.meteofrance.com/</web>
    <contact>METEO-FRANCE</contact>
    <parameter><valueName>awareness_level</valueName>
      <value>{LEVEL_NUMBERS[level]}; {level}; {SEVERITIES[level]}</value></parameter>
    <parameter><valueName>awareness_type</valueName><value>{awareness_type}</value></parameter>
    <area><areaDesc>{area[0]}</areaDesc>
      <geocode><valueName>NUTS3</valueName><value>{area[1]}</value></geocode></area>
  </info>"""

    infos = ""
    if with_info:
        infos = info("fr-FR", f"Vigilance {LEVEL_FR[level]} {event_fr}",
                     f"Vigilance {LEVEL_FR[level]} : {event_fr} prévus sur le département.")
        infos += info("en-GB", "Thunderstorm warning", "Thunderstorms expected.")
    return f"""<?xml version="1.0" encoding="utf-8" standalone="yes" ?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>vigilance@meteo.fr</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}{infos}
</alert>""".encode()


@pytest.fixture
def web() -> Iterator[FakeWebServer]:
    with FakeWebServer() as server:
        yield server


@pytest.fixture
def weather_bot(civicbot_make_bot: Callable[..., Bot], tmp_path: Path
                ) -> Callable[..., Bot]:
    """``weather_bot(section)``: a bot with the weather plugin and this ``plugins.weather``."""

    def make(section: dict[str, Any], *, state: Path | None = None,
             language: str = "fr") -> Bot:
        return civicbot_make_bot(
            plugins=[civicbot_weather],
            config={"timezone": "Europe/Paris", "language": language,
                    "plugins": {"weather": section}},
            state=state or tmp_path / "state.sqlite3")

    return make


def _plain(word: str) -> str:
    """Accent- and case-insensitive, as the auto-reply plugin matches command names."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def command(bot: Bot, name: str) -> str | None:
    """Run a registered command's handler as the auto-reply plugin would."""
    [cmd] = [c for c in bot.commands if _plain(name) in {_plain(n) for n in c.names}]
    ctx = CommandContext(bot=bot, status={"id": "1", "content": name}, notification={},
                         sender="alice@example.org", args="")
    return cmd.handler(ctx)


@pytest.fixture
def cap_doc() -> Callable[..., bytes]:
    """The :func:`make_cap` generator (test modules must not import conftest by name)."""
    return make_cap


@pytest.fixture
def run_command() -> Callable[[Bot, str], str | None]:
    return command


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
