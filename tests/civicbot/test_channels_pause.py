"""A paused bot drops automatic posts on every channel, not only on Mastodon."""

from __future__ import annotations

from civicbot import PostDraft
from civicbot.testing.fake_channel import FakeChannel, FakeChannelPlugin


def test_posts_made_while_paused_are_never_queued_for_the_other_channels(
        civicbot_make_bot, civicbot_sandbox) -> None:
    channel = FakeChannel("fake")
    bot = civicbot_make_bot(plugins=[FakeChannelPlugin(channel)],
                            config={"channels": ["mastodon", "fake"]})
    bot.start()
    bot.set_paused(True, by="test")
    [result] = bot.publish(PostDraft(text="Pendant la pause", dedup_key="pause"))
    assert result.skipped == "paused"
    relay = bot.channel_relay
    assert relay is not None and relay.pending("fake") == 0
    bot.set_paused(False, by="test")
    bot.publish(PostDraft(text="Après la pause", dedup_key="after"))
    relay.wakeup()
    relay.flush()
    assert [p["text"] for p in channel.sent] == ["Après la pause"]
    assert len(civicbot_sandbox.statuses) == 1
