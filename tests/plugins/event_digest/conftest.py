"""Shared helpers of the event_digest tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import civicbot_event_digest
from civicbot import Bot

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = ROOT / "examples" / "event_digest"
PARIS = ZoneInfo("Europe/Paris")
#: Monday 7 December 2026, 08:00: the run of the weekly digest the tests look at.
MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=PARIS)


def blois_sources() -> list[dict[str, Any]]:
    """The four example agendas: two iCalendar files and two JSON-LD pages."""
    return [
        {"name": "Ville", "ics": str(EXAMPLES / "ville.ics")},
        {"name": "Bibliothèque", "label": "de la Bibliothèque",
         "ics": str(EXAMPLES / "bibliotheque.ics")},
        {"name": "Musée", "jsonld": str(FIXTURES / "jsonld_musee_graph.html")},
        {"name": "Maison de la BD", "jsonld": str(FIXTURES / "jsonld_maison_bd_itemlist.html")},
    ]


@pytest.fixture
def digest_bot(tmp_path: Path) -> Callable[..., Bot]:
    """A bot (no Mastodon needed) with the event_digest plugin and the given section."""
    bots: list[Bot] = []

    def make(section: dict[str, Any], **core: Any) -> Bot:
        config: dict[str, Any] = {"timezone": "Europe/Paris", "plugins": {"event_digest": section}}
        config.update(core)
        bot = Bot(plugins=[civicbot_event_digest], config=config,
                  state=tmp_path / f"state{len(bots)}.sqlite3")
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.stop()
