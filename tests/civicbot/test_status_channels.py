"""``civicbot status`` shows each other channel's queue per account (issue 20): posts sent,
pending (the channel is down) and failed (expired, refused), from the ``ACCOUNT#CHANNEL``
scopes of the state store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from civicbot import PostDraft
from civicbot.cli import main
from civicbot.testing.fake_channel import FakeChannel, FakeChannelPlugin


def test_status_shows_pending_and_failed_posts_per_channel(tmp_path, capsys,
                                                           civicbot_make_bot):
    state = tmp_path / "state.sqlite3"
    channel = FakeChannel("bluesky")
    bot = civicbot_make_bot(plugins=[FakeChannelPlugin(channel)],
                            config={"channels": ["mastodon", "bluesky"]}, state=state)
    relay = bot.channel_relay
    assert relay is not None
    bot.publish(PostDraft(text="Envoyé partout", dedup_key="a"))
    relay.flush()
    channel.down = True
    past = datetime.now(UTC) - timedelta(minutes=1)
    bot.publish(PostDraft(text="Alerte finie", dedup_key="b", expires_at=past))
    bot.publish(PostDraft(text="En attente", dedup_key="c"))
    bot.publish(PostDraft(text="Un autre", dedup_key="d"))
    relay.wakeup()
    relay.flush()  # b expired (failed), c and d wait
    assert [p["key"] for p in channel.sent] == ["a"]

    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text(f"mastodon:\n  api_base_url: sandbox\nstate: {state}\n"
                   "channels: [mastodon, bluesky]\n")
    assert main(["status", "--config", str(cfg)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.endswith("; posts sent 4, pending 0") for line in lines)  # Mastodon
    assert "  channel bluesky: posts sent 1, pending 2, failed 1" in lines
    assert main(["status", "--config", str(cfg), "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["channels"] == {"bluesky": {"sent": 1, "pending": 2, "failed": 1}}


def test_status_without_other_channels_adds_no_line(tmp_path, capsys):
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text("mastodon:\n  api_base_url: sandbox\nstate: state.sqlite3\n")
    assert main(["status", "--config", str(cfg), "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["channels"] == {}
