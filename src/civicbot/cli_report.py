"""``civicbot report``: the engagement report as one HTML file, or CSV files for a spreadsheet.

    civicbot report --config civicbot.yaml [--since 90d] [--account NAME] --out report.html
    civicbot report --config civicbot.yaml --format csv --out rapport-csv/
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from civicbot.errors import ConfigError

FORMATS = ("html", "csv")


def add_parser(sub: Any) -> None:
    """Register the sub-command on the ``civicbot`` parser."""
    report = sub.add_parser(
        "report", help="engagement report: followers, engagement, questions (HTML or CSV)")
    report.add_argument("--config", required=True, type=Path)
    report.add_argument("--since", default="90d",
                        help="how far back: 30d, 90d, 365d... (default 90d)")
    report.add_argument("--account", default=None, help="one account (default: all)")
    report.add_argument("--out", required=True, type=Path,
                        help="the HTML file, or the folder of the CSV files")
    report.add_argument("--format", choices=FORMATS, default="html")
    report.add_argument("--language", choices=("fr", "en"), default=None,
                        help="language of the report (default: the config's language)")


def run(args: argparse.Namespace) -> int:
    from civicbot.config import load_config
    from civicbot.durations import parse_duration
    from civicbot.report import build_report, render_html, write_csv
    from civicbot.state import SQLiteStateStore

    try:
        since = parse_duration(args.since)
    except ValueError as exc:
        raise ConfigError(f"--since: {exc}") from None
    if since.total_seconds() <= 0:
        raise ConfigError("--since: give a positive duration such as 90d")
    config = load_config(args.config)
    accounts = [config.account(args.account)] if args.account else list(config.accounts)
    language = args.language or accounts[0].language
    if language not in ("fr", "en"):
        language = "fr"
    store = SQLiteStateStore(config.core.state)
    try:
        report = build_report(store, [(a.name, a.timezone) for a in accounts], since=since,
                              language=language)
    finally:
        store.close()
    if args.format == "csv":
        for path in write_csv(report, args.out):
            print(path)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # one process per core draws the charts of a many-account report
    workers = min(4, os.cpu_count() or 1, len(report.accounts))
    args.out.write_text(render_html(report, workers=workers), encoding="utf-8")
    print(args.out)
    return 0
