"""A publishing channel for tests: it keeps what it is sent, and can be made "down".

Example::

    channel = FakeChannel("bluesky")
    bot = civicbot_make_bot(plugins=[FakeChannelPlugin(channel)],
                            config={"channels": ["mastodon", "bluesky"]})
    channel.down = True          # send() raises ChannelUnavailable: the posts wait
    bot.publish(PostDraft(text="Bonjour"))
    channel.down = False
    bot.channel_relay.wakeup(); bot.channel_relay.flush()
    assert [p["text"] for p in channel.sent] == ["Bonjour"]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from civicbot.channels import Channel, ChannelUnavailable, Progress, QueuedItem
from civicbot.hookspecs import hookimpl

if TYPE_CHECKING:
    from civicbot.bot import Bot
    from civicbot.drafts import PostDraft


class FakeChannel(Channel):
    """Publishes into :attr:`sent` (one dict per post, with the item's key as ``key``)."""

    def __init__(self, name: str = "fake", *, max_delay: timedelta = timedelta(hours=6)) -> None:
        self.name = name
        self.max_delay = max_delay
        #: While true, :meth:`send` raises :class:`ChannelUnavailable`.
        self.down = False
        self.sent: list[dict[str, Any]] = []
        self.attempts = 0

    def adapt(self, drafts: Sequence[PostDraft]) -> list[dict[str, Any]]:
        return [{"text": (f"{d.spoiler_text}\n\n" if d.spoiler_text else "") + d.text,
                 "language": d.language} for d in drafts]

    def send(self, item: QueuedItem, progress: Progress,
             lookup: Callable[[str], dict[str, Any] | None]) -> dict[str, Any]:
        self.attempts += 1
        if self.down:
            raise ChannelUnavailable(f"{self.name} is down (test)")
        ref: dict[str, Any] = {}
        for i, post in enumerate(item.posts[len(progress.parts()):], len(progress.parts())):
            self.sent.append({**post, "key": item.key})
            ref = {"id": f"{item.key}#{i}"}
            progress.add(ref)
        return ref or progress.parts()[-1]


class FakeChannelPlugin:
    """A plugin registering ``channel`` for every bot."""

    def __init__(self, channel: FakeChannel) -> None:
        self.channel = channel

    @hookimpl
    def civicbot_register_channels(self, register: Callable[[Channel], None], bot: Bot) -> None:
        register(self.channel)
