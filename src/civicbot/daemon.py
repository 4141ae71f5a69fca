"""The daemon: every account of a config file in one process, each isolated from the others."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import structlog

from civicbot.bot import Bot
from civicbot.config import Config, load_config
from civicbot.errors import AuthenticationError, CivicbotError
from civicbot.plugins import make_plugin_manager
from civicbot.state import SQLiteStateStore, StateStore


class Daemon:
    """Runs the :class:`Bot` of every account; a failing account never stops the others."""

    def __init__(self, config: Config, *, dry_run: bool | None = None, http: str | None = None,
                 plugins: Iterable[Any] = (), load_entry_points: bool = True) -> None:
        self.config = config
        self.dry_run = config.core.dry_run if dry_run is None else dry_run
        self.http_address = http or config.core.http
        self.log = structlog.get_logger("civicbot.daemon")
        self.store: StateStore = SQLiteStateStore(":memory:" if self.dry_run
                                                  else config.core.state)
        plugins = list(plugins)
        self.bots = [Bot.from_settings(s, plugins=plugins, dry_run=self.dry_run, store=self.store,
                                       load_entry_points=load_entry_points)
                     for s in config.accounts]
        self.failed: dict[str, BaseException] = {}
        self._stop = threading.Event()
        self._http: Any = None
        self.started_at: float | None = None

    @classmethod
    def from_config(cls, path: str | Path, **kwargs: Any) -> Daemon:
        plugins = kwargs.get("plugins", ())
        pm = make_plugin_manager(plugins=plugins,
                                 load_entry_points=kwargs.get("load_entry_points", True))
        return cls(load_config(path, pm=pm), **kwargs)

    def start(self) -> None:
        import time

        self.started_at = time.monotonic()
        if self.http_address:
            from civicbot.http import HealthServer

            self._http = HealthServer(self, self.http_address)
            self._http.start()
        threads = [threading.Thread(target=self._start_bot, args=(bot,), daemon=True,
                                    name=f"civicbot-start-{bot.name}") for bot in self.bots]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _start_bot(self, bot: Bot) -> None:
        try:
            bot.start()
        except CivicbotError as exc:
            self.failed[bot.name] = exc
            bot.log.error("account failed to start; the others go on", error=str(exc))
        except Exception as exc:  # one account's bug never stops the others
            self.failed[bot.name] = exc
            bot.log.error("account failed to start; the others go on", exc_info=exc)

    def request_stop(self) -> None:
        self._stop.set()
        for bot in self.bots:
            bot.request_stop()

    def healthy(self) -> tuple[bool, list[str]]:
        """True when every stream is connected or polling and every scheduler runs."""
        reasons = []
        for bot in self.bots:
            if bot.name in self.failed:
                reasons.append(f"{bot.name}: failed: {self.failed[bot.name]}")
                continue
            stream = bot.stream
            if stream is None or stream.state not in {"connected", "polling"}:
                reasons.append(f"{bot.name}: stream {stream.state if stream else 'not started'}")
            if not bot.scheduler.running:
                reasons.append(f"{bot.name}: scheduler not running")
        return (not reasons, reasons)

    def run(self) -> None:
        """Start every account and block until :meth:`request_stop`; then stop cleanly.

        With a single account, a refused token ends the run with :class:`AuthenticationError`.
        """
        try:
            self.start()
            while not self._stop.wait(0.5):
                for bot in self.bots:
                    stream = bot.stream
                    if stream is not None and stream.fatal_error is not None \
                            and bot.name not in self.failed:
                        self.failed[bot.name] = stream.fatal_error
                        bot.log.error("account stopped", error=str(stream.fatal_error))
                        threading.Thread(target=bot.stop, daemon=True).start()
                if len(self.failed) == len(self.bots):
                    break
        finally:
            self.stop()
        if len(self.bots) == 1 and self.failed:
            error = next(iter(self.failed.values()))
            if isinstance(error, AuthenticationError):
                raise error
            raise CivicbotError(str(error))

    def stop(self) -> None:
        self._stop.set()
        threads = [threading.Thread(target=bot.stop, daemon=True) for bot in self.bots]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        if self._http is not None:
            self._http.stop()
            self._http = None
        self.store.close()
