"""Telling "the state store cannot write right now" (disk full, I/O error, database locked,
server gone) from a bug or bad data: the first is waited out, the second is not retried."""

from __future__ import annotations

import sqlite3


def store_outage(exc: BaseException | None) -> BaseException | None:
    """The store outage behind ``exc`` (itself or one of its causes), or None.

    SQLite's ``OperationalError`` ("database or disk is full", "disk I/O error", "database is
    locked") and the ``OperationalError`` of a PostgreSQL driver count; an ``IntegrityError``
    or a ``KeyError`` do not (retrying them would never end)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, sqlite3.OperationalError):
            return exc
        kind = type(exc)
        if kind.__name__ == "OperationalError" and kind.__module__.startswith("psycopg"):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


class StoreOutage(Exception):
    """Raised by an isolated hook call when a plugin failed because the store could not write:
    the notification is handled again once the store works (plugins' dedup keys make that
    safe), instead of being recorded as handled without its answer."""
