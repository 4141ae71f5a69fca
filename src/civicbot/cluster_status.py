"""What ``civicbot status`` and ``/metrics`` show of the leases (PostgreSQL state only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from civicbot.cluster import LeaseManager, LeaseRow
    from civicbot.state import StateStore


def lease_fields(store: StateStore, account: str) -> dict[str, Any]:
    """``{"lease": {...}}`` for ``civicbot status --json`` (empty with an SQLite state): which
    daemon (host, pid) holds the account, since when, until when, with which epoch."""
    from civicbot.state_postgres import PostgresStateStore

    if not isinstance(store, PostgresStateStore):
        return {}
    from civicbot.cluster import lease_table

    cache: dict[str, LeaseRow] | None = getattr(store, "_status_leases", None)
    if cache is None:
        cache = lease_table(store)
        store._status_leases = cache  # type: ignore[attr-defined]
    row = cache.get(account)
    if row is None:
        return {"lease": None}
    return {"lease": {
        "held": row.live and row.owner is not None, "host": row.host, "pid": row.pid,
        "since": row.acquired_at.isoformat() if row.acquired_at else None,
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "epoch": row.epoch}}


def lease_line(item: dict[str, Any]) -> str | None:
    """The text line of ``civicbot status`` for one account's lease (None without leases)."""
    if "lease" not in item:
        return None
    lease = item["lease"]
    if lease is None:
        return "  lease: none yet (no daemon has started on this database)"
    if lease["held"]:
        return (f"  lease: held by {lease['host']} pid {lease['pid']} since {lease['since']} "
                f"(epoch {lease['epoch']}, expires {lease['expires_at']})")
    return f"  lease: FREE, no daemon serves this account (last expiry {lease['expires_at']})"


class LeaseCollector(Collector):
    """``/metrics`` of a daemon's leases."""

    def __init__(self, leases: LeaseManager) -> None:
        self.leases = leases

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        leases = self.leases
        held = GaugeMetricFamily("civicbot_leases_held", "Accounts whose lease this daemon "
                                 "holds (so it serves them)")
        held.add_metric([], len(leases.held))
        yield held
        daemons = GaugeMetricFamily("civicbot_cluster_daemons",
                                    "Daemons alive on the shared state, as last seen")
        daemons.add_metric([], leases.live_daemons)
        yield daemons
        takeovers = CounterMetricFamily("civicbot_lease_takeovers", "Accounts this daemon "
                                        "took over from a daemon that stopped renewing")
        takeovers.add_metric([], leases.takeovers)
        yield takeovers
        recent = list(leases.renew_seconds)
        if recent:
            renew = GaugeMetricFamily("civicbot_lease_renew_seconds",
                                      "Duration of the lease heartbeat (renewal) in seconds: "
                                      "the last one, and the longest of the last 100",
                                      labels=["which"])
            renew.add_metric(["last"], recent[-1])
            renew.add_metric(["max"], max(recent))
            yield renew
