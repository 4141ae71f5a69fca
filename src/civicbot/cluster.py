"""Leases: with a PostgreSQL state, several daemons share the accounts of one config, and each
account is served by exactly one of them at a time.

Every daemon runs a :class:`LeaseManager` whose heartbeat (every ``cluster.heartbeat``, a third
of ``cluster.lease_ttl`` by default):

1. records the daemon as alive (``daemons`` table, expiring after ``lease_ttl``);
2. renews the leases it holds (``expires_at = now() + lease_ttl``, database clock); a lease it
   could not renew is lost: the account's bot is stopped at once. A heartbeat that comes late
   (the process was starved of CPU) still renews a lease that expired meanwhile if no other
   daemon took it (same owner, same epoch): while it was expired, fencing refused every write
   and post, so nothing happened twice, and the account does not move for a hiccup;
3. computes its fair share, ``ceil(accounts / live daemons)``: above it, it stops the bots of
   its extra accounts and then frees their leases (a daemon that joined takes them); below it,
   it takes free or expired leases (``epoch + 1``; taking an expired lease of another daemon
   is a *takeover*), and starts their bots.

Between two heartbeats, a daemon at its share counts the live daemons again every second
(:data:`WATCH_SECONDS`, one small query): a dead daemon's row expires with its leases, so its
accounts are taken over within a second of their expiry, i.e. within ``lease_ttl`` plus a
second or so of its death, and a daemon that joined gets its share within a second. A daemon
below its share takes leases as fast as it can start their bots: no more than its start pool
has room for (``room``, see :mod:`civicbot.start_pool`), so a daemon that starts first does
not take every account before the others arrive, and a lease is never held long unserved; it
looks again as soon as a start ends (:meth:`LeaseManager.poke`), or every half second.

Each held lease *fences* the state store (:meth:`PostgresStateStore.fence`): every write and
every post for that account checks, in the database, that the lease still carries this daemon's
owner id and epoch. A daemon frozen past its lease (SIGSTOP, a cut network) that wakes up
writes and posts nothing, and its heartbeat then notices the loss and stops the bots. When the
database is unreachable no lease can be renewed: the bots are stopped when the leases run out,
and the accounts are taken again once the database is back.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civicbot.cluster_config import ClusterConfig
    from civicbot.state_postgres import PostgresStateStore


#: Leases taken per round when the daemon gives no ``room`` callback.
ACQUIRE_BATCH = 25
#: Seconds between two counts of the live daemons while at the share (takeover detection).
WATCH_SECONDS = 1.0
#: Longest wait between two rounds of taking leases while below the share.
HUNGRY_SECONDS = 0.5


@dataclass
class Lease:
    """A lease this daemon holds."""

    account: str
    epoch: int
    since: datetime
    #: ``time.monotonic()`` when the last successful renewal started.
    renewed: float


@dataclass(frozen=True)
class LeaseRow:
    """One row of the ``leases`` table, for ``civicbot status``."""

    account: str
    owner: str | None
    host: str | None
    pid: int | None
    epoch: int
    acquired_at: datetime | None
    expires_at: datetime | None
    live: bool


def lease_table(store: PostgresStateStore) -> dict[str, LeaseRow]:
    """Every account's lease, by account."""
    with store.connection() as conn:
        rows = conn.execute("SELECT account, owner, host, pid, epoch, acquired_at, expires_at,"
                            " expires_at > now() FROM leases ORDER BY account").fetchall()
    return {r[0]: LeaseRow(r[0], r[1], r[2], r[3], int(r[4]), r[5], r[6], bool(r[7]))
            for r in rows}


class LeaseManager:
    """Holds this daemon's share of the accounts' leases (see the module's docstring)."""

    def __init__(self, store: PostgresStateStore, accounts: list[str], config: ClusterConfig,
                 *, on_acquire: Callable[[str, int], None], on_lose: Callable[[str], None],
                 log: Any, room: Callable[[], int] | None = None) -> None:
        self.store = store
        self.accounts = sorted(accounts)
        self.ttl = config.lease_ttl.total_seconds()
        self.interval = config.interval
        self.on_acquire, self.on_lose = on_acquire, on_lose
        #: How many more leases may be taken now (the start pool's free room).
        self.room = room or (lambda: ACQUIRE_BATCH)
        self.log = log
        self.host, self.pid = socket.gethostname(), os.getpid()
        #: This daemon's identity in the ``leases`` table.
        self.owner = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self.held: dict[str, Lease] = {}
        self.takeovers = 0
        self.renew_seconds: list[float] = []
        self.live_daemons = 1
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._releasing: set[str] = set()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        with self.store.connection() as conn:
            conn.execute("INSERT INTO leases (account) SELECT unnest(%s::text[])"
                         " ON CONFLICT DO NOTHING", (self.accounts,))
        self.tick()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="civicbot-leases")
        self._thread.start()

    def halt(self) -> None:
        """Stop the heartbeat: no lease is taken or renewed any more."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10)

    def stop(self) -> None:
        """Stop the heartbeat, then free every lease held (call it once the bots stopped)."""
        self.halt()
        with self._lock:
            accounts = list(self.held)
            self.held.clear()
        try:
            with self.store.connection() as conn, conn.transaction():
                conn.execute("UPDATE leases SET owner=NULL, host=NULL, pid=NULL, expires_at=now()"
                             " WHERE owner=%s", (self.owner,))
                conn.execute("DELETE FROM daemons WHERE owner=%s", (self.owner,))
        except Exception as exc:  # the database is gone: the leases simply expire
            self.log.warning("could not free the leases; they expire by themselves",
                             error=str(exc), accounts=len(accounts))

    def poke(self) -> None:
        """Look for leases now (a start ended: the start pool has room again)."""
        self._wake.set()

    def _loop(self) -> None:
        next_beat = time.monotonic() + self.interval
        next_look = time.monotonic() + min(WATCH_SECONDS, self.interval)
        while not self._stop.is_set():
            hungry = len(self.held) < self.share() and self.room() > 0
            now = time.monotonic()
            wait = min(next_beat, now + HUNGRY_SECONDS if hungry else next_look) - now
            self._wake.wait(max(0.0, wait))
            self._wake.clear()
            if self._stop.is_set():
                return
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + self.interval
                next_look = now + min(WATCH_SECONDS, self.interval)
                self.tick()
            elif len(self.held) < self.share() and self.room() > 0:
                self._try_acquire()
            elif now >= next_look:
                next_look = now + min(WATCH_SECONDS, self.interval)
                self._look()

    # -- one heartbeat ------------------------------------------------------------------------
    def share(self) -> int:
        """How many accounts this daemon is to serve (with the live daemons last counted)."""
        return math.ceil(len(self.accounts) / max(1, self.live_daemons))

    def _count_daemons(self, conn: Any) -> None:
        row = conn.execute("SELECT count(*) FROM daemons WHERE expires_at > now()").fetchone()
        self.live_daemons = max(1, int(row[0]) if row else 1)

    def _look(self) -> None:
        """Between heartbeats: count the live daemons again (one died: its leases ran out
        with its row; one joined), then take or give back accounts."""
        try:
            with self.store.connection(self.interval, leases=True) as conn:
                self._count_daemons(conn)
        except Exception as exc:  # the heartbeat reports database trouble
            self.log.debug("could not count the live daemons", error=str(exc)[:300])
            return
        self._rebalance()

    def tick(self) -> None:
        """Record this daemon alive, renew held leases, rebalance."""
        started = time.monotonic()
        with self._lock:
            held = {a: lease.epoch for a, lease in self.held.items()}
        try:
            with self.store.connection(self.interval, leases=True) as conn, conn.transaction():
                conn.execute(
                    "INSERT INTO daemons (owner, host, pid, started_at, expires_at) VALUES"
                    " (%s, %s, %s, now(), now() + make_interval(secs => %s)) ON CONFLICT (owner)"
                    " DO UPDATE SET expires_at=excluded.expires_at",
                    (self.owner, self.host, self.pid, self.ttl))
                conn.execute("DELETE FROM daemons WHERE expires_at < now() - interval '1 hour'")
                renewed = {r[0] for r in conn.execute(
                    "UPDATE leases SET renewed_at=now(),"
                    " expires_at=now() + make_interval(secs => %s)"
                    " WHERE owner=%s AND account = ANY(%s) AND epoch = ANY(%s)"
                    " RETURNING account, epoch",
                    (self.ttl, self.owner, list(held), list(held.values()))).fetchall()
                    if held.get(r[0]) == r[1]}
                self._count_daemons(conn)
        except Exception as exc:  # database unreachable: leases run out, then bots stop
            self.log.warning("lease heartbeat failed", error=str(exc)[:300])
            self._expire_locally(started)
            return
        self.renew_seconds.append(time.monotonic() - started)
        del self.renew_seconds[:-100]
        with self._lock:
            for account in held:
                lease = self.held.get(account)
                if lease is None:
                    continue
                if account in renewed:
                    lease.renewed = started
                else:
                    self._lose(account, "lease lost (another daemon holds it)")
        self._rebalance()

    def _expire_locally(self, now: float) -> None:
        with self._lock:
            for account, lease in list(self.held.items()):
                if now - lease.renewed >= self.ttl:
                    self._lose(account, "lease expired: the database could not be reached")

    def _lose(self, account: str, why: str) -> None:
        with self._lock:
            if self.held.pop(account, None) is None:
                return
        self.log.warning(why, lease_account=account)
        threading.Thread(target=self.on_lose, args=(account,), daemon=True,
                         name=f"civicbot-lost-{account}").start()

    def _rebalance(self) -> None:
        share = self.share()
        with self._lock:
            extra = len(self.held) - share
            if extra > 0:
                # give the others their share: stop these bots, then free the leases
                for account in sorted(self.held, reverse=True)[:extra]:
                    self.held.pop(account)
                    self._releasing.add(account)
                    threading.Thread(target=self._release, args=(account,), daemon=True,
                                     name=f"civicbot-release-{account}").start()
                return
        self._try_acquire()

    def give_back(self, account: str) -> None:
        """Stop serving ``account`` now and free its lease (if it is still ours)."""
        with self._lock:
            if self.held.pop(account, None) is None:
                return
            self._releasing.add(account)
        self._release(account)

    def _release(self, account: str) -> None:
        self.on_lose(account)
        try:
            with self.store.connection(leases=True) as conn:
                conn.execute("UPDATE leases SET owner=NULL, host=NULL, pid=NULL, expires_at=now()"
                             " WHERE account=%s AND owner=%s", (account, self.owner))
            self.log.info("lease released for another daemon", lease_account=account)
        except Exception as exc:
            self.log.warning("could not release a lease; it expires by itself",
                             lease_account=account, error=str(exc)[:300])
        finally:
            with self._lock:
                self._releasing.discard(account)

    def _try_acquire(self) -> None:
        # no more than the start pool has room for: a daemon starting first does not take
        # every account before the others arrive, and no lease is held long unserved
        room = self.room()
        if room <= 0 or len(self.held) >= self.share():
            return
        try:
            with self.store.connection(self.interval, leases=True) as conn, conn.transaction():
                self._count_daemons(conn)  # the share with the daemons alive now
                with self._lock:
                    wanted = min(room, self.share() - len(self.held))
                    skip = list(self.held) + list(self._releasing)
                if wanted <= 0:
                    return
                rows = conn.execute(
                    "WITH free AS (SELECT account, owner AS previous FROM leases"
                    " WHERE account = ANY(%s) AND NOT (account = ANY(%s))"
                    " AND (expires_at IS NULL OR expires_at <= now())"
                    " ORDER BY md5(account || %s) LIMIT %s FOR UPDATE SKIP LOCKED)"
                    " UPDATE leases l SET owner=%s, host=%s, pid=%s, epoch=l.epoch + 1,"
                    " acquired_at=now(), renewed_at=now(),"
                    " expires_at=now() + make_interval(secs => %s)"
                    " FROM free WHERE l.account = free.account"
                    " RETURNING l.account, l.epoch, free.previous, l.acquired_at",
                    (self.accounts, skip, self.owner, wanted, self.owner, self.host, self.pid,
                     self.ttl)).fetchall()
        except Exception as exc:
            self.log.warning("could not take leases", error=str(exc)[:300])
            return
        now = time.monotonic()
        for account, epoch, previous, since in rows:
            with self._lock:
                self.held[account] = Lease(account, int(epoch), since, now)
            if previous is not None and previous != self.owner:
                self.takeovers += 1
                self.log.warning("account taken over from a daemon that stopped renewing",
                                 lease_account=account, previous=previous, epoch=epoch)
            else:
                self.log.info("lease taken", lease_account=account, epoch=epoch)
            self.on_acquire(account, int(epoch))
