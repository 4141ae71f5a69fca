"""Fixtures of the event_digest tests (shared data lives in event_digest_support.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import civicbot_event_digest
from civicbot import Bot


@pytest.fixture
def digest_bot(tmp_path: Path) -> Iterator[Callable[..., Bot]]:
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
