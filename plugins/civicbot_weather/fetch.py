"""The plugin's fetches go through civicbot's shared :class:`civicbot.Fetcher` (a total
deadline per fetch, a size cap counted after decompression, API keys never sent on to another
origin, conditional requests): one fetcher per bot, its failures turned into
:class:`SourceError` so that the last known state is kept.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping

from civicbot import Bot, Fetcher, FetchError, __version__
from civicbot_weather.model import SourceError

USER_AGENT = f"civicbot/{__version__} (weather plugin)"
#: The largest answer read, decompressed (real feeds: a few hundred kilobytes at most).
MAX_BYTES = 10_000_000

_FETCHERS: weakref.WeakKeyDictionary[Bot, Fetcher] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def fetcher_for(bot: Bot) -> Fetcher:
    """The bot's fetcher (one per bot, shared by the jobs and the commands)."""
    with _LOCK:
        fetcher = _FETCHERS.get(bot)
        if fetcher is None:
            fetcher = Fetcher(user_agent=USER_AGENT, max_bytes=MAX_BYTES,
                              log=bot.log.bind(plugin="weather"))
            _FETCHERS[bot] = fetcher
        return fetcher


def close_fetcher(bot: Bot) -> None:
    with _LOCK:
        fetcher = _FETCHERS.pop(bot, None)
    if fetcher is not None:
        fetcher.close()


def fetch(fetcher: Fetcher, url: str, *, timeout: float,
          headers: Mapping[str, str] | None = None,
          params: Mapping[str, str] | None = None) -> bytes:
    """The body of ``url`` (or the content of a local file); any failure is a SourceError."""
    try:
        return fetcher.fetch(url, timeout=timeout, headers=headers, params=params).content
    except FetchError as exc:
        raise SourceError(str(exc)) from exc
