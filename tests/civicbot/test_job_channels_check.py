"""``channels: [...]`` on the plugins' jobs (issue 20): validated by the models, and names no
plugin adds are reported by ``civicbot check-config`` with file, line and key (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicbot.cli import main

BLUESKY = ("mastodon:\n  api_base_url: sandbox\n"
           "plugins:\n  bluesky:\n    handle: ville.bsky.social\n    app_password: dummy\n")


def check(tmp_path: Path, text: str, capsys) -> tuple[int, str]:
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text(text, encoding="utf-8")
    code = main(["check-config", str(cfg)])
    out = capsys.readouterr()
    return code, out.err.replace(str(cfg), "CFG").replace(str(tmp_path), "DIR")


WEATHER = ("  weather:\n    place: Vendôme\n    latitude: 47.79\n    longitude: 1.07\n"
           "    forecast:\n      channels: [mastodon, {name}]\n"
           "    alerts:\n      channels: [{name}]\n      sources:\n"
           "        - {{meteoalarm: https://feeds.meteoalarm.org/x, areas: [Loir-et-Cher]}}\n")


def test_known_channels_on_jobs_pass(tmp_path, capsys):
    code, err = check(tmp_path, BLUESKY + WEATHER.format(name="bluesky"), capsys)
    assert code == 0, err


def test_unknown_channels_on_jobs_are_reported_with_line_and_key(tmp_path, capsys):
    code, err = check(tmp_path, BLUESKY + WEATHER.format(name="blusky"), capsys)
    assert code == 2
    assert ("CFG:12: plugins.weather.forecast.channels[1]: unknown channel 'blusky' (known: "
            "mastodon, bluesky)") in err
    assert "CFG:14: plugins.weather.alerts.channels[0]: unknown channel 'blusky'" in err


def test_unknown_top_level_channel_is_reported_with_its_line(tmp_path, capsys):
    code, err = check(tmp_path, BLUESKY + "channels: [mastodon, bluesky, threads]\n", capsys)
    assert code == 2
    assert "CFG:7: channels[2]: unknown channel 'threads' (known: mastodon, bluesky)" in err


def test_bluesky_needs_its_plugin_section(tmp_path, capsys):
    text = ("mastodon:\n  api_base_url: sandbox\nplugins:\n  news:\n    feeds:\n"
            "      - id: actus\n        url: actus.xml\n        channels: [bluesky]\n")
    code, err = check(tmp_path, text, capsys)
    assert code == 2
    assert "CFG:8: plugins.news.feeds[0].channels[0]: unknown channel 'bluesky' (known: " \
           "mastodon)" in err


def test_event_digest_jobs_take_channels(tmp_path, capsys):
    (tmp_path / "ville.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    text = (BLUESKY + "  event_digest:\n    sources:\n      - {name: Ville, ics: ville.ics}\n"
            "    digests:\n      - {id: semaine, cron: '0 8 * * 1', channels: [bluesky]}\n"
            "    new_events: {enabled: true, channels: [mastodon, bsky]}\n"
            "    reminders: {enabled: true, channels: [mastodn]}\n")
    code, err = check(tmp_path, text, capsys)
    assert code == 2
    assert "CFG:12: plugins.event_digest.new_events.channels[1]: unknown channel 'bsky'" in err
    assert "CFG:13: plugins.event_digest.reminders.channels[0]: unknown channel 'mastodn'" in err
    assert "digests" not in err


def test_post_file_front_matter_channels_are_checked(tmp_path, capsys):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "noel.md").write_text("---\nid: noel\nat: 2030-12-24T09:00:00+01:00\n"
                                   "channels: [mastodon, blueksy]\n---\nJoyeux Noël !\n")
    (posts / "ok.md").write_text("---\nid: ok\nat: 2030-12-24T09:00:00+01:00\n"
                                 "channels: [bluesky]\n---\nBonnes fêtes !\n")
    text = BLUESKY + "  scheduled_posts:\n    posts_dir: posts\n"
    code, err = check(tmp_path, text, capsys)
    assert code == 2
    assert "DIR/posts/noel.md:4: channels: unknown channel 'blueksy'" in err
    assert "ok.md" not in err


@pytest.mark.parametrize(("value", "message"), [
    ("[]", "give at least one channel"),
    ("[Bluesky]", "invalid channel name 'Bluesky'"),
    ("bluesky", "Input should be a valid tuple"),
])
def test_channels_must_be_a_non_empty_list_of_names(tmp_path, capsys, value, message):
    text = (BLUESKY + "  scheduled_posts:\n    posts:\n      - id: noel\n"
            f"        at: 2030-12-24T09:00:00+01:00\n        text: Joyeux Noël\n"
            f"        channels: {value}\n")
    code, err = check(tmp_path, text, capsys)
    assert code == 2
    assert "CFG:12: plugins.scheduled_posts.posts[0].channels" in err
    assert message in err


def test_every_job_defining_entry_passes_its_channels_to_its_job(civicbot_make_bot, tmp_path):
    import civicbot_event_digest
    import civicbot_news
    import civicbot_scheduled_posts
    import civicbot_weather
    from civicbot.testing.fake_channel import FakeChannel, FakeChannelPlugin

    (tmp_path / "ville.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    (tmp_path / "actus.xml").write_text("<rss version='2.0'><channel></channel></rss>")
    both, only = ["mastodon", "bluesky"], ["bluesky"]
    bot = civicbot_make_bot(
        plugins=[civicbot_event_digest, civicbot_news, civicbot_scheduled_posts,
                 civicbot_weather, FakeChannelPlugin(FakeChannel("bluesky"))],
        config={"plugins": {
            "event_digest": {
                "sources": [{"name": "Ville", "ics": str(tmp_path / "ville.ics")}],
                "digests": [{"id": "semaine", "cron": "0 8 * * 1", "channels": both},
                            {"id": "mois", "cron": "0 8 1 * *"}],
                "new_events": {"enabled": True, "channels": only},
                "reminders": {"enabled": True, "channels": both}},
            "news": {"feeds": [{"id": "actus", "url": str(tmp_path / "actus.xml"),
                                "channels": only}]},
            "scheduled_posts": {"posts": [{"id": "noel", "at": "2030-12-24T09:00:00+01:00",
                                           "text": "Joyeux Noël", "channels": only}]},
            "weather": {"place": "Blois", "latitude": 47.6, "longitude": 1.3,
                        "forecast": {"channels": both},
                        "alerts": {"channels": only, "sources": [
                            {"meteoalarm": "https://feeds.meteoalarm.org/x",
                             "areas": ["Loir-et-Cher"]}]}}}})
    channels = {job_id: job.channels for job_id, job in bot.jobs.items()}
    assert channels["semaine"] == ("mastodon", "bluesky")
    assert channels["mois"] is None  # the config's top-level channels
    assert channels["event_digest_new_events"] == ("bluesky",)
    assert channels["event_digest_reminders"] == ("mastodon", "bluesky")
    assert channels["actus"] == ("bluesky",)
    assert channels["noel"] == ("bluesky",)
    assert channels["meteo-matin"] == ("mastodon", "bluesky")
    assert channels["weather-alerts"] == ("bluesky",)


def test_an_accounts_channels_are_checked_against_its_own_plugins(tmp_path, capsys):
    text = ("accounts:\n  - name: mairie\n    mastodon: {api_base_url: sandbox}\n"
            "    channels: [mastodon, bluesky]\n"
            "    plugins:\n      bluesky: {handle: ville.bsky.social, app_password: x}\n"
            "  - name: musee\n    mastodon: {api_base_url: sandbox}\n"
            "    channels: [mastodon, bluesky]\n")
    code, err = check(tmp_path, text, capsys)
    assert code == 2
    assert "CFG:9: accounts[1].channels[1]: unknown channel 'bluesky' (known: mastodon)" in err
    assert "accounts[0].channels" not in err
