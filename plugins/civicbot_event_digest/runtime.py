"""What the plugin keeps per bot: its config, its HTTP fetcher (and its cache), its language,
and the events the commands answer from (loaded in the background)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from civicbot import Bot, Fetcher, LastGood, PerBot
from civicbot_event_digest.config import LANGUAGES, EventDigestConfig
from civicbot_event_digest.model import SourceError, local_midnight
from civicbot_event_digest.sources import Collection, collect

NAME = "event_digest"
#: Commands answer from events at most this old (a refresh starts in the background then).
COMMANDS_MAX_AGE = timedelta(minutes=10)
#: Days past ``commands.agenda_days`` loaded for the commands ("ce week-end" included).
_HORIZON_MARGIN = 8


@dataclass(frozen=True)
class Horizon:
    """The events of ``[start, end)`` the commands answer from."""

    start: datetime
    end: datetime
    found: Collection

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.start <= start and end <= self.end


class Runtime:
    def __init__(self, bot: Bot, config: EventDigestConfig) -> None:
        self.bot = bot
        self.config = config
        self.tz: Any = bot.timezone
        self.language = config.language or (bot.language if bot.language in LANGUAGES else "fr")
        self.log = bot.log.bind(plugin=NAME)
        self.fetcher = Fetcher(timeout=config.timeout, max_bytes=config.max_feed_bytes,
                               user_agent=config.user_agent, log=self.log)
        self.agenda: LastGood[Horizon] = LastGood(
            self._load_horizon, max_age=COMMANDS_MAX_AGE, name="event_digest commands",
            log=self.log)

    def collect(self, start: datetime, end: datetime, language: str | None = None) -> Collection:
        return collect(self.fetcher, self.config, tz=self.tz, start=start, end=end,
                       language=language or self.language, log=self.log)

    def _load_horizon(self) -> Horizon:
        """Every source, from today to a little past ``commands.agenda_days``; when every
        source failed, an error (so that the last good events are kept)."""
        today = self.bot.now().astimezone(self.tz).date()
        start = local_midnight(today, self.tz)
        days = self.config.commands.agenda_days + _HORIZON_MARGIN
        end = local_midnight(today + timedelta(days=days), self.tz)
        found = self.collect(start, end)
        if found.all_failed:
            raise SourceError("every event source failed")
        return Horizon(start, end, found)

    def max_characters(self, preview: bool) -> int:
        """The instance's limit; never asked over the network in preview mode."""
        configured = self.bot.settings.mastodon.max_characters
        if preview:
            return configured or 500
        return int(configured or self.bot.publisher.max_characters)

    def close(self) -> None:
        self.agenda.close()
        self.fetcher.close()


_RUNTIMES: PerBot[Runtime] = PerBot(
    NAME, lambda bot, config: Runtime(bot, cast(EventDigestConfig, config)))
#: The bot's runtime, or None when the config has no ``event_digest`` section.
runtime_for = _RUNTIMES.get
#: Forget the bot's runtime and close its fetchers (``civicbot_shutdown``).
drop_runtime = _RUNTIMES.drop
