"""Serve slow data (a feed, a forecast) from memory, loaded in the background: a resident's
command never waits on the network.

The dispatcher answers mentions one at a time; a command that fetched a slow feed itself would
hold every other resident's mention behind it. A command reads the last good value instead;
when it is older than ``max_age`` a background thread loads a fresh one (one load at a time),
and a failed load keeps the last good value::

    from civicbot import LastGood

    agenda = LastGood(lambda: load_events(fetcher), max_age=600, name="agenda", log=bot.log)

    def handler(ctx):
        events = agenda.current(wait=1.0)   # at most one second, the first time only
        if events is None:                  # still loading: answer when it is there
            agenda.when_loaded(lambda value, error: ctx.bot.reply(ctx.status, text(value)))
            return None
        return text(events)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Generic, TypeVar

V = TypeVar("V")

__all__ = ["LastGood"]


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class LastGood(Generic[V]):
    """The last good value of ``load()``, refreshed in a background thread.

    ``max_age``: older values are still served but trigger a refresh; ``retry_after`` (default:
    a tenth of ``max_age``, at least 5 s): how long after a failed load the next one may start;
    ``name`` and ``log`` (a structlog logger): failed loads are logged as warnings.
    """

    def __init__(self, load: Callable[[], V], *, max_age: float | timedelta, name: str = "",
                 log: Any = None, retry_after: float | timedelta | None = None) -> None:
        self._load = load
        self.max_age = _seconds(max_age)
        self.retry_after = (_seconds(retry_after) if retry_after is not None
                            else max(5.0, self.max_age / 10))
        self.name = name
        self.log = log
        self._lock = threading.Lock()
        self._value: V | None = None
        self._loaded_at: float | None = None
        self._failed_at: float | None = None
        self._error: BaseException | None = None
        self._loading: threading.Event | None = None
        self._callbacks: list[Callable[[V | None, BaseException | None], None]] = []
        self._closed = False

    @property
    def value(self) -> V | None:
        """The last good value, whatever its age (None before the first good load)."""
        with self._lock:
            return self._value

    @property
    def error(self) -> BaseException | None:
        """What the last load raised (None when it succeeded)."""
        with self._lock:
            return self._error

    @property
    def loading(self) -> bool:
        with self._lock:
            return self._loading is not None

    def current(self, usable: Callable[[V], bool] | None = None,
                wait: float | timedelta = 0.0) -> V | None:
        """The last good value when there is one (and ``usable(value)`` holds), starting a
        background refresh when it is stale; otherwise start a load and wait for it at most
        ``wait`` seconds. None when nothing usable is there (yet)."""
        with self._lock:
            value, fresh = self._value, self._fresh()
        ok = value is not None and (usable is None or usable(value))
        if not ok or not fresh:
            self.refresh(force=not ok)
        if ok:
            return value
        seconds = _seconds(wait)
        with self._lock:
            loading = self._loading
        if loading is not None and seconds > 0:
            loading.wait(seconds)
        with self._lock:
            value = self._value
        if value is not None and (usable is None or usable(value)):
            return value
        return None

    def _fresh(self) -> bool:
        return self._loaded_at is not None and time.monotonic() - self._loaded_at < self.max_age

    def refresh(self, force: bool = False) -> None:
        """Start a background load unless one is running (or a failed one is too recent;
        ``force`` ignores that delay)."""
        with self._lock:
            if self._closed or self._loading is not None:
                return
            if (not force and self._failed_at is not None
                    and time.monotonic() - self._failed_at < self.retry_after):
                return
            self._loading = threading.Event()
        thread = threading.Thread(target=self._run, name=f"last-good-{self.name or 'load'}",
                                  daemon=True)
        thread.start()

    def when_loaded(self, callback: Callable[[V | None, BaseException | None], None]) -> None:
        """Call ``callback(value, error)`` when the running load ends (in its thread), or now
        when none runs. ``value`` is the last good value (None if there is none), ``error``
        what the load raised."""
        with self._lock:
            if self._loading is not None:
                self._callbacks.append(callback)
                return
            value, error = self._value, self._error
        callback(value, error)

    def _run(self) -> None:
        error: BaseException | None = None
        value: V | None = None
        try:
            value = self._load()
        except Exception as exc:
            error = exc
            if self.log is not None:
                self.log.warning("background load failed; the last good data is kept",
                                 what=self.name, error=str(exc))
        with self._lock:
            if error is None:
                self._value, self._loaded_at = value, time.monotonic()
                self._failed_at = None
            else:
                self._failed_at = time.monotonic()
            self._error = error
            loading, self._loading = self._loading, None
            callbacks, self._callbacks = self._callbacks, []
            current = self._value
        if loading is not None:
            loading.set()
        for callback in callbacks:
            try:
                callback(current, error)
            except Exception as exc:  # one caller's bug must not hide the others' answers
                if self.log is not None:
                    self.log.error("callback after a background load failed", what=self.name,
                                   exc_info=exc)

    def close(self) -> None:
        """No more loads (a running one finishes in its daemon thread)."""
        with self._lock:
            self._closed = True
