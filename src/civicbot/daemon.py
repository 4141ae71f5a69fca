"""The daemon: every account of a config file in one process, each isolated from the others.

Each account is a :class:`~civicbot.Bot` with its own Mastodon client (and so its own rate-limit
budget), stream, notification cursor, dedup keys, jobs and plugin manager; they share one
SQLite state store where every row is scoped by the account's name. An account whose token is
refused (at start or later) is stopped and reported by ``/healthz``; the others go on. An
unreachable instance is not fatal: that account's stream and publisher retry with backoff.

Every log line carries ``account`` (``"*"`` for the daemon's own lines).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog

from civicbot.bot import Bot
from civicbot.config import Config, load_config
from civicbot.errors import AuthenticationError, CivicbotError, LeaseLostError
from civicbot.logging import ensure_logging
from civicbot.metrics import METRICS_PLUGIN, ReplyCounter
from civicbot.plugins import make_plugin_manager
from civicbot.server import ServerProbes
from civicbot.start_pool import StartPool
from civicbot.state import SQLiteStateStore, StateStore, is_postgres_url, open_state_store
from civicbot.state_lock import StateFileLock

if TYPE_CHECKING:
    from civicbot.cluster import LeaseManager

#: How often the daemon looks for a pause written by another process, to log it.
PAUSE_CHECK_SECONDS = 1.0
HEALTHY_STREAM_STATES = frozenset({"connected", "polling"})


class Daemon:
    """Runs the :class:`Bot` of every account; a failing account never stops the others."""

    def __init__(self, config: Config, *, dry_run: bool | None = None, http: str | None = None,
                 plugins: Iterable[Any] = (), load_entry_points: bool = True) -> None:
        self.config = config
        self.dry_run = config.core.dry_run if dry_run is None else dry_run
        self.http_address = http or config.core.http
        ensure_logging(config.core.log.format, config.core.log.level)
        self.log = structlog.get_logger("civicbot.daemon").bind(account="*")
        for warning in config.warnings:
            self.log.warning("configuration warning", detail=warning)
        self.store: StateStore = _open_store(config, self.dry_run)
        self._state_lock: StateFileLock | None = None
        self.reply_counter = ReplyCounter()
        # entry points are scanned and loaded once for every account (not once per account)
        disabled = set.intersection(*(set(a.disable_plugins) for a in config.accounts))
        found = _entry_point_plugins(self.log, disabled) if load_entry_points else []
        extra = [*found, *plugins, (METRICS_PLUGIN, self.reply_counter)]
        self._extra_plugins = extra
        #: What each server supports, read once per ``api_base_url`` for every account on it.
        self.server_probes = ServerProbes()
        #: Starts accounts a few at a time (``cluster.start_concurrency``), in order.
        self._starts = StartPool(config.core.cluster.start_concurrency, self._start_account,
                                 on_done=self._start_done)
        #: With a PostgreSQL state, the leases of this daemon's share of the accounts (and
        #: :attr:`bots` holds only the accounts it serves now); ``None`` otherwise.
        self.leases: LeaseManager | None = None
        if is_postgres_url(config.core.state) and not self.dry_run:
            from civicbot.cluster import LeaseManager

            self.leases = LeaseManager(self.store, [a.name for a in config.accounts],  # type: ignore[arg-type]
                                       config.core.cluster, on_acquire=self._on_lease,
                                       on_lose=self._on_lease_lost, log=self.log,
                                       room=self._start_room)
            self.bots: list[Bot] = []
        else:
            self.bots = [self._new_bot(s.name) for s in config.accounts]
        self._bots_lock = threading.Lock()
        self.failed: dict[str, BaseException] = {}
        self._stop = threading.Event()
        self._stopped = False
        self._stop_lock = threading.Lock()
        self._monitor: threading.Thread | None = None
        self._http: Any = None
        #: ``time.monotonic()`` when :meth:`start` began.
        self.started_at: float | None = None
        #: Seconds from :meth:`start` until every stream was first connected or polling.
        self.ready_after: float | None = None
        self._ready = threading.Event()

    @classmethod
    def from_config(cls, path: str | Path, **kwargs: Any) -> Daemon:
        plugins = kwargs.get("plugins", ())
        pm = make_plugin_manager(plugins=plugins,
                                 load_entry_points=kwargs.get("load_entry_points", True))
        return cls(load_config(path, pm=pm), **kwargs)

    @property
    def http(self) -> Any:
        """The running :class:`~civicbot.http.HealthServer`, if any."""
        return self._http

    def _new_bot(self, account: str) -> Bot:
        bot = Bot.from_settings(self.config.account(account), plugins=self._extra_plugins,
                                dry_run=self.dry_run, store=self.store, load_entry_points=False)
        bot.publisher.probes = self.server_probes
        return bot

    def bot(self, name: str) -> Bot:
        for bot in self.bots:
            if bot.name == name:
                return bot
        raise KeyError(name)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the endpoint and every account (in parallel); return once each has started
        or failed. Streams connect in the background (see :meth:`wait_ready`)."""
        self.started_at = time.monotonic()
        if isinstance(self.store, SQLiteStateStore) and str(self.config.core.state) != ":memory:" \
                and not self.dry_run and self._state_lock is None:
            # SQLite serves one daemon: a second one on the same file is refused
            self._state_lock = StateFileLock(self.config.core.state).acquire()
        if self.http_address:
            from civicbot.http import make_server

            self._http = make_server(self, self.http_address)
            self._http.start()
        self.log.info("daemon starting", accounts=[a.name for a in self.config.accounts],
                      dry_run=self.dry_run)
        if self.leases is not None:
            self.log.info("sharing the accounts through leases", owner=self.leases.owner,
                          lease_ttl=self.leases.ttl)
            self.leases.start()
            self._monitor = threading.Thread(target=self._watch, daemon=True,
                                             name="civicbot-daemon-monitor")
            self._monitor.start()
            return
        self._starts.submit(bot.name for bot in self.bots)
        self._starts.join()
        self._monitor = threading.Thread(target=self._watch, daemon=True,
                                         name="civicbot-daemon-monitor")
        self._monitor.start()

    def _start_bot(self, bot: Bot) -> None:
        try:
            bot.start()
        except Exception as exc:  # one account's failure or bug never stops the others
            self._fail(bot, exc, "account failed to start; the others go on")

    def _start_account(self, account: str) -> None:
        """On a worker of the start pool: start one account."""
        if self.leases is not None:
            self._start_leased(account)
        else:
            self._start_bot(self.bot(account))

    def _start_room(self) -> int:
        """How many more accounts the lease manager may take now: enough to keep every
        worker of the start pool busy, not so many that leases are held long unserved (and
        taken in batches: none until half of that room is free)."""
        free = 2 * self._starts.size - self._starts.pending()
        return free if free >= self._starts.size else 0

    def _start_done(self) -> None:
        if self.leases is not None:
            self.leases.poke()

    # -- leases (PostgreSQL state) ------------------------------------------------------------
    def _on_lease(self, account: str, epoch: int) -> None:
        """This daemon now holds ``account``: fence its writes, then queue its bot's start on
        the start pool (the lease heartbeat never waits for a bot)."""
        assert self.leases is not None
        self.store.fence(account, self.leases.owner, epoch)  # type: ignore[attr-defined]
        if self._stop.is_set():
            return
        self._starts.submit([account])

    def _start_leased(self, account: str) -> None:
        assert self.leases is not None
        for _attempt in range(3):
            if account not in self.leases.held or self._stop.is_set():
                return  # lost or given back while waiting for its turn
            bot = self._new_bot(account)
            with self._bots_lock:
                self.bots = [*(b for b in self.bots if b.name != account), bot]
                self.failed.pop(account, None)
            try:
                bot.start()
                return
            except LeaseLostError as exc:
                # the lease ran out while the bot started (a starved process): once the next
                # heartbeat renewed it, start again; if it was taken, the heartbeat stops us
                bot.log.warning("lease lost while starting; retrying after a heartbeat",
                                error=str(exc))
                self._stop_bot(bot)
                if self._stop.wait(self.leases.interval) or account not in self.leases.held:
                    return
            except Exception as exc:  # one account's failure or bug never stops the others
                self._fail(bot, exc, "account failed to start; the others go on")
                return
        # still no luck: give the account back; a daemon with room takes it again
        threading.Thread(target=self.leases.give_back, args=(account,), daemon=True).start()

    def _on_lease_lost(self, account: str) -> None:
        """``account`` is no longer ours (or is given to another daemon): stop its bot. Its
        writes stay fenced, so nothing it still tries is written or posted."""
        # never stop a bot half-way through its start: wait for a start in progress first
        self._starts.cancel(account, 30)
        with self._bots_lock:
            gone = [b for b in self.bots if b.name == account]
            self.bots = [b for b in self.bots if b.name != account]
            self.failed.pop(account, None)
        for bot in gone:
            self._stop_bot(bot)

    def _fail(self, bot: Bot, exc: BaseException, message: str) -> None:
        if bot.name in self.failed:
            return
        self.failed[bot.name] = exc
        if isinstance(exc, CivicbotError):
            bot.log.error(message, error=str(exc))
        else:
            bot.log.error(message, exc_info=exc)
        threading.Thread(target=self._stop_bot, args=(bot,), daemon=True,
                         name=f"civicbot-stop-{bot.name}").start()

    def _stop_bot(self, bot: Bot) -> None:
        try:
            bot.stop()
        except Exception as exc:
            bot.log.error("account did not stop cleanly", exc_info=exc)

    def _watch(self) -> None:
        """Stop accounts whose stream hit a fatal error; note when every stream is ready; log
        a pause or resume written by ``civicbot pause`` / ``resume``."""
        next_pause_check = 0.0
        while not self._stop.is_set():
            for bot in self.bots:
                stream = bot.stream
                if stream is not None and stream.fatal_error is not None:
                    self._fail(bot, stream.fatal_error, "account stopped; the others go on")
            if self.ready_after is None and self.started_at is not None and self._all_taken():
                live = [b for b in self.bots if b.name not in self.failed]
                if all(b.stream is not None and b.stream.state in HEALTHY_STREAM_STATES
                       for b in live):
                    self.ready_after = time.monotonic() - self.started_at
                    self._ready.set()
                    self.log.info("every stream connected", seconds=round(self.ready_after, 3),
                                  failed=sorted(self.failed))
            if self.failed and len(self.failed) == len(self.bots) and self.leases is None:
                self._ready.set()
            if time.monotonic() >= next_pause_check:  # `civicbot pause` from another process
                next_pause_check = time.monotonic() + PAUSE_CHECK_SECONDS
                self._notice_pause_flags()
            self._stop.wait(0.1 if self.ready_after is None else 0.5)

    def _all_taken(self) -> bool:
        """Every account this daemon is to serve has been started (with leases: its share is
        held and no start is waiting)."""
        if self.leases is None:
            return True
        return self._starts.pending() == 0 and len(self.leases.held) >= self.leases.share()

    def _notice_pause_flags(self) -> None:
        """Read every account's pause flag in one query; each bot logs a change."""
        bots = [b for b in self.bots if b.name not in self.failed]
        try:
            flags = self.store.kv_get_accounts([b.name for b in bots], "core", "paused")
        except Exception as exc:  # the store busy or closing: next time
            self.log.debug("could not read the pause flags", error=str(exc))
            return
        for bot in bots:
            try:
                bot.notice_pause_flag(bool(flags.get(bot.name, False)))
            except Exception as exc:  # the store busy or closing: next time
                bot.log.debug("could not read the pause flag", error=str(exc))

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Wait until every account that did not fail has its stream connected or polling;
        False on timeout or when every account failed."""
        return self._ready.wait(timeout) and len(self.failed) < len(self.bots)

    def request_stop(self) -> None:
        """Ask :meth:`run` to return (safe from signal handlers and other threads)."""
        self._stop.set()
        for bot in self.bots:
            bot.request_stop()

    def run(self) -> None:
        """Start every account and block until :meth:`request_stop` or until every account
        failed; then stop cleanly.

        With a single account, a refused token ends the run with :class:`AuthenticationError`.
        """
        try:
            self.start()
            while not self._stop.wait(0.5):
                if self.failed and len(self.failed) == len(self.bots) and self.leases is None:
                    self.log.error("every account failed; stopping")
                    break
        finally:
            self.stop()
        if self.failed and len(self.failed) == len(self.bots) and self.leases is None:
            error = next(iter(self.failed.values())) if len(self.bots) == 1 else None
            if isinstance(error, AuthenticationError):
                raise error
            raise CivicbotError("; ".join(f"{n}: {e}" for n, e in self.failed.items()))

    def stop(self) -> None:
        """Stop every account (in parallel), the endpoint and the state store."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop.set()
        if self.leases is not None:
            self.leases.halt()  # no lease taken while the bots stop
        self._starts.close(30)  # accounts still waiting are not started
        threads = [threading.Thread(target=self._stop_bot, args=(bot,), daemon=True)
                   for bot in self.bots]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        if self._monitor is not None:
            self._monitor.join(2)
        if self.leases is not None:
            self.leases.stop()  # after the bots stopped: the next owner never overlaps
        if self._http is not None:
            self._http.stop()
            self._http = None
        self.store.close()
        if self._state_lock is not None:
            self._state_lock.release()
            self._state_lock = None
        self.log.info("daemon stopped")

    # -- health -------------------------------------------------------------------------------
    def account_problems(self, bot: Bot) -> list[str]:
        """Why one account is not healthy (empty when it is)."""
        if bot.name in self.failed:
            return [f"failed: {self.failed[bot.name]}"]
        if self.started_at is None:
            return ["not started"]
        if self._stopped:
            return ["stopped"]
        problems = []
        stream = bot.stream
        if stream is None or stream.state not in HEALTHY_STREAM_STATES:
            problems.append(f"stream {stream.state if stream else 'not started'}")
        # never bot.scheduler here: that property creates the scheduler lazily, and racing
        # bot.start() from the endpoint's thread would replace the started one
        scheduler = bot._scheduler
        if scheduler is None or not scheduler.running:
            problems.append("scheduler not running")
        return problems

    def healthy(self) -> tuple[bool, list[str]]:
        """True when every stream is connected or polling and every scheduler runs; else the
        reasons, one per problem, as ``"<account>: <problem>"``."""
        reasons = [f"{bot.name}: {p}" for bot in self.bots for p in self.account_problems(bot)]
        return (not reasons, reasons)

    def health_report(self) -> dict[str, dict[str, Any]]:
        """Per account: ok, problems, stream health (state, transport, lag, counters)."""
        report: dict[str, dict[str, Any]] = {}
        for bot in self.bots:
            problems = self.account_problems(bot)
            entry: dict[str, Any] = {"ok": not problems, "problems": problems}
            if bot.stream is not None:
                health = bot.stream.health()
                health.pop("account", None)
                health.pop("updated_at", None)
                entry["stream"] = health
            report[bot.name] = entry
        return report


def _open_store(config: Config, dry_run: bool) -> StateStore:
    """The daemon's state store (a throw-away one in memory for a dry run)."""
    if dry_run:
        return SQLiteStateStore(":memory:")
    from civicbot.logging import REDACTOR

    secret = config.core.state_password
    password = secret.get_secret_value() if secret is not None else None
    if password:
        REDACTOR.add(password)
    url_password = urlsplit(str(config.core.state)).password
    if url_password:
        REDACTOR.add(url_password)
    return open_state_store(config.core.state, password=password)


def _entry_point_plugins(log: Any, disabled: set[str]) -> list[tuple[str, Any]]:
    """Every ``civicbot`` entry-point plugin not disabled in every account, loaded once, sorted
    by name (as :func:`~civicbot.plugins.make_plugin_manager` would); a broken one is logged
    and skipped. Accounts that disable one do not register it (``disabled`` of each bot)."""
    from importlib.metadata import entry_points

    from civicbot.plugins import ENTRY_POINT_GROUP

    out: list[tuple[str, Any]] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in disabled or any(name == ep.name for name, _ in out):
            continue
        try:
            out.append((ep.name, ep.load()))
        except Exception as exc:  # a broken plugin is skipped, never fatal
            log.error("plugin failed to load", plugin=ep.name, value=ep.value, exc_info=exc)
    return out
