"""The PostgreSQL state store: one database shared by several daemons (``state: postgresql://...``).

Same records as the SQLite store (every row scoped by account), through psycopg 3 and a small pool
of connections that reconnects on demand, plus what a cluster needs: the ``leases`` table (which
daemon serves which account, see :mod:`civicbot.cluster`) and *fencing*: once a daemon holds an
account's lease it calls :meth:`PostgresStateStore.fence`, and from then on every write for that
account runs in a transaction that first checks, with the lease row locked against takeovers, that
the lease still carries this daemon's owner id and epoch and has not expired. A daemon that lost
the lease (frozen, cut from the database) gets :class:`~civicbot.errors.LeaseLostError` instead of
writing, and the publisher asks :meth:`~civicbot.state.StateStore.check_lease` before every request
that posts.

The schema is versioned (:data:`MIGRATIONS`); migrations run at start in one transaction under an
advisory lock, so daemons starting together do not race (``civicbot migrate`` runs them alone).
Identifiers (status ids, notification ids, dedup keys) are text: never assumed numeric.

psycopg is imported here only, and this module only when a ``postgresql://`` URL is configured.
(psycopg_pool is not used: it reconnects in the background with an exponential backoff, which
after a long outage kept daemons waiting long after the database was back.)
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg

from civicbot.errors import CivicbotError, LeaseLostError
from civicbot.state import (
    APPROVAL_COLUMNS,
    SNAPSHOT_COLUMNS,
    AccountSnapshot,
    ApprovalRecord,
    PostEngagement,
    PostRecord,
    StateStore,
    approval_from_row,
    snapshot_from_row,
)
from civicbot.state_reads import SQLReads

T = TypeVar("T")

#: The advisory lock key taken while migrating (any constant shared by every daemon).
MIGRATION_LOCK = 0x63697669  # "civi"

#: The schema, one step per version; a step is never edited once released, only appended to.
MIGRATIONS: list[tuple[int, str]] = [
    (1, """
CREATE TABLE posts (
    account TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    state TEXT NOT NULL,
    status_id TEXT,
    url TEXT,
    payload TEXT NOT NULL,
    error TEXT,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ,
    PRIMARY KEY (account, dedup_key)
);
CREATE INDEX posts_state ON posts (account, state, seq);
CREATE TABLE cursors (
    account TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (account, name)
);
CREATE TABLE seen_notifications (
    account TEXT NOT NULL, notification_id TEXT NOT NULL, handled_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, notification_id)
);
CREATE INDEX seen_notifications_handled ON seen_notifications (account, handled_at);
CREATE TABLE kv (
    account TEXT NOT NULL, namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (account, namespace, key)
);
CREATE TABLE job_runs (
    account TEXT NOT NULL, job_id TEXT NOT NULL, last_run TEXT NOT NULL, outcome TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (account, job_id)
);
"""),
    (2, """
CREATE TABLE leases (
    account TEXT PRIMARY KEY,
    owner TEXT,
    host TEXT,
    pid INTEGER,
    epoch BIGINT NOT NULL DEFAULT 0,
    acquired_at TIMESTAMPTZ,
    renewed_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ
);
CREATE TABLE daemons (
    owner TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
"""),
]

MIGRATIONS.append((3, """
CREATE TABLE approvals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT NOT NULL,
    job_id TEXT NOT NULL,
    run_time TEXT NOT NULL,
    state TEXT NOT NULL,
    drafts TEXT NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    decided_by TEXT,
    reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (account, job_id, run_time)
);
CREATE INDEX approvals_state ON approvals (state, run_time);
CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL
);
"""))

MIGRATIONS.append((4, """
CREATE TABLE engagement_accounts (
    account TEXT NOT NULL, day TEXT NOT NULL, taken_at TEXT NOT NULL,
    followers BIGINT NOT NULL, following BIGINT NOT NULL, statuses BIGINT NOT NULL,
    PRIMARY KEY (account, day)
);
CREATE TABLE engagement_posts (
    account TEXT NOT NULL, status_id TEXT NOT NULL, created_at TEXT NOT NULL, url TEXT,
    source TEXT NOT NULL, job TEXT NOT NULL, favourites BIGINT NOT NULL,
    boosts BIGINT NOT NULL, replies BIGINT NOT NULL, is_reply BOOLEAN NOT NULL,
    counted_on TEXT NOT NULL,
    PRIMARY KEY (account, status_id)
);
CREATE INDEX engagement_posts_created ON engagement_posts (account, created_at);
CREATE TABLE daily_counts (
    account TEXT NOT NULL, day TEXT NOT NULL, category TEXT NOT NULL, name TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (account, day, category, name)
);
"""))

SCHEMA_VERSION = MIGRATIONS[-1][0]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def redact_url(url: str) -> str:
    """The URL without its password (for logs and ``civicbot status``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


def apply_migrations(conn: psycopg.Connection[Any]) -> list[int]:
    """Bring the schema to :data:`SCHEMA_VERSION` under the advisory lock; return the versions
    applied (empty when already up to date). Runs in one transaction: all or nothing."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS civicbot_schema ("
                     " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)")
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM civicbot_schema").fetchone()
        current = int(row[0]) if row else 0
        for version, sql in MIGRATIONS:
            if version <= current:
                continue
            conn.execute(sql.encode())
            conn.execute("INSERT INTO civicbot_schema (version, applied_at) VALUES (%s, %s)",
                         (version, _now()))
            applied.append(version)
    return applied


class PoolTimeout(psycopg.OperationalError):
    """No connection to the database could be had in time."""


class _Connections:
    """A small pool of autocommit connections, reconnecting on demand.

    (Not psycopg_pool: it reconnects in the background with an exponential backoff, so after
    a long database outage the daemons could wait minutes before taking their leases again;
    here every request that finds no healthy connection connects at once, bounded by
    ``connect_timeout``.) Broken connections are dropped, never reused.
    """

    def __init__(self, url: str, kwargs: dict[str, Any], *, max_size: int,
                 timeout: float) -> None:
        self._url, self._kwargs, self._timeout = url, kwargs, timeout
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_size)
        self._closed = False

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        wait = self._timeout if timeout is None else timeout
        if not self._slots.acquire(timeout=wait):
            raise PoolTimeout(f"no database connection free after {wait:.2f} s")
        conn: psycopg.Connection[Any] | None = None
        try:
            with self._lock:
                if self._closed:
                    raise PoolTimeout("the state store is closed")
                while self._idle and conn is None:
                    conn = self._idle.pop()
                    if conn.closed or conn.broken:
                        conn = None
            if conn is None:
                conn = psycopg.connect(self._url, **self._kwargs)
            yield conn
        except BaseException:
            if conn is not None and (conn.broken or conn.info.transaction_status
                                     != psycopg.pq.TransactionStatus.IDLE):
                conn.close()
            raise
        finally:
            if conn is not None and not conn.closed:
                with self._lock:
                    if self._closed:
                        conn.close()
                    else:
                        self._idle.append(conn)
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class PostgresStateStore(SQLReads, StateStore):
    """The state in a PostgreSQL database; thread-safe (a pool of connections)."""

    def __init__(self, url: str, *, password: str | None = None, max_size: int = 16,
                 migrate: bool = True, timeout: float = 30.0) -> None:
        self.url = url
        self.display = redact_url(url)
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in url:
            kwargs["connect_timeout"] = 5
        if password is not None:
            kwargs["password"] = password
        self._pool = _Connections(url, kwargs, max_size=max_size, timeout=timeout)
        # the lease heartbeat has connections of its own: busy bots never make it late
        self._lease_pool = _Connections(url, kwargs, max_size=2, timeout=timeout)
        self._fences: dict[str, tuple[str, int]] = {}
        self._fence_lock = threading.Lock()
        #: Versions applied by this store's start (empty when the schema was up to date).
        self.migrated: list[int] = []
        if migrate:
            try:
                with self._pool.connection() as conn:
                    self.migrated = apply_migrations(conn)
            except psycopg.Error as exc:
                self._pool.close()
                raise CivicbotError(f"cannot use the PostgreSQL state {self.display}: "
                                    f"{str(exc).strip() or type(exc).__name__}") from exc

    @contextmanager
    def connection(self, timeout: float | None = None, *, leases: bool = False
                   ) -> Iterator[psycopg.Connection[Any]]:
        """A connection of the pool (autocommit; use ``conn.transaction()``), waiting at most
        ``timeout`` seconds for one (default: the store's); ``leases=True``: one of the lease
        heartbeat's own connections."""
        pool = self._lease_pool if leases else self._pool
        with pool.connection(timeout=timeout) as conn:
            yield conn

    # -- fencing ------------------------------------------------------------------------------
    def fence(self, account: str, owner: str, epoch: int) -> None:
        """From now on, writes for ``account`` need the lease ``(owner, epoch)`` to be live."""
        with self._fence_lock:
            self._fences[account] = (owner, epoch)

    def unfence(self, account: str) -> None:
        with self._fence_lock:
            self._fences.pop(account, None)

    def _check(self, conn: psycopg.Connection[Any], account: str) -> None:
        # FOR KEY SHARE: a takeover (SELECT ... FOR UPDATE) waits for, or skips, the lease of a
        # write in progress, while the heartbeat's renewal (a plain UPDATE) never waits for one
        with self._fence_lock:
            token = self._fences.get(account)
        if token is None:
            return
        row = conn.execute("SELECT 1 FROM leases WHERE account=%s AND owner=%s AND epoch=%s"
                           " AND expires_at > now() FOR KEY SHARE",
                           (account, token[0], token[1])).fetchone()
        if row is None:
            raise LeaseLostError(f"account {account}: this daemon no longer holds the lease "
                                 f"(epoch {token[1]}); nothing is written or posted")

    def check_lease(self, account: str) -> None:
        with self._fence_lock:
            if account not in self._fences:
                return
        try:
            with self._pool.connection() as conn:
                self._check(conn, account)
        except (psycopg.Error, PoolTimeout) as exc:
            raise LeaseLostError(f"account {account}: cannot check the lease, the database is "
                                 f"unreachable ({type(exc).__name__}); nothing is posted") from exc

    def _write(self, account: str, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        with self._pool.connection() as conn, conn.transaction():
            self._check(conn, account)
            return fn(conn)

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def _sql(sql: str) -> str:
        """The shared reads (:class:`~civicbot.state_reads.SQLReads`) with psycopg's ``%s``."""
        return sql.replace("?", "%s")

    def _one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._pool.connection() as conn:
            row: tuple[Any, ...] | None = conn.execute(sql.encode(), args).fetchone()
            return row

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return list(conn.execute(sql.encode(), args).fetchall())

    def _exec(self, account: str, sql: str, args: tuple[Any, ...]) -> int:
        return self._write(account, lambda conn: conn.execute(sql.encode(), args).rowcount)

    # -- posts --------------------------------------------------------------------------------
    _POST_COLS = "dedup_key, state, status_id, url, payload, error, created_at, sent_at"

    @staticmethod
    def _post(row: tuple[Any, ...]) -> PostRecord:
        return PostRecord(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5],
                          _iso(row[6]) or "", _iso(row[7]))

    def add_pending(self, account: str, items: list[tuple[str, dict[str, Any]]]) -> None:
        def insert(conn: psycopg.Connection[Any]) -> None:
            for key, payload in items:
                conn.execute("INSERT INTO posts (account, dedup_key, state, payload, created_at)"
                             " VALUES (%s, %s, 'pending', %s, %s) ON CONFLICT DO NOTHING",
                             (account, key, json.dumps(payload, ensure_ascii=False), _now()))

        self._write(account, insert)

    def mark_sent(self, account: str, dedup_key: str, status_id: str, url: str | None) -> None:
        self._exec(account, "UPDATE posts SET state='sent', status_id=%s, url=%s, sent_at=%s,"
                   " error=NULL WHERE account=%s AND dedup_key=%s",
                   (status_id, url, _now(), account, dedup_key))

    def mark_failed(self, account: str, dedup_key: str, error: str) -> None:
        self._exec(account, "UPDATE posts SET state='failed', error=%s WHERE account=%s AND"
                   " dedup_key=%s", (error, account, dedup_key))

    def recent_posts(self, account: str, limit: int = 10, state: str = "sent"
                     ) -> list[PostRecord]:
        rows = self._all(f"SELECT {self._POST_COLS} FROM posts WHERE account=%s AND"
                         " state=%s ORDER BY COALESCE(sent_at, created_at) DESC, seq DESC"
                         " LIMIT %s", (account, state, limit))
        return [self._post(r) for r in rows]

    def retry_post(self, account: str, dedup_key: str) -> bool:
        return bool(self._exec(account, "UPDATE posts SET state='pending', error=NULL,"
                               " created_at=%s WHERE account=%s AND dedup_key=%s AND"
                               " state='failed'", (_now(), account, dedup_key)))

    # -- notifications ------------------------------------------------------------------------
    _SET_CURSOR = ("INSERT INTO cursors (account, name, value, updated_at) VALUES"
                   " (%s, %s, %s, %s) ON CONFLICT (account, name) DO UPDATE SET"
                   " value=excluded.value, updated_at=excluded.updated_at")

    def set_cursor(self, account: str, name: str, value: str) -> None:
        self._exec(account, self._SET_CURSOR, (account, name, value, _now()))

    def mark_notification(self, account: str, notification_id: str,
                          cursor: str | None = None) -> None:
        def record(conn: psycopg.Connection[Any]) -> None:
            conn.execute("INSERT INTO seen_notifications VALUES (%s, %s, %s)"
                         " ON CONFLICT DO NOTHING", (account, notification_id, _now()))
            if cursor is not None:
                conn.execute(self._SET_CURSOR.encode(),
                             (account, "notifications", cursor, _now()))

        self._write(account, record)

    def prune_seen(self, account: str, before: datetime) -> int:
        return self._exec(account, "DELETE FROM seen_notifications WHERE account=%s AND"
                          " handled_at < %s", (account, before.astimezone(UTC)))

    # -- key-value ----------------------------------------------------------------------------
    def kv_get_accounts(self, accounts: list[str], namespace: str, key: str) -> dict[str, Any]:
        rows = self._all("SELECT account, value FROM kv WHERE account = ANY(%s) AND namespace=%s"
                         " AND key=%s", (list(accounts), namespace, key))
        return {account: json.loads(value) for account, value in rows}

    def kv_set(self, account: str, namespace: str, key: str, value: Any) -> None:
        self._exec(account, "INSERT INTO kv (account, namespace, key, value, updated_at) VALUES"
                   " (%s, %s, %s, %s, %s) ON CONFLICT (account, namespace, key) DO UPDATE SET"
                   " value=excluded.value, updated_at=excluded.updated_at",
                   (account, namespace, key, json.dumps(value, ensure_ascii=False), _now()))

    def kv_delete(self, account: str, namespace: str, key: str) -> None:
        self._exec(account, "DELETE FROM kv WHERE account=%s AND namespace=%s AND key=%s",
                   (account, namespace, key))

    def kv_items(self, account: str, namespace: str) -> dict[str, Any]:
        rows = self._all("SELECT key, value FROM kv WHERE account=%s AND namespace=%s"
                         " ORDER BY key", (account, namespace))
        return {k: json.loads(v) for k, v in rows}

    # -- jobs ---------------------------------------------------------------------------------
    def set_job_run(self, account: str, job_id: str, run_time: datetime, outcome: str) -> None:
        self._exec(account, "INSERT INTO job_runs (account, job_id, last_run, outcome,"
                   " updated_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account, job_id)"
                   " DO UPDATE SET last_run=excluded.last_run, outcome=excluded.outcome,"
                   " updated_at=excluded.updated_at",
                   (account, job_id, run_time.isoformat(), outcome, _now()))

    # -- approvals (editorial desk) ---------------------------------------------------------
    _APPROVAL_COLS = APPROVAL_COLUMNS
    _approval = staticmethod(approval_from_row)

    def add_approval(self, account: str, job_id: str, run_time: datetime,
                     drafts: list[dict[str, Any]], *, state: str = "waiting",
                     author: str = "") -> int | None:
        now = _now().isoformat()

        def insert(conn: psycopg.Connection[Any]) -> int | None:
            row = conn.execute(
                "INSERT INTO approvals (account, job_id, run_time, state, drafts, author,"
                " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING RETURNING id",
                (account, job_id, run_time.astimezone(UTC).isoformat(), state,
                 json.dumps(drafts, ensure_ascii=False), author, now, now)).fetchone()
            return int(row[0]) if row else None

        return self._write(account, insert)

    def find_approval(self, account: str, job_id: str, run_time: datetime
                      ) -> ApprovalRecord | None:
        row = self._one(f"SELECT {self._APPROVAL_COLS} FROM approvals WHERE account=%s AND"
                        " job_id=%s AND run_time=%s",
                        (account, job_id, run_time.astimezone(UTC).isoformat()))
        return self._approval(row) if row else None

    def list_approvals(self, account: str | None = None, states: tuple[str, ...] | None = None,
                       job_id: str | None = None) -> list[ApprovalRecord]:
        where, args = ["TRUE"], []  # type: tuple[list[str], list[Any]]
        if account is not None:
            where.append("account=%s")
            args.append(account)
        if states:
            where.append("state = ANY(%s)")
            args.append(list(states))
        if job_id is not None and job_id.endswith(":"):
            where.append("left(job_id, %s)=%s")
            args.extend([len(job_id), job_id])
        elif job_id is not None:
            where.append("job_id=%s")
            args.append(job_id)
        rows = self._all(f"SELECT {self._APPROVAL_COLS} FROM approvals WHERE"
                         f" {' AND '.join(where)} ORDER BY run_time, id", tuple(args))
        return [self._approval(r) for r in rows]

    def update_approval(self, approval_id: int, *, expect: tuple[str, ...],
                        state: str | None = None, drafts: list[dict[str, Any]] | None = None,
                        decided_by: str | None = None, reason: str | None = None,
                        run_time: datetime | None = None) -> bool:
        sets, args = ["updated_at=%s"], [_now().isoformat()]  # type: tuple[list[str], list[Any]]
        for column, value in (("state", state), ("decided_by", decided_by), ("reason", reason)):
            if value is not None:
                sets.append(f"{column}=%s")
                args.append(value)
        if drafts is not None:
            sets.append("drafts=%s")
            args.append(json.dumps(drafts, ensure_ascii=False))
        if run_time is not None:
            sets.append("run_time=%s")
            args.append(run_time.astimezone(UTC).isoformat())
        with self._pool.connection() as conn:
            cursor = conn.execute(f"UPDATE approvals SET {', '.join(sets)} WHERE id=%s AND"
                                  f" state = ANY(%s)".encode(),
                                  (*args, approval_id, list(expect)))
            return bool(cursor.rowcount)

    # -- engagement (reports) -----------------------------------------------------------------
    def sent_posts_since(self, account: str, since: datetime) -> list[PostRecord]:
        rows = self._all(f"SELECT {self._POST_COLS} FROM posts WHERE account=%s AND"
                         " state='sent' AND sent_at >= %s ORDER BY sent_at, seq",
                         (account, since.astimezone(UTC)))
        return [self._post(r) for r in rows]

    def save_engagement(self, account: str, snapshot: AccountSnapshot,
                        posts: list[PostEngagement]) -> None:
        def save(conn: psycopg.Connection[Any]) -> None:
            conn.execute(
                "INSERT INTO engagement_accounts (account, day, taken_at, followers, following,"
                " statuses) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (account, day)"
                " DO UPDATE SET taken_at=excluded.taken_at, followers=excluded.followers,"
                " following=excluded.following, statuses=excluded.statuses",
                (account, snapshot.day.isoformat(), snapshot.taken_at.astimezone(UTC).isoformat(),
                 snapshot.followers, snapshot.following, snapshot.statuses))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO engagement_posts (account, status_id, created_at, url, source,"
                    " job, favourites, boosts, replies, is_reply, counted_on) VALUES"
                    " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT"
                    " (account, status_id) DO UPDATE SET url=excluded.url,"
                    " source=excluded.source, job=excluded.job, favourites=excluded.favourites,"
                    " boosts=excluded.boosts, replies=excluded.replies,"
                    " counted_on=excluded.counted_on",
                    [(account, e.status_id, e.created_at.astimezone(UTC).isoformat(), e.url,
                      e.source, e.job, e.favourites, e.boosts, e.replies, bool(e.is_reply),
                      e.counted_on.isoformat()) for e in posts])

        self._write(account, save)

    _SNAPSHOT_COLS = SNAPSHOT_COLUMNS
    _snapshot = staticmethod(snapshot_from_row)

    def add_daily_count(self, account: str, day: date, category: str, name: str,
                        n: int = 1) -> None:
        self._exec(account, "INSERT INTO daily_counts (account, day, category, name, count)"
                   " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account, day, category, name)"
                   " DO UPDATE SET count=daily_counts.count + excluded.count",
                   (account, day.isoformat(), category, name, n))

    def prune_engagement(self, account: str, before: date) -> int:
        cutoff = datetime(before.year, before.month, before.day, tzinfo=UTC).isoformat()

        def prune(conn: psycopg.Connection[Any]) -> int:
            return sum(int(conn.execute(sql, (account, arg)).rowcount) for sql, arg in (
                ("DELETE FROM engagement_accounts WHERE account=%s AND day < %s",
                 before.isoformat()),
                ("DELETE FROM engagement_posts WHERE account=%s AND created_at < %s", cutoff),
                ("DELETE FROM daily_counts WHERE account=%s AND day < %s", before.isoformat()),
            ))

        return self._write(account, prune)

    # -- audit --------------------------------------------------------------------------------
    def add_audit(self, who: str, action: str, detail: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("INSERT INTO audit (at, who, action, detail) VALUES (%s, %s, %s, %s)",
                         (_now().isoformat(), who, action, detail))

    def close(self) -> None:
        self._pool.close()
        self._lease_pool.close()
