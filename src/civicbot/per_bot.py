"""One object per bot for a plugin (its runtime: config, fetchers, caches), built on first use
from the bot's config section, rebuilt when the section changes, closed when the bot stops."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from civicbot.bot import Bot

T = TypeVar("T")


class PerBot(Generic[T]):
    """``PerBot("news", Runtime)``: ``get(bot)`` is ``Runtime(bot, section)`` for the bot's
    ``plugins.news`` section (``None`` without one), the same object until the section changes;
    ``drop(bot)`` forgets it and calls its ``close()`` if it has one (in ``civicbot_shutdown``).

    Example::

        RUNTIMES = PerBot("news", Runtime)

        @hookimpl
        def civicbot_shutdown(bot):
            RUNTIMES.drop(bot)
    """

    def __init__(self, section: str, make: Callable[[Bot, Any], T]) -> None:
        self.section = section
        self._make = make
        self._items: weakref.WeakKeyDictionary[Bot, tuple[Any, T]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, bot: Bot) -> T | None:
        config = bot.plugin_config(self.section)
        if config is None:
            return None
        with self._lock:
            held = self._items.get(bot)
            if held is None or held[0] is not config:
                held = (config, self._make(bot, config))
                self._items[bot] = held
            return held[1]

    def drop(self, bot: Bot) -> None:
        with self._lock:
            held = self._items.pop(bot, None)
        close = getattr(held[1], "close", None) if held is not None else None
        if callable(close):
            close()
