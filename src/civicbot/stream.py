"""The supervised user stream: connect, catch up, watch, reconnect — and never miss a mention.

Mastodon.py's own asynchronous streams retry forever at a fixed interval, retry a revoked
token, die silently when a callback raises, and never replay what was missed. civicbot owns
the lifecycle instead:

* the stream runs in a thread of ours, in Mastodon.py's blocking mode, with a listener that
  never raises (it only hands notifications to the :class:`~civicbot.dispatch.Dispatcher`);
* the read timeout is the watchdog: no event nor heartbeat (``:thump`` every 15 s on Mastodon)
  for ``stream.watchdog`` seconds and the connection is dropped and reopened;
* reconnects wait an exponential backoff with jitter, capped, reset after a healthy connection;
* 401/403 stop the bot with a clear error; a clean close from the server reconnects;
* after every (re)connect — the stream first, then REST — the notifications missed since the
  cursor are fetched oldest first to the end; stream events received meanwhile are held back
  and de-duplicated by id, so everything is handled once and in order;
* transport ``auto`` tries HTTP streaming (SSE), then WebSocket (GoToSocial), then polling
  (snac, or any server without streaming);
* a stream that keeps failing while REST answers (a ``wss://`` URL on a plain-http server,
  connection refused, closed at once) gives way to polling within ``stream.fallback_after``,
  and streaming is tried again every ``stream.stream_retry``;
* catch-up pages *backwards* with ``max_id`` from the newest notification down to the cursor,
  always passing ``limit`` (snac reads ``min_id`` as ``since_id``, sends no ``Link`` header and
  returns one notification without ``limit``), and says in the log when the server no longer
  holds every notification missed;
* polling is adaptive: ``stream.poll_interval_busy`` after a mention, doubling back to
  ``stream.poll_interval`` when idle, slower when the rate limit runs low.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from mastodon import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonUnauthorizedError,
)

from civicbot.dispatch import Dispatcher, created_at, id_key
from civicbot.errors import AuthenticationError
from civicbot.stream_wire import (
    Backoff,
    SupervisedListener,
    Unsupported,
    abort_response,
    classify_failure,
    notifications_page,
    refused,
    seed_streaming_base,
)

if TYPE_CHECKING:
    from mastodon import Mastodon

    from civicbot.bot import Bot

TRANSPORTS = ("sse", "websocket", "poll")
PAGE = 80
#: Consecutive streaming failures (REST answering) after which polling takes over.
FALLBACK_FAILURES = 3
HEALTH_EVERY = 5.0  # seconds between two saves of the health record (civicbot status)
#: Longest sleep of a connected stream's supervisor between two looks at its connection: it is
#: woken at once when the connection ends or the supervisor stops, so this only bounds how
#: late the watchdog and the health record can be (a WebSocket handle cannot wake it: shorter).
WATCH_TICK = 1.0
WATCH_TICK_WEBSOCKET = 0.25


class StreamSupervisor:
    """Receives the notifications of one account, by stream or polling, and dispatches them."""

    def __init__(self, bot: Bot, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.bot = bot
        cfg = bot.settings.core.stream
        self.cfg = cfg
        self.clock = clock
        self.log = structlog.get_logger("civicbot.stream").bind(account=bot.name)
        self.dispatcher = Dispatcher(bot, queue_size=cfg.queue_size,
                                     max_mention_age=cfg.max_mention_age)
        self.backoff = Backoff(cfg.backoff_initial.total_seconds(),
                               cfg.backoff_max.total_seconds())
        self.transports = list(TRANSPORTS) if cfg.transport == "auto" else [cfg.transport]
        self.transport: str | None = None
        self.state = "stopped"
        self.fatal_error: AuthenticationError | None = None
        self.reconnects = 0
        self.connects = 0
        self.catch_ups = 0
        self.last_event_at: float | None = None  # wall time of the last event or heartbeat
        self._last_activity = clock()
        self._last_event = float("-inf")
        self._health_saved = clock()
        self._stop = threading.Event()
        #: Set when the connection ends or the supervisor stops: wakes :meth:`_watch`.
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._holding = False
        self._overflowed = False
        self._held: dict[str, Any] = {}
        #: The newest notification id fetched by REST (catch-up continues from there).
        self._fetched_up_to: str | None = None
        self._listener: SupervisedListener | None = None
        self._ws_handle: Any = None
        self._reader: threading.Thread | None = None
        self._client: Mastodon | None = None
        # streaming that fails while REST answers -> polling, streaming retried now and then
        self._stream_failures = 0
        self._failing_since: float | None = None
        self._retry_stream_at: float | None = None
        self._retrying_stream = False
        self.fallback_polling = False
        #: times polling took over from a failing stream
        self.fallbacks = 0
        #: notifications the server no longer held when they were fetched (snac keeps 64)
        self.lost_notifications = 0
        #: the last waits between two polls, newest last (seconds)
        self.poll_waits: deque[float] = deque(maxlen=32)
        self._round_mentions = 0

    @property
    def client(self) -> Mastodon:
        """The stream's own Mastodon.py client (not shared with the publisher's thread)."""
        if self._client is None:
            client = self.bot.new_client()
            seed_streaming_base(client, self.bot.publisher.streaming_api)
            self._client = client
        return self._client

    # -- public -------------------------------------------------------------------------------
    def start(self) -> None:
        self.dispatcher.start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"civicbot-stream-{self.bot.name}")
        self._thread.start()

    def stop(self) -> None:
        """Close the stream without hanging, finish the handler in hand, persist health."""
        self._stop.set()
        self._wake.set()
        self._close_connection()
        if self._thread is not None:
            self._thread.join(5.0)
        self.dispatcher.stop(self.cfg.shutdown_grace.total_seconds())
        if self.fatal_error is None:
            self._set_state("stopped")

    def health(self) -> dict[str, Any]:
        """Stream state, last event time, reconnects, queue depth, handled and failed counts."""
        return {
            "account": self.bot.name,
            "state": self.state,
            "transport": self.transport,
            "last_event_at": _iso(self.last_event_at),
            "reconnects": self.reconnects,
            "queue_depth": self.dispatcher.queue_depth,
            "handled": self.dispatcher.handled,
            "failed": self.dispatcher.failed,
            "skipped_old": self.dispatcher.skipped_old,
            "cursor": self.dispatcher.cursor,
            "fallback_polling": self.fallback_polling,
            "fallbacks": self.fallbacks,
            "lost_notifications": self.lost_notifications,
            "updated_at": datetime.now(UTC).isoformat(),
        }

    @property
    def catching_up(self) -> bool:
        """True while missed notifications are fetched by REST (stream events are held back)."""
        return self._holding

    def wait_state(self, states: set[str], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state in states:
                return True
            time.sleep(0.01)
        return False

    # -- state and activity ---------------------------------------------------------------------
    def _set_state(self, state: str, **info: Any) -> None:
        if state == self.state:
            return
        self.state = state
        self.log.info("stream state", state=state, transport=self.transport,
                      reconnects=self.reconnects, **info)
        self.persist_health()

    def persist_health(self) -> None:
        self._health_saved = self.clock()
        try:
            self.bot.state.namespace("core").set("health", self.health())
        except Exception as exc:  # the store may be closing at shutdown
            self.log.debug("could not persist health", error=str(exc))

    def _activity(self, event: bool = False) -> None:
        self._last_activity = self.clock()
        if event:
            self._last_event = self._last_activity
        self.last_event_at = time.time()

    # -- the supervisor loop --------------------------------------------------------------------
    def _run(self) -> None:
        index = 0
        while not self._stop.is_set():
            transport = "poll" if self.fallback_polling else self.transports[index]
            self.transport = transport
            self._note_transport(transport)
            try:
                if transport == "poll":
                    self._poll()
                    if self.fatal_error is not None:
                        return
                    if self.fallback_polling and not self._stop.is_set():
                        self.fallback_polling = False  # time to try streaming again
                        self._retrying_stream = True  # (back to polling at the first failure)
                        index = 0
                        self.log.info("trying streaming again after polling")
                    continue
                self._set_state("connecting")
                self._open(transport)
            except Unsupported as exc:
                if index + 1 < len(self.transports):
                    self.log.info("transport not offered by the server; trying the next",
                                  transport=transport, reason=str(exc))
                    index += 1
                    continue
                self._failed_connect(exc)
                continue
            except AuthenticationError as exc:
                self._fatal(exc)
                return
            except Exception as exc:
                try:
                    self._failed_connect(exc)
                except Exception as again:  # e.g. the store failing while saving the state
                    self.log.error("stream reconnect bookkeeping failed", exc_info=again)
                    self._stop.wait(self.backoff.next())
                continue
            self.connects += 1
            if self.connects > 1:
                self.reconnects += 1
            self._set_state("connected")
            connected_at = self.clock()
            try:
                self._watch()
            except AuthenticationError as exc:
                self._fatal(exc)
                return
            except Exception as exc:  # never let the supervisor die: that is missed mentions
                self.log.error("stream supervision failed; reconnecting", exc_info=exc)
            finally:
                self._close_connection()
            if self._stop.is_set():
                break
            # healthy: it lasted, or delivered events (a server that accepts and closes at once,
            # with only its opening comment or a heartbeat, keeps the backoff growing)
            lasted = self.clock() - connected_at >= min(30.0, self.cfg.backoff_max.total_seconds())
            if lasted or self._last_event > connected_at:
                self.backoff.reset()
                self._stream_failures, self._failing_since = 0, None
                self._retrying_stream = False
            elif self._stream_failed(RuntimeError("the stream closed at once"), rest_ok=True):
                continue
            self._set_state("reconnecting")
            self._stop.wait(self.backoff.next())

    def _fatal(self, exc: AuthenticationError) -> None:
        self.fatal_error = exc
        self.log.error("the instance refused the access token; stopping", error=str(exc))
        self._set_state("failed", error=str(exc))
        self.bot.request_stop()

    def _failed_connect(self, exc: BaseException) -> None:
        rest_ok = self._check_auth()  # raises nothing; sets fatal on 401/403
        if self.fatal_error is not None:
            return
        if self._stream_failed(exc, rest_ok=rest_ok):
            return
        delay = self.backoff.next()
        self._set_state("backoff")
        self.log.warning("stream connection failed; retrying", transport=self.transport,
                         error=str(exc)[:200], retry_in_s=round(delay, 2))
        self._stop.wait(delay)

    def _check_auth(self) -> bool:
        """Ask REST who we are: sets the fatal error on 401/403; True when REST answered."""
        try:
            self.client.account_verify_credentials()
        except MastodonUnauthorizedError as exc:
            self._fatal(AuthenticationError(f"access token refused (401/403): {exc}"))
        except MastodonAPIError as exc:
            if exc.args and len(exc.args) > 1 and exc.args[1] in (401, 403):
                self._fatal(AuthenticationError(f"access token refused: {exc}"))
        except MastodonError:
            pass
        else:
            return True
        return False

    def _stream_failed(self, exc: BaseException, *, rest_ok: bool) -> bool:
        """Count a streaming failure; True when polling takes over (REST answers while the
        stream keeps failing: a TLS error, refused, closed at once)."""
        now = self.clock()
        self._stream_failures += 1
        if self._failing_since is None:
            self._failing_since = now
        if not rest_ok:
            return False  # the whole server is down: keep reconnecting with backoff
        failing_for = now - self._failing_since
        if not self._retrying_stream and (
                self._stream_failures < FALLBACK_FAILURES
                or failing_for < self.cfg.fallback_after.total_seconds()):
            return False
        self._retrying_stream = False
        retry = self.cfg.stream_retry.total_seconds()
        self.log.warning("streaming keeps failing while REST answers; polling instead",
                         transport=self.transport, failures=self._stream_failures,
                         error=str(exc)[:200], retry_streaming_in_s=retry)
        self.fallback_polling = True
        self.fallbacks += 1
        self._retry_stream_at = now + retry
        self._stream_failures, self._failing_since = 0, None
        self.backoff.reset()
        return True

    def _note_transport(self, transport: str) -> None:
        server = self.bot.publisher.known_server  # read at start; never fetched from here
        if server is not None:
            server.streaming = transport

    # -- transports -----------------------------------------------------------------------------
    def _open(self, transport: str) -> None:
        listener = SupervisedListener(self)
        self._listener = listener
        timeout = self.cfg.watchdog.total_seconds()
        client = self.client
        with self._lock:
            self._holding, self._held, self._overflowed = True, {}, False
        if transport == "websocket":
            try:
                handle = client.stream_open_websocket(  # type: ignore[no-untyped-call]
                    listener=listener, timeout=timeout)
            except MastodonError as exc:
                raise classify_failure(exc) from exc
            self._ws_handle = handle
            if self._stop.is_set():  # stopped while it opened: stop() may have missed it
                self._close_connection()
                raise MastodonNetworkError("stopped while the stream opened")
            client.stream_user(listener, websocket_handle=handle)
            self._activity()
            return
        failure: list[BaseException] = []

        def read() -> None:
            try:
                client.stream_user(listener, run_async=False, timeout=timeout)
            except BaseException as exc:
                failure.append(exc)
            finally:
                self._wake.set()

        reader = threading.Thread(target=read, daemon=True, name=f"civicbot-sse-{self.bot.name}")
        reader.start()
        self._reader = reader
        deadline = time.monotonic() + max(5.0, self.bot.settings.mastodon.request_timeout
                                          .total_seconds())
        while not listener.connected.wait(0.02):
            if not reader.is_alive() or time.monotonic() > deadline or self._stop.is_set():
                listener.abandoned = True  # (it may still open: it is closed at once then)
                if reader.is_alive():
                    abort_response(listener.response)
                error = failure[0] if failure else MastodonNetworkError("stream did not open")
                raise classify_failure(error)

    def _connection_alive(self) -> bool:
        if self._ws_handle is not None:
            return bool(self._ws_handle.is_alive())
        return self._reader is not None and self._reader.is_alive()

    def _close_connection(self) -> None:
        handle, self._ws_handle = self._ws_handle, None
        listener = self._listener
        if handle is not None:
            closer = threading.Thread(target=handle.close, daemon=True)
            closer.start()
            closer.join(1.0)  # Mastodon.py's close() may block until the next byte
        if listener is not None:
            abort_response(listener.response)
        reader = self._reader
        if reader is not None and reader.ident is not None:
            reader.join(1.0)
        self._reader = None

    def _watch(self) -> None:
        """Catch up, then watch the connection until it dies, stalls or we stop."""
        watchdog = self.cfg.watchdog.total_seconds()
        caught_up = False
        retry_at = 0.0
        while not self._stop.is_set():
            self._wake.clear()  # before looking: an end from now on wakes the wait below
            if not caught_up and self.clock() >= retry_at:
                try:
                    self._catch_up()
                    caught_up = True
                except Exception as exc:
                    if refused(exc):
                        raise AuthenticationError(f"access token refused: {exc}") from exc
                    # MastodonError, OSError, or the state store failing (SQLite busy): retry
                    delay = self.backoff.next()
                    retry_at = self.clock() + delay
                    self.log.warning("catch-up failed; stream events held until it succeeds",
                                     error=str(exc)[:200] or type(exc).__name__,
                                     retry_in_s=round(delay, 2))
            if not self._connection_alive():
                listener = self._listener
                reason = listener.aborted if listener else None
                self.log.warning("stream closed", reason=str(reason) if reason else "clean close")
                return
            if self.clock() - self._last_activity > watchdog:
                self.log.warning("no event nor heartbeat; reconnecting", watchdog_s=watchdog)
                return
            if self.clock() - self._health_saved > HEALTH_EVERY:
                self.persist_health()
            # sleep until something is due (never a busy poll: hundreds of accounts per daemon)
            now = self.clock()
            wait = min(WATCH_TICK if self._ws_handle is None else WATCH_TICK_WEBSOCKET,
                       watchdog - (now - self._last_activity),
                       HEALTH_EVERY - (now - self._health_saved))
            if not caught_up:
                wait = min(wait, retry_at - now)
            self._wake.wait(max(0.01, wait))

    # -- stream events and catch-up -------------------------------------------------------------
    def _from_stream(self, notification: Any) -> None:
        with self._lock:
            if self._holding:
                if len(self._held) < self.cfg.queue_size:
                    self._held[str(notification["id"])] = notification
                else:  # too many to hold: another catch-up round will fetch them by REST
                    self._overflowed = True
                return
        self.dispatcher.submit(notification)

    def _catch_up(self) -> int:
        """Dispatch every notification missed since the cursor, oldest first, then release the
        stream events held back meanwhile (in id order, duplicates dropped by the dispatcher).

        If more stream events arrived during the catch-up than can be held, the held ones are
        dropped and another round fetches them by REST, until a round ends with nothing lost:
        only then does the stream feed the dispatcher directly.
        """
        count = 0
        while not self._stop.is_set():
            count += self._fetch_missed()
            with self._lock:
                if self._overflowed:
                    self._overflowed, self._held = False, {}
                    continue
                for notification in sorted(self._held.values(),
                                           key=lambda n: id_key(str(n["id"]))):
                    self.dispatcher.submit(notification)
                self._held, self._holding = {}, False
                break
        self.catch_ups += 1
        if count:
            self.log.info("caught up", notifications=count)
        return count

    def _fetch_missed(self) -> int:
        """One REST round: every notification after the newest already fetched (or the
        cursor), paged backwards with ``max_id`` from the newest down to it, then dispatched
        oldest first.

        Paging backwards works on every server: Mastodon, GoToSocial and snac (whose
        ``min_id`` gives the *newest* N above the id, with no ``Link`` header). When the pages
        end before reaching the cursor, the server no longer holds the oldest notifications
        missed (snac keeps 64): that is logged.
        """
        cursor = self.dispatcher.cursor
        last = self._fetched_up_to
        if cursor is not None and (last is None or id_key(cursor) > id_key(last)):
            last = cursor
        if last is None:
            return self._first_catch_up()
        client = self.client
        missed: dict[str, Any] = {}
        max_id: str | None = None
        reached = False
        while not self._stop.is_set():
            page = notifications_page(client, max_id=max_id, limit=PAGE)
            if not page:
                break
            page = sorted(page, key=lambda n: id_key(str(n["id"])), reverse=True)
            for notification in page:
                nid = str(notification["id"])
                if id_key(nid) <= id_key(last):
                    reached = True
                    break
                missed[nid] = notification
            oldest = str(page[-1]["id"])
            if reached or (max_id is not None and id_key(oldest) >= id_key(max_id)):
                break
            max_id = oldest
        if self._stop.is_set():
            return 0  # the next start fetches them again (the cursor did not move)
        if missed and not reached:
            self._report_gap(last, missed)
        count = 0
        for nid in sorted(missed, key=id_key):
            if self.dispatcher.submit(missed[nid]):
                count += 1
                if missed[nid].get("type") == "mention":
                    self._round_mentions += 1
        if missed:
            self._fetched_up_to = max(missed, key=id_key)
        return count

    def _report_gap(self, last: str, missed: dict[str, Any]) -> None:
        """The pages ended before the cursor: older missed notifications are gone from the
        server (snac keeps its newest 64). Say how many, as far as can be told."""
        oldest = min(missed, key=id_key)
        self.lost_notifications += 1
        self.log.warning(
            "more notifications were missed than the server keeps; the older ones are no "
            "longer on the server and could not be handled",
            server_keeps=len(missed), cursor=last, oldest_still_on_server=oldest,
            software=getattr(self.bot.publisher.known_server, "software", "unknown"))

    def _first_catch_up(self) -> int:
        """No cursor yet: handle only what is newer than ``max_mention_age``; the rest is
        recorded as seen (never answer a mention from last year on the first start)."""
        client = self.client
        cutoff = datetime.now(UTC) - self.cfg.max_mention_age
        recent: list[Any] = []
        newest_old: str | None = None
        max_id: str | None = None
        while not self._stop.is_set():
            page = notifications_page(client, max_id=max_id, limit=PAGE)
            if not page:
                break
            done = False
            for notification in page:
                when = created_at(notification)
                if when is not None and when < cutoff:
                    nid = str(notification["id"])
                    if newest_old is None or id_key(nid) > id_key(newest_old):
                        newest_old = nid
                    done = True
                else:
                    recent.append(notification)
            if done:
                break
            max_id = str(page[-1]["id"])
        if newest_old is not None:
            self.dispatcher.skip(newest_old)
            self.log.info("first start: older notifications recorded as seen",
                          newest_skipped=newest_old)
        recent.sort(key=lambda n: id_key(str(n["id"])))
        for notification in recent:
            if self.dispatcher.submit(notification) and notification.get("type") == "mention":
                self._round_mentions += 1
        newest = [str(recent[-1]["id"])] if recent else []
        if newest_old is not None:
            newest.append(newest_old)
        if newest:
            self._fetched_up_to = max(newest, key=id_key)
        return len(recent)

    def _poll(self) -> None:
        """Polling transport: the same catch-up path, ``stream.poll_interval_busy`` after a
        mention, doubling back to ``stream.poll_interval`` when idle; returns when streaming
        is to be tried again (after a fallback)."""
        idle = self.cfg.poll_interval.total_seconds()
        busy = min(self.cfg.poll_interval_busy.total_seconds(), idle)
        interval = idle
        self._set_state("polling")
        while not self._stop.is_set():
            if (self.fallback_polling and self._retry_stream_at is not None
                    and self.clock() >= self._retry_stream_at):
                return
            try:
                mentions = self._catch_up_counting_mentions()
                self._activity()
                self.backoff.reset()
                self.persist_health()
                if self.state != "polling":
                    self._set_state("polling")
                interval = busy if mentions else min(idle, interval * 2)
                wait = max(interval, self._rate_limited_wait(idle))
            except Exception as exc:
                if refused(exc):
                    self._fatal(AuthenticationError(f"access token refused: {exc}"))
                    return
                wait = self.backoff.next()
                self._set_state("backoff")
                self.log.warning("polling failed; retrying", error=str(exc)[:200],
                                 retry_in_s=round(wait, 2))
            self.poll_waits.append(wait)
            if self.fallback_polling and self._retry_stream_at is not None:
                wait = max(0.0, min(wait, self._retry_stream_at - self.clock()))
            self._stop.wait(wait)

    def _catch_up_counting_mentions(self) -> int:
        """Catch up; how many new mentions came (residents are talking)."""
        self._round_mentions = 0
        self._catch_up()
        return self._round_mentions

    def _rate_limited_wait(self, idle: float) -> float:
        """Polling never spends more than a quarter of the rate budget: when fewer than a
        quarter of the calls are left, wait ``idle`` at least."""
        client = self._client
        try:
            remaining = float(getattr(client, "ratelimit_remaining", 300))
            limit = float(getattr(client, "ratelimit_limit", 300))
        except (TypeError, ValueError):
            return 0.0
        return idle if limit > 0 and remaining < limit / 4 else 0.0


def _iso(wall: float | None) -> str | None:
    return datetime.fromtimestamp(wall, UTC).isoformat() if wall is not None else None
