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

While a daemon is below its share it looks for free leases every half second, so an account
freed by a rebalance is picked up at once, and a dead daemon's accounts are served again
within ``lease_ttl`` plus a heartbeat or so.

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


#: Leases taken per round (a round every half second while below the share).
ACQUIRE_BATCH = 25


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
                 log: Any) -> None:
        self.store = store
        self.accounts = sorted(accounts)
        self.ttl = config.lease_ttl.total_seconds()
        self.interval = config.interval
        self.on_acquire, self.on_lose = on_acquire, on_lose
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

    def _loop(self) -> None:
        next_beat = time.monotonic() + self.interval
        while not self._stop.is_set():
            hungry = len(self.held) < self._share()
            wait = min(0.5, self.interval) if hungry else self.interval
            if self._stop.wait(max(0.0, min(wait, next_beat - time.monotonic()))):
                return
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + self.interval
                self.tick()
            elif hungry:
                self._try_acquire()

    # -- one heartbeat ------------------------------------------------------------------------
    def _share(self) -> int:
        return math.ceil(len(self.accounts) / max(1, self.live_daemons))

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
                row = conn.execute("SELECT count(*) FROM daemons WHERE expires_at > now()"
                                   ).fetchone()
                self.live_daemons = max(1, int(row[0]) if row else 1)
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
        share = self._share()
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
        with self._lock:
            # a few at a time (every half second while below the share): a daemon starting
            # first does not grab and start every account at once, starving its own heartbeat
            # while the others are still starting
            wanted = min(ACQUIRE_BATCH, self._share() - len(self.held))
            skip = list(self.held) + list(self._releasing)
        if wanted <= 0:
            return
        try:
            with self.store.connection(self.interval, leases=True) as conn, conn.transaction():
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
