"""Fixtures of the Bluesky tests: one real PDS for the session, one account per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pds_support import LocalPDS, missing_reason

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def local_pds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPDS]:
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = LocalPDS(Path(tmp_path_factory.mktemp("pds"))).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bsky_account(local_pds: LocalPDS) -> dict[str, Any]:
    return local_pds.create_account(f"ville{next(_numbers)}.test")
