"""Fixtures shared by the core tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from engagement_month import Month, simulate


@pytest.fixture(scope="session")
def engagement_month(tmp_path_factory: pytest.TempPathFactory) -> Month:
    """A simulated month and a half of posts, residents and snapshots (see engagement_month)."""
    return simulate(Path(tmp_path_factory.mktemp("engagement")))
