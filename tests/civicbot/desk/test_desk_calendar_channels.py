"""The desk's calendar shows each post as residents will see it on every channel."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import civicbot_bluesky
import civicbot_scheduled_posts
from civicbot import Bot
from civicbot.desk.calendar import entries

PARIS = ZoneInfo("Europe/Paris")


def test_the_calendar_shows_the_mastodon_and_the_bluesky_variants(tmp_path: Path) -> None:
    text = ("Fête des lumières ce samedi 🎆 : défilé à 18 h, place Louis-XII. "
            "https://www.ville-exemple.fr/actualites/fete-des-lumieres #Blois")
    config = {
        "timezone": "Europe/Paris", "language": "fr", "channels": ["mastodon", "bluesky"],
        "plugins": {
            "bluesky": {"handle": "ville.test", "app_password": "xxxx-xxxx-xxxx-xxxx"},
            "scheduled_posts": {"posts": [{"id": "lumieres", "at": "2026-12-12T10:00:00+01:00",
                                           "text": text, "spoiler_text": "Circulation"}]},
        },
    }
    bot = Bot(plugins=[civicbot_scheduled_posts, civicbot_bluesky], config=config,
              state=tmp_path / "state.sqlite3")
    try:
        [entry] = [e for e in entries([bot], 14, now=datetime(2026, 12, 7, 9, tzinfo=PARIS))
                   if e.job_id == "lumieres"]
    finally:
        bot.stop()
    assert entry.error is None
    assert [channel for channel, _ in entry.variants] == ["mastodon", "bluesky"]
    (_, [mastodon]), (_, [bluesky]) = entry.variants
    assert mastodon.text == text and mastodon.spoiler_text == "Circulation"
    assert bluesky.text == ("⚠️ Circulation\n\nFête des lumières ce samedi 🎆 : défilé à 18 h, "
                            "place Louis-XII. ville-exemple.fr/actualites/f… #Blois")
    assert (bluesky.language, bluesky.spoiler_text) == ("fr", "")
