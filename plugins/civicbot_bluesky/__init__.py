"""civicbot plugin ``bluesky``: the ``bluesky`` publishing channel.

With a ``bluesky`` section (handle and app password), posts whose channels include
``bluesky`` (``channels: [mastodon, bluesky]`` at the top of the config, or on a job or a post)
are adapted for Bluesky and sent from their own queue: a Bluesky outage never delays Mastodon.
See docs/plugins/bluesky.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from pydantic import BaseModel

from civicbot import Bot, Channel, hookimpl
from civicbot_bluesky.config import BlueskyConfig

NAME = "bluesky"

__all__ = ["BlueskyConfig", "civicbot_config_schema", "civicbot_register_channels"]


@hookimpl
def civicbot_config_schema(register: Callable[[str, type[BaseModel]], None]) -> None:
    register(NAME, BlueskyConfig)


@hookimpl
def civicbot_register_channels(register: Callable[[Channel], None], bot: Bot) -> None:
    config = bot.plugin_config(NAME)
    if config is None:
        return
    from civicbot_bluesky.channel import BlueskyChannel

    register(BlueskyChannel(bot, cast(BlueskyConfig, config)))
