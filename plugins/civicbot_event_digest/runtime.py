"""What the plugin keeps per bot: its config, its HTTP fetcher (and its cache), its language."""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import Any, cast

from civicbot import Bot, Fetcher
from civicbot_event_digest.config import LANGUAGES, EventDigestConfig
from civicbot_event_digest.sources import Collection, collect

NAME = "event_digest"


class Runtime:
    def __init__(self, bot: Bot, config: EventDigestConfig) -> None:
        self.bot = bot
        self.config = config
        self.tz: Any = bot.timezone
        self.language = config.language or (bot.language if bot.language in LANGUAGES else "fr")
        self.log = bot.log.bind(plugin=NAME)
        self.fetcher = Fetcher(timeout=config.timeout, max_bytes=config.max_feed_bytes,
                               user_agent=config.user_agent, log=self.log)

    def collect(self, start: datetime, end: datetime, language: str | None = None) -> Collection:
        return collect(self.fetcher, self.config, tz=self.tz, start=start, end=end,
                       language=language or self.language, log=self.log)

    def max_characters(self, preview: bool) -> int:
        """The instance's limit; never asked over the network in preview mode."""
        configured = self.bot.settings.mastodon.max_characters
        if preview:
            return configured or 500
        return int(configured or self.bot.publisher.max_characters)

    def close(self) -> None:
        self.fetcher.close()


_RUNTIMES: weakref.WeakKeyDictionary[Bot, Runtime] = weakref.WeakKeyDictionary()


def runtime_for(bot: Bot) -> Runtime | None:
    """The bot's runtime, or None when the config has no ``event_digest`` section."""
    config = bot.plugin_config(NAME)
    if config is None:
        return None
    runtime = _RUNTIMES.get(bot)
    if runtime is None or runtime.config is not config:
        runtime = Runtime(bot, cast(EventDigestConfig, config))
        _RUNTIMES[bot] = runtime
    return runtime


def drop_runtime(bot: Bot) -> None:
    runtime = _RUNTIMES.pop(bot, None)
    if runtime is not None:
        runtime.close()
