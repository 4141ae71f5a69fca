"""``civicbot approvals`` / ``approve`` / ``reject`` / ``hash-password``.

The approval commands act on a running daemon through the state store: the daemon reads a
draft's decision at the draft's time.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILURE = 0, 1


def register(sub: Any) -> dict[str, Any]:
    """Add the sub-commands to ``sub``; return their handlers by name."""
    listing = sub.add_parser("approvals", help="list drafts waiting for approval")
    listing.add_argument("--config", required=True, type=Path)
    approve = sub.add_parser("approve", help="approve a waiting draft (by its id)")
    approve.add_argument("id", type=int)
    approve.add_argument("--config", required=True, type=Path)
    approve.add_argument("--as", dest="as_name", default=None,
                         help="who approves (default: the login name)")
    reject = sub.add_parser("reject", help="reject a waiting draft, with a reason")
    reject.add_argument("id", type=int)
    reject.add_argument("--config", required=True, type=Path)
    reject.add_argument("--reason", required=True)
    reject.add_argument("--as", dest="as_name", default=None)
    sub.add_parser("hash-password",
                   help="read a password on stdin, print its argon2 hash (for desk.users)")
    return {"approvals": _approvals, "approve": _decide, "reject": _decide,
            "hash-password": _hash_password}


@contextmanager
def _store(config_path: Path) -> Iterator[tuple[Any, Any]]:
    from civicbot.config import load_config
    from civicbot.state import SQLiteStateStore

    config = load_config(config_path)
    store = SQLiteStateStore(config.core.state)
    try:
        yield config, store
    finally:
        store.close()


def _approvals(args: argparse.Namespace) -> int:
    from civicbot.approvals import WAITING, first_line

    with _store(args.config) as (config, store):
        zones = {a.name: a.timezone for a in config.accounts}
        for record in store.list_approvals(states=(WAITING,)):
            if record.account not in zones:
                continue
            when = record.run_time.astimezone(zones[record.account]).isoformat(timespec="minutes")
            job = record.job_id if len(zones) == 1 else f"{record.account}/{record.job_id}"
            print(f"{record.id}\t{job}\t{when}\t{first_line(record)}")
    return EXIT_OK


def _decide(args: argparse.Namespace) -> int:
    from civicbot.approvals import ApprovalError, decide

    who = args.as_name or _login()
    approve = args.command == "approve"
    with _store(args.config) as (_config, store):
        try:
            record = decide(store, args.id, approve=approve, by=who,
                            reason=getattr(args, "reason", "") or "")
        except ApprovalError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILURE
    print(f"#{record.id} {record.job_id}: {record.state} by {who}")
    return EXIT_OK


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers)
        return os.environ.get("USER", "cli")


def _hash_password(args: argparse.Namespace) -> int:
    from argon2 import PasswordHasher

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("error: empty password (write it on stdin)", file=sys.stderr)
        return EXIT_FAILURE
    print(PasswordHasher().hash(password))
    return EXIT_OK
