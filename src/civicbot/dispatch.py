"""Notifications to hooks: one worker, a bounded queue, in id order, each plugin isolated.

The stream reader (or catch-up) calls :meth:`Dispatcher.submit`; when the queue is full the
caller waits, so a slow plugin slows the reader down instead of losing events (and catch-up
fills any gap after a reconnect). The notification cursor moves only after every plugin
returned, so a crash mid-handling means the notification is handled again at restart, and the
dedup key of any reply prevents a second post.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from civicbot.store_outage import store_outage

if TYPE_CHECKING:
    from civicbot.bot import Bot

CURSOR = "notifications"
#: How long handled notification ids are remembered (far longer than any catch-up reaches).
SEEN_KEPT_FOR = timedelta(days=30)
#: Waits between attempts while the state store cannot write (doubling up to the second).
STORE_RETRY_INITIAL = 0.2
STORE_RETRY_MAX = 30.0
_STOP = object()


def id_key(notification_id: str) -> tuple[int, int, str]:
    """Sort key for notification ids: snowflake digits numerically, ULIDs and others as text."""
    text = str(notification_id)
    return (0, len(text), text) if text.isdigit() else (1, 0, text)


def created_at(entity: Mapping[str, Any]) -> datetime | None:
    value = entity.get("created_at")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


class Dispatcher:
    """Feeds notifications to ``civicbot_on_notification`` and ``civicbot_on_mention``."""

    def __init__(self, bot: Bot, *, queue_size: int = 1000,
                 max_mention_age: timedelta = timedelta(hours=24)) -> None:
        self.bot = bot
        self.max_mention_age = max_mention_age
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, queue_size))
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, None] = OrderedDict()
        # ids submitted and not yet recorded as seen in the store: at most the queue's size
        # plus the one being handled (a margin for the submitting threads); older ones are in
        # the store, which _handle asks again, so nothing is handled twice
        self._recent_max = max(1, queue_size) + 100
        self._cursor = bot.state.store.get_cursor(bot.name, CURSOR)
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._in_flight = 0
        self.handled = 0
        self.failed = 0
        self.skipped_old = 0
        self.dropped_malformed = 0
        #: Failed attempts on a store outage, and whether one is going on now.
        self.store_failures = 0
        self.store_waiting = False
        self.store_retry_initial = STORE_RETRY_INITIAL
        self.store_retry_max = STORE_RETRY_MAX
        self.last_handled_at: float | None = None
        self.on_handled: Callable[[dict[str, Any], float], None] | None = None
        self.log = structlog.get_logger("civicbot.dispatch").bind(account=bot.name)

    @property
    def cursor(self) -> str | None:
        """The id of the last notification every plugin finished with."""
        return self._cursor

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        pruned = self.bot.state.store.prune_seen(self.bot.name,
                                                 datetime.now(UTC) - SEEN_KEPT_FOR)
        if pruned:
            self.log.info("old handled notifications forgotten", count=pruned)
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, daemon=True,
                                            name=f"civicbot-dispatch-{self.bot.name}")
            self._thread.start()

    def submit(self, notification: Mapping[str, Any], timeout: float | None = None) -> bool:
        """Queue a notification (waits while the queue is full). False if it was a duplicate
        or the dispatcher is stopping."""
        nid = str(notification.get("id", ""))
        if not nid:
            self.log.warning("notification without id skipped")
            return False
        try:
            seen = self.bot.state.store.notification_seen(self.bot.name, nid)
        except Exception as exc:  # the store will be asked again before handling
            self.log.warning("could not check a notification; queued anyway", error=str(exc))
            seen = False
        with self._lock:
            # seen, not "below the cursor": a server may deliver two notifications out of order
            if nid in self._recent or seen:
                return False
            self._recent[nid] = None
            while len(self._recent) > self._recent_max:
                self._recent.popitem(last=False)
        with self._idle:
            self._in_flight += 1
        while not self._stopping.is_set():
            try:
                self._queue.put((notification, time.perf_counter()), timeout=0.2)
                return True
            except queue.Full:
                if timeout is not None:
                    timeout -= 0.2
                    if timeout <= 0:
                        break
        with self._lock:
            self._recent.pop(nid, None)
        self._done_one()
        return False

    def forget(self, notification_id: str) -> None:
        """Allow a notification to be submitted again (it was dropped before being handled)."""
        with self._lock:
            self._recent.pop(str(notification_id), None)

    def _done_one(self) -> None:
        with self._idle:
            self._in_flight -= 1
            if self._in_flight <= 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted notification was handled (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            notification, queued_at = item
            try:
                self._handle_until_done(notification, queued_at)
            finally:
                self._done_one()

    def _handle_until_done(self, notification: dict[str, Any], queued_at: float) -> None:
        """Handle one notification; while the state store cannot write (disk full...) wait
        and try again, for as long as it takes: a later notification must never move the
        cursor past this one while it is unhandled. A notification that breaks the handling
        for another reason (malformed) is logged and recorded as seen at once."""
        nid = str(notification.get("id"))
        malformed = False
        attempt = 0
        while not self._stopping.is_set():
            try:
                if malformed:
                    self._record(nid)
                else:
                    self._handle(notification, queued_at)
                if self.store_waiting:
                    self.log.warning("state store works again; notification handled",
                                     notification_id=nid, attempts=attempt + 1)
                    self.store_waiting = False
                return
            except Exception as exc:
                outage = store_outage(exc)
                if outage is None and not malformed:
                    malformed = True
                    self.dropped_malformed += 1
                    self.bot.count("dispatch.malformed_dropped")
                    self.log.error("malformed notification dropped", notification_id=nid,
                                   error=f"{type(exc).__name__}: {str(exc)[:200]}",
                                   exc_info=exc)
                    continue
                attempt += 1
                self.store_waiting = True
                self.store_failures += 1
                self.bot.count("dispatch.store_failures")
                delay = min(self.store_retry_max, self.store_retry_initial * 2 ** (attempt - 1))
                # the real error (not "cannot rollback", nor the plugin's wrapper)
                self.log.error("state store failed; the notification waits for it",
                               notification_id=nid, attempt=attempt, retry_in_s=round(delay, 2),
                               error=f"{type(outage or exc).__name__}: {outage or exc}")
                if self._stopping.wait(delay):
                    return

    def _record(self, nid: str) -> None:
        """Record a notification as seen (and move the cursor) without handling it."""
        advance = self._cursor is None or id_key(nid) > id_key(self._cursor)
        self.bot.state.store.mark_notification(self.bot.name, nid,
                                               cursor=nid if advance else None)
        if advance:
            self._cursor = nid

    def _handle(self, notification: dict[str, Any], queued_at: float) -> None:
        nid = str(notification["id"])
        store, account = self.bot.state.store, self.bot.name
        if store.notification_seen(account, nid):
            return
        failures = self.bot.hooks.on_notification(self.bot, notification)
        if notification.get("type") == "mention" and notification.get("status"):
            status = notification["status"]
            when = created_at(status) or created_at(notification)
            if when is not None and datetime.now(UTC) - when > self.max_mention_age:
                self.skipped_old += 1
                self.log.info("mention too old; recorded as seen, not answered",
                              notification_id=nid, created_at=when.isoformat())
            else:
                failures += self.bot.hooks.on_mention(self.bot, status, notification)
        advance = self._cursor is None or id_key(nid) > id_key(self._cursor)
        store.mark_notification(account, nid, cursor=nid if advance else None)
        if advance:
            self._cursor = nid
        self.handled += 1
        if failures:
            self.failed += 1
        self.last_handled_at = time.time()
        if self.on_handled is not None:
            self.on_handled(notification, time.perf_counter() - queued_at)

    def skip(self, notification_id: str) -> None:
        """Record a notification as seen without handling it (old history on first start)."""
        nid = str(notification_id)
        if self._cursor is None or id_key(nid) > id_key(self._cursor):
            self.bot.state.store.set_cursor(self.bot.name, CURSOR, nid)
            self._cursor = nid

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the notification in hand (bounded wait) and stop; queued ones are left for
        the catch-up of the next start (the cursor did not move past them)."""
        self._stopping.set()
        if self._thread is None:
            return
        while True:
            try:
                self._queue.put_nowait(_STOP)
                break
            except queue.Full:
                # make room: what is queued is not handled, the next start's catch-up gets it
                try:
                    self._queue.get_nowait()
                    self._done_one()
                except queue.Empty:
                    pass
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.log.warning("a plugin is still handling a notification; not waiting longer",
                             timeout_s=timeout)
