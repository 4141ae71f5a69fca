"""A weather warning on a channel that was down (issue 20): Mastodon gets it at once; the
other channel does not get it after the warning's end (``PostDraft.expires_at``), but still
gets the end-of-warning post within its own expiry."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

import civicbot_weather
from civicbot import html_to_text
from civicbot.testing.fake_channel import FakeChannel, FakeChannelPlugin

PARIS = ZoneInfo("Europe/Paris")
ROOT = "weather:alert:loir-et-cher|thunderstorm:20260610T080000Z"


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=PARIS)


def test_an_ended_warning_is_not_sent_late_on_a_channel_that_was_down(
        web, cap_doc, civicbot_make_bot, civicbot_sandbox, tmp_path) -> None:
    # a week's max_delay: only the warning's own end can stop the late post
    channel = FakeChannel("bluesky", max_delay=timedelta(days=7))
    web.add("/vigilance-41.xml", cap_doc(identifier="2.49.0.0.250.0.FR.1",
                                         sent="2026-06-10T10:00:00+02:00",
                                         expires="2026-06-11T06:00:00+02:00"),
            "application/cap+xml")
    with time_machine.travel(at(10, 5), tick=False) as traveller:
        bot = civicbot_make_bot(
            plugins=[civicbot_weather, FakeChannelPlugin(channel)],
            config={"timezone": "Europe/Paris", "language": "fr", "plugins": {"weather": {
                "place": "Blois", "alerts": {
                    "poll": "10m", "channels": ["mastodon", "bluesky"], "sources": [
                        {"cap": f"{web.url}/vigilance-41.xml", "areas": ["FRB05"],
                         "label": "Loir-et-Cher"}]}}}},
            state=tmp_path / "state.sqlite3")
        relay = bot.channel_relay
        assert relay is not None
        store, scope = bot.state.store, f"{bot.name}#bluesky"
        channel.down = True

        results = bot.scheduler.run(bot.jobs["weather-alerts"], bot.now())
        assert [r.draft.dedup_key for r in results if r.status_id] == [ROOT]
        [status] = civicbot_sandbox.statuses  # Mastodon got it at once, channel down or not
        assert "Vigilance jaune" in html_to_text(status["content"])
        relay.flush()
        assert channel.attempts == 1 and channel.sent == []
        assert store.count_posts(scope, "pending") == 1

        # still down after the warning's end (06:00 on the 11th); the source says it ended
        traveller.move_to(at(6, 30, day=11))
        relay.wakeup()
        relay.flush()
        results = bot.scheduler.run(bot.jobs["weather-alerts"], bot.now())
        assert [r.draft.dedup_key for r in results if r.status_id] == [f"{ROOT}:end"]
        assert len(civicbot_sandbox.statuses) == 2

        # back up: the warning is dropped (not sent late), its end is sent
        channel.down = False
        relay.wakeup()
        relay.flush()
        assert [p["key"] for p in channel.sent] == [f"{ROOT}:end"]
        root = store.get_post(scope, ROOT)
        assert root is not None and root.state == "failed"
        assert "expired" in (root.error or "")
        assert store.count_posts(scope, "pending") == 0

        # the end notice itself expires 3 hours after the warning ended (noticed at 06:30)
        [end] = [r.draft for r in results]
        assert end.expires_at == at(9, 30, day=11)


def test_alert_drafts_carry_the_warning_end(web, cap_doc, weather_bot) -> None:
    web.add("/vigilance-41.xml", cap_doc(identifier="2.49.0.0.250.0.FR.1",
                                         sent="2026-06-10T10:00:00+02:00",
                                         expires="2026-06-11T06:00:00+02:00"),
            "application/cap+xml")
    with time_machine.travel(at(10, 5), tick=False):
        bot = weather_bot({"place": "Blois", "alerts": {"sources": [
            {"cap": f"{web.url}/vigilance-41.xml", "areas": ["FRB05"]}]}})
        [draft] = bot.scheduler.preview("weather-alerts", bot.now())
        assert draft.expires_at == at(6, day=11)
