"""The state store: what the bot did and where it stopped, surviving restarts and ``kill -9``.

:class:`StateStore` is the interface; :class:`SQLiteStateStore` the default, in WAL mode, for one
process; :class:`~civicbot.state_postgres.PostgresStateStore` (``state: postgresql://...``) for
several daemons sharing the accounts (:func:`open_state_store` picks one). Every record is scoped
by account name, so several accounts share one file without sharing dedup keys or cursors.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from civicbot.errors import StateError
from civicbot.state_reads import SQLReads

_SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
    account TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    state TEXT NOT NULL,            -- pending | sent | failed
    status_id TEXT,
    url TEXT,
    payload TEXT NOT NULL,          -- the draft as JSON, to resend after a crash
    error TEXT,
    seq INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    PRIMARY KEY (account, dedup_key)
);
CREATE INDEX IF NOT EXISTS posts_state ON posts (account, state, seq);
CREATE TABLE IF NOT EXISTS cursors (
    account TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (account, name)
);
CREATE TABLE IF NOT EXISTS seen_notifications (
    account TEXT NOT NULL, notification_id TEXT NOT NULL, handled_at TEXT NOT NULL,
    PRIMARY KEY (account, notification_id)
);
CREATE TABLE IF NOT EXISTS kv (
    account TEXT NOT NULL, namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account, namespace, key)
);
CREATE TABLE IF NOT EXISTS job_runs (
    account TEXT NOT NULL, job_id TEXT NOT NULL, last_run TEXT NOT NULL, outcome TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account, job_id)
);
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    job_id TEXT NOT NULL,           -- the job, or "desk" for a post written on the desk
    run_time TEXT NOT NULL,         -- UTC ISO 8601: when the drafts go out
    state TEXT NOT NULL,            -- waiting | approved | rejected | expired | published | deleted
    drafts TEXT NOT NULL,           -- the drafts as JSON (edited in place until decided)
    author TEXT NOT NULL DEFAULT '',
    decided_by TEXT,
    reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (account, job_id, run_time)
);
CREATE INDEX IF NOT EXISTS approvals_state ON approvals (state, run_time);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS engagement_accounts (
    account TEXT NOT NULL, day TEXT NOT NULL, taken_at TEXT NOT NULL,
    followers INTEGER NOT NULL, following INTEGER NOT NULL, statuses INTEGER NOT NULL,
    PRIMARY KEY (account, day)
);
CREATE TABLE IF NOT EXISTS engagement_posts (
    account TEXT NOT NULL, status_id TEXT NOT NULL, created_at TEXT NOT NULL, url TEXT,
    source TEXT NOT NULL, job TEXT NOT NULL, favourites INTEGER NOT NULL,
    boosts INTEGER NOT NULL, replies INTEGER NOT NULL, is_reply INTEGER NOT NULL,
    counted_on TEXT NOT NULL,
    PRIMARY KEY (account, status_id)
);
CREATE INDEX IF NOT EXISTS engagement_posts_created ON engagement_posts (account, created_at);
CREATE TABLE IF NOT EXISTS daily_counts (
    account TEXT NOT NULL, day TEXT NOT NULL, category TEXT NOT NULL, name TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (account, day, category, name)
);
"""


def _refuse_emptied(path: Path) -> None:
    """An existing but empty state file was emptied (or truncated to nothing) while the bot
    was stopped: SQLite would silently start a new one and the bot answer again every mention
    of the last day."""
    if path.is_file() and path.stat().st_size == 0:
        raise StateError(
            f"state file {path} is empty: the record of posts and answered mentions is gone, "
            "and starting would answer again every mention of the last stream.max_mention_age. "
            "Restore it from a backup, or delete the empty file to start afresh on purpose")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class PostRecord:
    """One row of the posts table."""

    dedup_key: str
    state: str
    status_id: str | None
    url: str | None
    payload: dict[str, Any]
    error: str | None
    created_at: str
    sent_at: str | None


@dataclass(frozen=True)
class ApprovalRecord:
    """Drafts of one run of a job (or one desk post) waiting for, or past, a decision."""

    id: int
    account: str
    job_id: str
    run_time: datetime
    state: str
    drafts: list[dict[str, Any]]
    author: str
    decided_by: str | None
    reason: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, when (shown on the desk)."""

    at: str
    who: str
    action: str
    detail: str


@dataclass(frozen=True)
class AccountSnapshot:
    """An account's counters on one day (the engagement snapshot; aggregate counts only)."""

    day: date
    taken_at: datetime
    followers: int
    following: int
    statuses: int


@dataclass(frozen=True)
class PostEngagement:
    """One of the account's posts and its counts when last snapshotted (``counted_on``).

    ``source`` is the plugin that made it (``""`` for a post civicbot did not send), ``job``
    the job that made it (``""`` when none); ``is_reply``: an answer to another account.
    """

    status_id: str
    created_at: datetime
    url: str | None
    source: str
    job: str
    favourites: int
    boosts: int
    replies: int
    is_reply: bool
    counted_on: date

    @property
    def engagement(self) -> int:
        """Favourites + boosts + replies."""
        return self.favourites + self.boosts + self.replies


#: Columns and row readers shared by the SQLite and the PostgreSQL stores (same schema).
APPROVAL_COLUMNS = ("id, account, job_id, run_time, state, drafts, author, decided_by, reason,"
                    " created_at, updated_at")
SNAPSHOT_COLUMNS = "day, taken_at, followers, following, statuses"


def approval_from_row(row: tuple[Any, ...]) -> ApprovalRecord:
    return ApprovalRecord(int(row[0]), row[1], row[2], datetime.fromisoformat(row[3]),
                          row[4], json.loads(row[5]), row[6], row[7], row[8], row[9],
                          row[10])


def snapshot_from_row(row: tuple[Any, ...]) -> AccountSnapshot:
    return AccountSnapshot(date.fromisoformat(row[0]), datetime.fromisoformat(row[1]),
                           int(row[2]), int(row[3]), int(row[4]))


def post_engagement_from_row(r: tuple[Any, ...]) -> PostEngagement:
    """A row of ``status_id, created_at, url, source, job, favourites, boosts, replies,
    is_reply, counted_on``."""
    return PostEngagement(str(r[0]), datetime.fromisoformat(r[1]), r[2], str(r[3]), str(r[4]),
                          int(r[5]), int(r[6]), int(r[7]), bool(r[8]), date.fromisoformat(r[9]))


class StateStore(ABC):
    """What civicbot remembers. All methods are thread-safe."""

    # posts
    @abstractmethod
    def get_post(self, account: str, dedup_key: str) -> PostRecord | None: ...
    @abstractmethod
    def add_pending(self, account: str, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Record drafts as pending, in order, in one transaction (existing keys are kept)."""
    @abstractmethod
    def mark_sent(self, account: str, dedup_key: str, status_id: str, url: str | None) -> None: ...
    @abstractmethod
    def mark_failed(self, account: str, dedup_key: str, error: str) -> None: ...
    @abstractmethod
    def pending_posts(self, account: str) -> list[PostRecord]: ...
    @abstractmethod
    def recent_posts(self, account: str, limit: int = 10, state: str = "sent"
                     ) -> list[PostRecord]:
        """The latest posts in ``state`` (sent or failed), newest first."""
    @abstractmethod
    def retry_post(self, account: str, dedup_key: str) -> bool:
        """Make a failed post pending again (the publisher resends it); False if not failed."""
    @abstractmethod
    def count_posts(self, account: str, state: str | None = None) -> int: ...
    # notifications
    @abstractmethod
    def get_cursor(self, account: str, name: str) -> str | None: ...
    @abstractmethod
    def set_cursor(self, account: str, name: str, value: str) -> None: ...
    @abstractmethod
    def mark_notification(self, account: str, notification_id: str,
                          cursor: str | None = None) -> None:
        """Record a notification as handled, and move the cursor in the same transaction."""
    @abstractmethod
    def notification_seen(self, account: str, notification_id: str) -> bool: ...
    @abstractmethod
    def prune_seen(self, account: str, before: datetime) -> int:
        """Forget handled notifications recorded before ``before`` (they are far below the
        cursor, so catch-up never fetches them again); return how many."""
    # plugin key-value
    @abstractmethod
    def kv_get(self, account: str, namespace: str, key: str) -> Any | None: ...
    @abstractmethod
    def kv_set(self, account: str, namespace: str, key: str, value: Any) -> None: ...
    @abstractmethod
    def kv_delete(self, account: str, namespace: str, key: str) -> None: ...
    @abstractmethod
    def kv_items(self, account: str, namespace: str) -> dict[str, Any]: ...
    # jobs
    @abstractmethod
    def get_job_run(self, account: str, job_id: str) -> tuple[datetime, str] | None: ...
    @abstractmethod
    def set_job_run(self, account: str, job_id: str, run_time: datetime, outcome: str) -> None: ...
    # approval queue and desk posts
    @abstractmethod
    def add_approval(self, account: str, job_id: str, run_time: datetime,
                     drafts: list[dict[str, Any]], *, state: str = "waiting",
                     author: str = "") -> int | None:
        """Queue the drafts of one run; ``None`` when that run is already queued."""
    @abstractmethod
    def get_approval(self, approval_id: int) -> ApprovalRecord | None: ...
    @abstractmethod
    def find_approval(self, account: str, job_id: str, run_time: datetime
                      ) -> ApprovalRecord | None: ...
    @abstractmethod
    def list_approvals(self, account: str | None = None, states: tuple[str, ...] | None = None,
                       job_id: str | None = None) -> list[ApprovalRecord]:
        """Records by run time (every account when ``account`` is ``None``); a ``job_id``
        ending with ``:`` matches every job id starting with it (``desk:``)."""
    @abstractmethod
    def update_approval(self, approval_id: int, *, expect: tuple[str, ...],
                        state: str | None = None, drafts: list[dict[str, Any]] | None = None,
                        decided_by: str | None = None, reason: str | None = None,
                        run_time: datetime | None = None) -> bool:
        """Change a record only while its state is one of ``expect`` (atomic); False if not."""
    # audit log
    @abstractmethod
    def add_audit(self, who: str, action: str, detail: str) -> None: ...
    @abstractmethod
    def audit_entries(self, limit: int = 50) -> list[AuditEntry]:
        """The latest entries, newest first."""

    # engagement (aggregate counts only: never who favourited, boosted or followed)
    @abstractmethod
    def sent_posts_since(self, account: str, since: datetime) -> list[PostRecord]:
        """Posts recorded *sent* at or after ``since``, oldest first."""
    @abstractmethod
    def save_engagement(self, account: str, snapshot: AccountSnapshot,
                        posts: list[PostEngagement]) -> None:
        """Record a day's snapshot (replacing one of the same day) and the latest counts of
        each post (replacing the previous ones), in one transaction."""
    @abstractmethod
    def last_snapshot(self, account: str) -> AccountSnapshot | None: ...
    @abstractmethod
    def snapshots(self, account: str, since: date) -> list[AccountSnapshot]:
        """Snapshots of days on or after ``since``, oldest first."""
    @abstractmethod
    def post_engagement(self, account: str, since: datetime) -> list[PostEngagement]:
        """Posts created at or after ``since`` with their last counts, oldest first."""
    @abstractmethod
    def add_daily_count(self, account: str, day: date, category: str, name: str,
                        n: int = 1) -> None:
        """Add ``n`` to the counter ``category``/``name`` of ``day`` (atomically)."""
    @abstractmethod
    def daily_counts(self, account: str, category: str,
                     since: date) -> list[tuple[date, str, int]]:
        """``(day, name, count)`` of a category for days on or after ``since``."""
    @abstractmethod
    def prune_engagement(self, account: str, before: date) -> int:
        """Forget snapshots, post counts and daily counters older than ``before``; return how
        many rows went."""
    @abstractmethod
    def close(self) -> None: ...
    # cluster (PostgreSQL): see civicbot.state_postgres
    def kv_get_accounts(self, accounts: list[str], namespace: str, key: str) -> dict[str, Any]:
        """``kv_get`` of one key for several accounts at once (accounts without it are left
        out); the daemon reads every account's pause flag this way."""
        found = {account: self.kv_get(account, namespace, key) for account in accounts}
        return {account: value for account, value in found.items() if value is not None}

    def check_lease(self, account: str) -> None:
        """Raise :class:`~civicbot.errors.LeaseLostError` when this process may no longer
        write or post for ``account`` (another daemon holds its lease); a single-process store
        has no leases."""
        return None


class SQLiteStateStore(SQLReads, StateStore):
    """The default store: one SQLite file in WAL mode (``:memory:`` for dry runs and tests)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            _refuse_emptied(Path(self.path))
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                   timeout=30)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            check = self._db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(str(check[0] if check else "no answer"))
            with self._lock:
                self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            self._db.close()
            raise StateError(
                f"state file {self.path} is damaged ({exc}): starting from it would forget "
                "posts and answers. Restore it from a backup, or move it away to start afresh "
                "(then mentions of the last stream.max_mention_age are answered again)"
            ) from exc

    def _one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def _rollback(self) -> None:
        """Roll back if a transaction is still open: on "database or disk is full" SQLite has
        already rolled it back, and a second ROLLBACK would hide that error behind "cannot
        rollback - no transaction is active"."""
        if self._db.in_transaction:
            # the error being raised is the one worth reporting, not a failed rollback
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def _exec(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(sql, args)

    # -- posts ------------------------------------------------------------------------------
    _POST_COLS = "dedup_key, state, status_id, url, payload, error, created_at, sent_at"

    @staticmethod
    def _post(row: tuple[Any, ...]) -> PostRecord:
        return PostRecord(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6],
                          row[7])

    def add_pending(self, account: str, items: list[tuple[str, dict[str, Any]]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM posts").fetchone()[0]
                for key, payload in items:
                    seq += 1
                    self._db.execute(
                        "INSERT OR IGNORE INTO posts (account, dedup_key, state, payload, seq,"
                        " created_at) VALUES (?, ?, 'pending', ?, ?, ?)",
                        (account, key, json.dumps(payload, ensure_ascii=False), seq, _now()),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def mark_sent(self, account: str, dedup_key: str, status_id: str, url: str | None) -> None:
        self._exec("UPDATE posts SET state='sent', status_id=?, url=?, sent_at=?, error=NULL"
                   " WHERE account=? AND dedup_key=?",
                   (status_id, url, _now(), account, dedup_key))

    def mark_failed(self, account: str, dedup_key: str, error: str) -> None:
        self._exec("UPDATE posts SET state='failed', error=? WHERE account=? AND dedup_key=?",
                   (error, account, dedup_key))

    def recent_posts(self, account: str, limit: int = 10, state: str = "sent"
                     ) -> list[PostRecord]:
        rows = self._all(f"SELECT {self._POST_COLS} FROM posts WHERE account=? AND state=?"
                         " ORDER BY COALESCE(sent_at, created_at) DESC, seq DESC LIMIT ?",
                         (account, state, limit))
        return [self._post(r) for r in rows]

    def retry_post(self, account: str, dedup_key: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE posts SET state='pending', error=NULL, created_at=? WHERE account=? AND"
                " dedup_key=? AND state='failed'", (_now(), account, dedup_key))
            return bool(cursor.rowcount)

    # -- notifications ---------------------------------------------------------------------
    def set_cursor(self, account: str, name: str, value: str) -> None:
        self._exec("INSERT INTO cursors (account, name, value, updated_at) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT(account, name) DO UPDATE SET value=excluded.value,"
                   " updated_at=excluded.updated_at", (account, name, value, _now()))

    def mark_notification(self, account: str, notification_id: str,
                          cursor: str | None = None) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("INSERT OR IGNORE INTO seen_notifications VALUES (?, ?, ?)",
                                 (account, notification_id, _now()))
                if cursor is not None:
                    self._db.execute(
                        "INSERT INTO cursors (account, name, value, updated_at) VALUES"
                        " (?, 'notifications', ?, ?) ON CONFLICT(account, name) DO UPDATE SET"
                        " value=excluded.value, updated_at=excluded.updated_at",
                        (account, cursor, _now()))
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def prune_seen(self, account: str, before: datetime) -> int:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM seen_notifications WHERE account=? AND handled_at < ?",
                (account, before.astimezone(UTC).isoformat()))
            return int(cursor.rowcount)

    # -- key-value -------------------------------------------------------------------------
    def kv_set(self, account: str, namespace: str, key: str, value: Any) -> None:
        self._exec("INSERT INTO kv (account, namespace, key, value, updated_at) VALUES"
                   " (?, ?, ?, ?, ?) ON CONFLICT(account, namespace, key) DO UPDATE SET"
                   " value=excluded.value, updated_at=excluded.updated_at",
                   (account, namespace, key, json.dumps(value, ensure_ascii=False), _now()))

    def kv_delete(self, account: str, namespace: str, key: str) -> None:
        self._exec("DELETE FROM kv WHERE account=? AND namespace=? AND key=?",
                   (account, namespace, key))

    def kv_items(self, account: str, namespace: str) -> dict[str, Any]:
        rows = self._all("SELECT key, value FROM kv WHERE account=? AND namespace=? ORDER BY key",
                         (account, namespace))
        return {k: json.loads(v) for k, v in rows}

    # -- jobs --------------------------------------------------------------------------------
    def set_job_run(self, account: str, job_id: str, run_time: datetime, outcome: str) -> None:
        self._exec("INSERT INTO job_runs (account, job_id, last_run, outcome, updated_at) VALUES"
                   " (?, ?, ?, ?, ?) ON CONFLICT(account, job_id) DO UPDATE SET"
                   " last_run=excluded.last_run, outcome=excluded.outcome,"
                   " updated_at=excluded.updated_at",
                   (account, job_id, run_time.isoformat(), outcome, _now()))

    # -- approvals -----------------------------------------------------------------------
    _APPROVAL_COLS = APPROVAL_COLUMNS
    _approval = staticmethod(approval_from_row)

    def add_approval(self, account: str, job_id: str, run_time: datetime,
                     drafts: list[dict[str, Any]], *, state: str = "waiting",
                     author: str = "") -> int | None:
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO approvals (account, job_id, run_time, state, drafts,"
                " author, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (account, job_id, _utc(run_time), state, json.dumps(drafts, ensure_ascii=False),
                 author, _now(), _now()))
            return int(cursor.lastrowid) if cursor.rowcount and cursor.lastrowid else None

    def find_approval(self, account: str, job_id: str, run_time: datetime
                      ) -> ApprovalRecord | None:
        row = self._one(f"SELECT {self._APPROVAL_COLS} FROM approvals WHERE account=? AND"
                        " job_id=? AND run_time=?", (account, job_id, _utc(run_time)))
        return self._approval(row) if row else None

    def list_approvals(self, account: str | None = None, states: tuple[str, ...] | None = None,
                       job_id: str | None = None) -> list[ApprovalRecord]:
        where, args = ["1=1"], []
        if account is not None:
            where.append("account=?")
            args.append(account)
        if states:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            args.extend(states)
        if job_id is not None and job_id.endswith(":"):
            where.append(f"substr(job_id, 1, {len(job_id)})=?")
            args.append(job_id)
        elif job_id is not None:
            where.append("job_id=?")
            args.append(job_id)
        rows = self._all(f"SELECT {self._APPROVAL_COLS} FROM approvals WHERE"
                         f" {' AND '.join(where)} ORDER BY run_time, id", tuple(args))
        return [self._approval(r) for r in rows]

    def update_approval(self, approval_id: int, *, expect: tuple[str, ...],
                        state: str | None = None, drafts: list[dict[str, Any]] | None = None,
                        decided_by: str | None = None, reason: str | None = None,
                        run_time: datetime | None = None) -> bool:
        sets, args = ["updated_at=?"], [_now()]
        for column, value in (("state", state), ("decided_by", decided_by), ("reason", reason)):
            if value is not None:
                sets.append(f"{column}=?")
                args.append(value)
        if drafts is not None:
            sets.append("drafts=?")
            args.append(json.dumps(drafts, ensure_ascii=False))
        if run_time is not None:
            sets.append("run_time=?")
            args.append(_utc(run_time))
        with self._lock:
            cursor = self._db.execute(
                f"UPDATE approvals SET {', '.join(sets)} WHERE id=? AND state IN"
                f" ({', '.join('?' for _ in expect)})", (*args, approval_id, *expect))
            return bool(cursor.rowcount)

    # -- audit -----------------------------------------------------------------------------
    def add_audit(self, who: str, action: str, detail: str) -> None:
        self._exec("INSERT INTO audit (at, who, action, detail) VALUES (?, ?, ?, ?)",
                   (_now(), who, action, detail))

    # -- engagement --------------------------------------------------------------------------
    def sent_posts_since(self, account: str, since: datetime) -> list[PostRecord]:
        rows = self._all(f"SELECT {self._POST_COLS} FROM posts WHERE account=? AND state='sent'"
                         " AND sent_at >= ? ORDER BY sent_at, seq",
                         (account, since.astimezone(UTC).isoformat()))
        return [self._post(r) for r in rows]

    def save_engagement(self, account: str, snapshot: AccountSnapshot,
                        posts: list[PostEngagement]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO engagement_accounts (account, day, taken_at, followers,"
                    " following, statuses) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(account, day)"
                    " DO UPDATE SET taken_at=excluded.taken_at, followers=excluded.followers,"
                    " following=excluded.following, statuses=excluded.statuses",
                    (account, snapshot.day.isoformat(),
                     snapshot.taken_at.astimezone(UTC).isoformat(), snapshot.followers,
                     snapshot.following, snapshot.statuses))
                self._db.executemany(
                    "INSERT INTO engagement_posts (account, status_id, created_at, url, source,"
                    " job, favourites, boosts, replies, is_reply, counted_on) VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(account, status_id) DO UPDATE"
                    " SET url=excluded.url, source=excluded.source, job=excluded.job,"
                    " favourites=excluded.favourites, boosts=excluded.boosts,"
                    " replies=excluded.replies, counted_on=excluded.counted_on",
                    [(account, p.status_id, p.created_at.astimezone(UTC).isoformat(), p.url,
                      p.source, p.job, p.favourites, p.boosts, p.replies,
                      int(p.is_reply), p.counted_on.isoformat()) for p in posts])
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    _SNAPSHOT_COLS = SNAPSHOT_COLUMNS
    _snapshot = staticmethod(snapshot_from_row)

    def add_daily_count(self, account: str, day: date, category: str, name: str,
                        n: int = 1) -> None:
        self._exec("INSERT INTO daily_counts (account, day, category, name, count) VALUES"
                   " (?, ?, ?, ?, ?) ON CONFLICT(account, day, category, name) DO UPDATE SET"
                   " count=daily_counts.count + excluded.count",
                   (account, day.isoformat(), category, name, n))

    def prune_engagement(self, account: str, before: date) -> int:
        cutoff = datetime(before.year, before.month, before.day, tzinfo=UTC).isoformat()
        removed = 0
        with self._lock:
            for sql, arg in (
                ("DELETE FROM engagement_accounts WHERE account=? AND day < ?",
                 before.isoformat()),
                ("DELETE FROM engagement_posts WHERE account=? AND created_at < ?", cutoff),
                ("DELETE FROM daily_counts WHERE account=? AND day < ?", before.isoformat()),
            ):
                removed += int(self._db.execute(sql, (account, arg)).rowcount)
        return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Namespace:
    """A plugin's own corner of the state store: ``bot.state.namespace("weather")``."""

    def __init__(self, store: StateStore, account: str, namespace: str) -> None:
        self._store, self._account, self.namespace = store, account, namespace

    def get(self, key: str, default: Any = None) -> Any:
        value = self._store.kv_get(self._account, self.namespace, key)
        return default if value is None else value

    def set(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value."""
        self._store.kv_set(self._account, self.namespace, key, value)

    def delete(self, key: str) -> None:
        self._store.kv_delete(self._account, self.namespace, key)

    def items(self) -> dict[str, Any]:
        return self._store.kv_items(self._account, self.namespace)


class AccountState:
    """The state store seen by one account's plugins (``bot.state``)."""

    def __init__(self, store: StateStore, account: str) -> None:
        self.store, self.account = store, account

    def namespace(self, name: str) -> Namespace:
        return Namespace(self.store, self.account, name)

    def post(self, dedup_key: str) -> PostRecord | None:
        """The record of a post by dedup key (``state`` is pending, sent or failed)."""
        return self.store.get_post(self.account, dedup_key)

    def add_daily_count(self, category: str, name: str, day: date, n: int = 1) -> None:
        """Count something that happened on ``day`` (e.g. which FAQ rule answered): aggregate
        counts for ``civicbot report``, never who asked."""
        self.store.add_daily_count(self.account, day, category, name, n)

    def was_posted(self, dedup_key: str) -> bool:
        record = self.post(dedup_key)
        return record is not None and record.state == "sent"


def is_postgres_url(location: str | Path) -> bool:
    """True for ``postgresql://...`` (or ``postgres://...``) state locations."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def open_state_store(location: str | Path, *, password: str | None = None) -> StateStore:
    """The store of a config's ``state:``: a PostgreSQL URL or an SQLite file (``:memory:``).

    psycopg is imported only for a PostgreSQL URL."""
    if is_postgres_url(location):
        from civicbot.state_postgres import PostgresStateStore

        return PostgresStateStore(str(location), password=password)
    return SQLiteStateStore(location)
