"""The state store's read queries, written once for SQLite and PostgreSQL.

A mixin of :class:`~civicbot.state.StateStore` implementations: the SQL is written with
SQLite's ``?`` placeholders and goes through :meth:`SQLReads._sql`, which a store whose driver
wants another style overrides (PostgreSQL: ``%s``). Reads need no lease check, so both stores
run them the same way; writes differ (transactions, fencing) and stay in each store.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civicbot.state import (
        AccountSnapshot,
        ApprovalRecord,
        AuditEntry,
        PostEngagement,
        PostRecord,
    )


class SQLReads:
    """Read queries shared by the SQL state stores (before ``StateStore`` in their bases)."""

    _POST_COLS: str
    _APPROVAL_COLS: str
    _SNAPSHOT_COLS: str

    @staticmethod
    def _sql(sql: str) -> str:
        """The query in the driver's placeholder style (SQLite's ``?`` as written)."""
        return sql

    def _one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        raise NotImplementedError

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _post(self, row: tuple[Any, ...]) -> PostRecord:
        raise NotImplementedError

    def _approval(self, row: tuple[Any, ...]) -> ApprovalRecord:
        raise NotImplementedError

    def _snapshot(self, row: tuple[Any, ...]) -> AccountSnapshot:
        raise NotImplementedError

    def _read_one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        return self._one(self._sql(sql), args)

    def _read_all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._all(self._sql(sql), args)

    def get_post(self, account: str, dedup_key: str) -> PostRecord | None:
        row = self._read_one(f"SELECT {self._POST_COLS} FROM posts WHERE account=? AND dedup_key=?",
                             (account, dedup_key))
        return self._post(row) if row else None

    def pending_posts(self, account: str) -> list[PostRecord]:
        rows = self._read_all(f"SELECT {self._POST_COLS} FROM posts WHERE account=? AND "
                              "state='pending' ORDER BY seq", (account,))
        return [self._post(r) for r in rows]

    def count_posts(self, account: str, state: str | None = None) -> int:
        if state is None:
            row = self._read_one("SELECT COUNT(*) FROM posts WHERE account=?", (account,))
        else:
            row = self._read_one("SELECT COUNT(*) FROM posts WHERE account=? AND state=?",
                                 (account, state))
        return int(row[0]) if row else 0

    def get_cursor(self, account: str, name: str) -> str | None:
        row = self._read_one("SELECT value FROM cursors WHERE account=? AND name=?", (account, name))
        return str(row[0]) if row else None

    def notification_seen(self, account: str, notification_id: str) -> bool:
        return self._read_one("SELECT 1 FROM seen_notifications WHERE account=? AND "
                              "notification_id=?", (account, notification_id)) is not None

    def kv_get(self, account: str, namespace: str, key: str) -> Any | None:
        row = self._read_one("SELECT value FROM kv WHERE account=? AND namespace=? AND key=?",
                             (account, namespace, key))
        return json.loads(row[0]) if row else None

    def get_job_run(self, account: str, job_id: str) -> tuple[datetime, str] | None:
        row = self._read_one("SELECT last_run, outcome FROM job_runs WHERE account=? AND job_id=?",
                             (account, job_id))
        return (datetime.fromisoformat(row[0]), str(row[1])) if row else None

    def get_approval(self, approval_id: int) -> ApprovalRecord | None:
        row = self._read_one(f"SELECT {self._APPROVAL_COLS} FROM approvals WHERE id=?",
                             (approval_id,))
        return self._approval(row) if row else None

    def audit_entries(self, limit: int = 50) -> list[AuditEntry]:
        rows = self._read_all("SELECT at, who, action, detail FROM audit ORDER BY id DESC LIMIT ?",
                              (limit,))
        from civicbot import state  # state.py imports this module

        return [state.AuditEntry(*r) for r in rows]

    def last_snapshot(self, account: str) -> AccountSnapshot | None:
        row = self._read_one(f"SELECT {self._SNAPSHOT_COLS} FROM engagement_accounts WHERE"
                             " account=? ORDER BY day DESC LIMIT 1", (account,))
        return self._snapshot(row) if row else None

    def snapshots(self, account: str, since: date) -> list[AccountSnapshot]:
        rows = self._read_all(f"SELECT {self._SNAPSHOT_COLS} FROM engagement_accounts WHERE"
                              " account=? AND day >= ? ORDER BY day", (account, since.isoformat()))
        return [self._snapshot(r) for r in rows]

    def post_engagement(self, account: str, since: datetime) -> list[PostEngagement]:
        rows = self._read_all(
            "SELECT status_id, created_at, url, source, job, favourites, boosts, replies,"
            " is_reply, counted_on FROM engagement_posts WHERE account=? AND created_at >= ?"
            " ORDER BY created_at, status_id", (account, since.astimezone(UTC).isoformat()))
        from civicbot import state  # state.py imports this module

        return [state.post_engagement_from_row(r) for r in rows]

    def daily_counts(self, account: str, category: str,
                     since: date) -> list[tuple[date, str, int]]:
        rows = self._read_all("SELECT day, name, count FROM daily_counts WHERE account=? AND"
                              " category=? AND day >= ? ORDER BY day, name",
                              (account, category, since.isoformat()))
        return [(date.fromisoformat(r[0]), str(r[1]), int(r[2])) for r in rows]
