"""The lease manager in this process: leases taken no faster than the daemon can start the
accounts, and a dead daemon's accounts taken over at the first look after their expiry (every
second), not at the next heartbeat."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import structlog

from civicbot.cluster_config import ClusterConfig

pytest.importorskip("psycopg")


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Daemon:
    """What a LeaseManager needs from its daemon: callbacks, and the start pool's room."""

    def __init__(self, store: Any, accounts: list[str], config: ClusterConfig,
                 room: int = 100) -> None:
        from civicbot.cluster import LeaseManager

        self.room = room
        self.acquired: list[str] = []
        self.lost: list[str] = []
        self._lock = threading.Lock()
        self.leases = LeaseManager(store, accounts, config, on_acquire=self._acquire,
                                   on_lose=self._lose, log=structlog.get_logger("test"),
                                   room=lambda: self.room)

    def _acquire(self, account: str, epoch: int) -> None:
        with self._lock:
            self.acquired.append(account)

    def _lose(self, account: str) -> None:
        with self._lock:
            self.lost.append(account)


@pytest.fixture
def store(civicbot_postgres_url: str) -> Iterator[Any]:
    from civicbot.state_postgres import PostgresStateStore

    made = PostgresStateStore(civicbot_postgres_url)
    yield made
    made.close()


ACCOUNTS = [f"commune{i}" for i in range(6)]
#: A heartbeat far longer than the waits below: what happens in them is the one-second look.
SLOW_HEARTBEAT = ClusterConfig(lease_ttl=timedelta(seconds=40), heartbeat=timedelta(seconds=20))


def test_leases_are_taken_no_faster_than_the_start_pool_has_room(store: Any):
    daemon = Daemon(store, ACCOUNTS, SLOW_HEARTBEAT, room=2)
    daemon.leases.start()  # the first round runs before start() returns
    try:
        assert len(daemon.leases.held) == 2 and len(daemon.acquired) == 2
        daemon.room = 0
        daemon.leases.poke()
        time.sleep(0.3)
        assert len(daemon.leases.held) == 2  # no room, no lease
        daemon.room = 10
        daemon.leases.poke()  # a start ended: room again
        wait_until(lambda: len(daemon.leases.held) == 6, 5, "every lease once there is room")
        assert sorted(daemon.acquired) == ACCOUNTS
    finally:
        daemon.leases.halt()
        daemon.leases.stop()


def test_a_dead_daemons_accounts_are_taken_within_a_second_not_at_the_next_heartbeat(
        store: Any):
    first = Daemon(store, ACCOUNTS, SLOW_HEARTBEAT)
    second = Daemon(store, ACCOUNTS, SLOW_HEARTBEAT)
    first.leases.start()
    assert len(first.leases.held) == 6  # alone: every account
    second.leases.start()
    try:
        # the first counts the live daemons every second: it gives the newcomer its share
        wait_until(lambda: len(first.leases.held) == len(second.leases.held) == 3, 5,
                   "the newcomer's share")
        first.leases.halt()  # dead: no renewal, no release
        dead = sorted(first.leases.held)
        with store.connection() as conn:  # ... and its lease time is over
            conn.execute("UPDATE leases SET expires_at = now() WHERE owner = %s",
                         (first.leases.owner,))
            conn.execute("UPDATE daemons SET expires_at = now() WHERE owner = %s",
                         (first.leases.owner,))
        wait_until(lambda: len(second.leases.held) == 6, 5, "the takeover")
        assert second.leases.takeovers == 3
        assert sorted(a for a in second.acquired if a in dead) == dead
    finally:
        second.leases.halt()
        second.leases.stop()
