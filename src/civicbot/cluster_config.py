"""The ``cluster:`` section: how daemons sharing one PostgreSQL state split the accounts."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator

from civicbot.config_types import Duration, StrictModel


class ClusterConfig(StrictModel):
    """Leases of accounts between daemons (only with a ``postgresql://`` state)."""

    #: How long an account's lease lasts without renewal: a daemon that died loses its
    #: accounts after this long, and another daemon takes them over.
    lease_ttl: Duration = timedelta(seconds=15)
    #: How often leases are renewed and accounts rebalanced (default: a third of lease_ttl).
    heartbeat: Duration | None = None
    #: How many accounts a daemon starts at the same time (with any state, SQLite too): each
    #: start waits mostly for its instance, so more helps with distant instances; too many
    #: only make every start slower on a small machine.
    start_concurrency: int = Field(default=16, ge=1, le=256)

    @model_validator(mode="after")
    def _heartbeat_shorter(self) -> ClusterConfig:
        if self.lease_ttl < timedelta(seconds=1):
            raise ValueError("lease_ttl: at least 1s")
        if self.heartbeat is not None and self.heartbeat * 2 > self.lease_ttl:
            raise ValueError("heartbeat: at most half of lease_ttl")
        return self

    @property
    def interval(self) -> float:
        """Seconds between two heartbeats."""
        beat = self.heartbeat or self.lease_ttl / 3
        return beat.total_seconds()
