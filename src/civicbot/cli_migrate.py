"""``civicbot migrate --config F``: bring the state store's schema up to date, then exit.

Daemons also migrate at start (under a lock, so several starting together do not race); this
command lets an operator do it on purpose, e.g. before rolling out a new version to every
machine. An SQLite file is created and its tables made if missing.
"""

from __future__ import annotations

import argparse
from typing import Any

from civicbot.state import StateStore, is_postgres_url, open_state_store


def add_parser(sub: Any) -> None:
    migrate = sub.add_parser("migrate", help="create or upgrade the state store's schema")
    migrate.add_argument("--config", required=True)


def state_password(config: Any) -> str | None:
    secret = config.core.state_password
    return secret.get_secret_value() if secret is not None else None


def open_config_store(config: Any) -> StateStore:
    """The state store of a loaded config (SQLite file or PostgreSQL URL)."""
    return open_state_store(config.core.state, password=state_password(config))


def describe_state(config: Any) -> str:
    """The state location for people: the file, or the URL without its password."""
    if is_postgres_url(config.core.state):
        from civicbot.state_postgres import redact_url

        return redact_url(str(config.core.state))
    return str(config.core.state)


def run(args: argparse.Namespace) -> int:
    from civicbot.config import load_config

    config = load_config(args.config)
    store = open_config_store(config)
    try:
        applied: list[int] = list(getattr(store, "migrated", []))
    finally:
        store.close()
    where = describe_state(config)
    if not is_postgres_url(config.core.state):
        print(f"{where}: SQLite schema up to date")
    elif applied:
        print(f"{where}: applied schema versions {', '.join(map(str, applied))}")
    else:
        print(f"{where}: schema already up to date")
    return 0
