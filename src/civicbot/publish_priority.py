"""Who posts first when several threads want the publisher, and the rate budget kept back.

Alerts go before scheduled posts, which go before replies to residents: the publisher's lock
is handed to the most urgent waiter, not the first one. And while the instance's request budget
(``X-RateLimit-Remaining``) is down to its reserve, only alerts are sent: replies and scheduled
posts are kept pending (with a log line) and go out once the budget is back, so a storm of
mentions can never make a weather warning wait for the next rate-limit window.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Lower is more urgent. ``PostDraft.priority`` takes one of these names.
PRIORITIES: dict[str, int] = {"alert": 0, "scheduled": 1, "reply": 2}
ALERT = PRIORITIES["alert"]
REPLY = PRIORITIES["reply"]
#: Share of the instance's request budget kept for alerts (at least ``MIN_RESERVE`` requests).
RESERVE_SHARE = 0.1
MIN_RESERVE = 3


def rank(priority: str | None) -> int:
    """The rank of a priority name (unknown or missing: a scheduled post)."""
    return PRIORITIES.get(priority or "scheduled", PRIORITIES["scheduled"])


class PriorityLock:
    """A re-entrant lock granted to the most urgent waiter (then the oldest)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: int | None = None
        self._depth = 0
        self._waiting: list[tuple[int, int]] = []
        self._tickets = itertools.count()
        #: Rank of the current holder (what it is sending now).
        self.holder_rank: int | None = None

    @contextmanager
    def hold(self, priority: int) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
            else:
                entry = (priority, next(self._tickets))
                heapq.heappush(self._waiting, entry)
                while self._owner is not None or self._waiting[0] != entry:
                    self._cond.wait()
                heapq.heappop(self._waiting)
                self._owner, self._depth = me, 1
                self.holder_rank = priority
        try:
            yield
        finally:
            with self._cond:
                self._depth -= 1
                if self._depth == 0:
                    self._owner = self.holder_rank = None
                    self._cond.notify_all()

    def more_urgent_waiting(self, than: int) -> bool:
        """Whether someone more urgent than ``than`` waits for the lock."""
        with self._cond:
            return bool(self._waiting) and self._waiting[0][0] < than


def budget_low(client: Any, reserve: int | None = None) -> tuple[bool, int | None, float]:
    """(the budget is down to the reserve, requests left, seconds until the reset), from what
    Mastodon.py read in the last answer's ``X-RateLimit-*`` headers."""
    if client is None:
        return False, None, 0.0
    remaining = getattr(client, "ratelimit_remaining", None)
    reset = getattr(client, "ratelimit_reset", None)
    limit = getattr(client, "ratelimit_limit", None)
    if remaining is None or reset is None:
        return False, None, 0.0
    try:
        left, until = int(remaining), float(reset) - time.time()
        size = int(limit) if limit else 300
    except (TypeError, ValueError):
        return False, None, 0.0
    if until <= 0:
        return False, left, 0.0  # a new window has begun: the count is stale
    keep = reserve if reserve is not None else max(MIN_RESERVE, int(size * RESERVE_SHARE))
    return left <= keep, left, until
