"""Footprint of ``civicbot run``: resident memory and start-up time, for 1 and 10 accounts.

Each configuration runs the real daemon (``python -m civicbot run --config ... --http ...``)
in a fresh subprocess, so the figures are independent and include what production includes
(every first-party plugin that is ready, the health/metrics endpoint). The fake Mastodon
instances — one :class:`~civicbot.testing.SandboxInstance` per account, each its own user and
token, as in production — and the plugins' sample feeds run in *this* process, so their memory
is not counted.

Measured for each configuration:

* start-up: from spawning the process to the first stream connected (as seen by the sandbox),
  and to every stream connected; plus ``civicbot_daemon_ready_seconds`` (from
  ``Daemon.start()`` to every stream connected, without interpreter start and imports);
* RSS (``VmRSS`` of ``/proc/<pid>/status``) after start-up and after N handled notifications
  (favourites spread over the accounts, pushed through the streams; default N = 10,000, in
  batches of 200 each waited for; ``--batch 0`` pushes them all at once, which fills every
  account's dispatch queue — ``stream.queue_size`` = 1000 parsed notifications — and shows
  the worst case), and the peak (``VmHWM``).

Usage: ``python bench/footprint.py [--accounts 1,10] [--notifications 10000] [--strict]``.
Exits 0 (``--strict``: 1 when a target is missed). Targets: < 80 MB for one account,
< 8 MB per extra account, start-up < 1.5 s.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from civicbot.errors import ConfigError
from civicbot.testing import SandboxInstance
from civicbot.testing.webserver import FakeWebServer

FIRST_PARTY = ("scheduled_posts", "event_digest", "weather", "auto_reply")
TARGET_ONE_MB, TARGET_EXTRA_MB, TARGET_START_S = 80.0, 8.0, 1.5


@dataclass
class Figures:
    accounts: int
    first_stream_s: float
    all_streams_s: float
    ready_s: float | None
    rss_start_mb: float
    rss_after_mb: float
    peak_mb: float
    handled: int
    handle_s: float
    exit_code: int | None


def plugin_sections(web: FakeWebServer, data_dir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Each first-party plugin's demo section; the reason for each plugin left out."""
    sections: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for name in FIRST_PARTY:
        try:
            demo = importlib.import_module(f"civicbot_{name}.demo")
            section = demo.demo_section(web, data_dir)
        except Exception as exc:
            missing[name] = f"no working demo_section ({type(exc).__name__}: {exc})"[:160]
            continue
        sections[name] = section
    return sections, missing


def write_config(path: Path, sandboxes: list[SandboxInstance], sections: dict[str, Any],
                 stream: dict[str, Any] | None = None) -> None:
    names = ["ville", "musee", "festival", "bibliotheque", "conservatoire", "piscine",
             "theatre", "archives", "office-tourisme", "mediatheque"]
    accounts = [{"name": names[i] if i < len(names) else f"compte{i}",
                 "mastodon": {"api_base_url": s.url, "access_token": s.access_token}}
                for i, s in enumerate(sandboxes)]
    data = {"state": "state.sqlite3", "accounts": accounts, "plugins": sections,
            "log": {"format": "json", "level": "warning"}}
    if stream:
        data["stream"] = stream
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def validate(path: Path, sections: dict[str, Any], sandboxes: list[SandboxInstance],
             missing: dict[str, str]) -> None:
    """Drop the sections that do not validate (a plugin still being written)."""
    from civicbot.config import load_config

    while True:
        try:
            load_config(path)
            return
        except ConfigError as exc:
            bad = [n for n in sections if any(f"plugins.{n}" in p for p in exc.problems)]
            if not bad:
                raise
            for name in bad:
                missing[name] = "section does not validate: " + "; ".join(
                    p for p in exc.problems if f"plugins.{name}" in p)[:160]
                del sections[name]
            write_config(path, sandboxes, sections)


def vm(pid: int) -> dict[str, float]:
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                out[key] = int(value.split()[0]) / 1024
    return out


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(accounts: int, notifications: int, workdir: Path, sections: dict[str, Any],
            missing: dict[str, str], web: FakeWebServer, timeout: float, batch: int = 200
            ) -> Figures:
    with ExitStack() as stack:
        sandboxes = [stack.enter_context(SandboxInstance(heartbeat_interval=1.0,
                                                         account_username=f"compte{i}"))
                     for i in range(accounts)]
        cfg = workdir / f"footprint-{accounts}.yaml"
        write_config(cfg, sandboxes, sections)
        validate(cfg, sections, sandboxes, missing)
        port = free_port()
        log = (workdir / f"footprint-{accounts}.log").open("wb")
        stack.callback(log.close)
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "civicbot", "--log-format", "json",
                                 "--log-level", "warning", "run", "--config", str(cfg),
                                 "--http", f"127.0.0.1:{port}"],
                                cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        try:
            sandboxes[0].wait_for_stream(timeout)
            first = time.monotonic() - started
            for sandbox in sandboxes:
                sandbox.wait_for_stream(timeout)
            every = time.monotonic() - started
            deadline = time.monotonic() + timeout
            ready: float | None = None
            while ready is None and time.monotonic() < deadline:
                with suppress(OSError):
                    ready = scrape(port).get("civicbot_daemon_ready_seconds")
                if ready is None:
                    time.sleep(0.05)
            time.sleep(1.0)  # let start-up work (first job runs, catch-ups) settle
            rss_start = vm(proc.pid)["VmRSS"]
            t0 = time.monotonic()
            handled = 0.0
            step = notifications if batch <= 0 else batch
            for start in range(0, notifications, step):
                for i in range(start, min(start + step, notifications)):
                    sandboxes[i % accounts].inject_notification("favourite",
                                                                acct=f"r{i % 97}@ex.org")
                goal = min(start + step, notifications)
                while time.monotonic() < deadline:
                    handled = scrape(port).get("civicbot_notifications_handled_total", 0.0)
                    if handled >= goal:
                        break
                    time.sleep(0.02)
            handle_s = time.monotonic() - t0
            memory = vm(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code: int | None = proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = None
    return Figures(accounts, first, every, ready, rss_start, memory["VmRSS"], memory["VmHWM"],
                   int(handled), handle_s, code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", default="1,10", help="comma-separated (default 1,10)")
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=45.0, help="per configuration")
    parser.add_argument("--batch", type=int, default=200,
                        help="inject this many, wait until handled, repeat (0: all at once, "
                             "which fills the dispatch queues: the worst case)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.accounts.split(",")]
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="civicbot-footprint-") as tmp, FakeWebServer() as web:
        workdir = Path(tmp)
        sections, missing = plugin_sections(web, workdir)
        for n in counts:
            results.append(measure(n, args.notifications, workdir, sections, missing, web,
                                   args.timeout, args.batch))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; one sandbox per account "
          f"(in the parent process); {args.notifications} favourites per configuration, "
          f"{'all at once' if args.batch <= 0 else f'in batches of {args.batch}'}")
    print(f"plugins: {', '.join(sections) or 'none'}")
    for name, why in missing.items():
        print(f"  left out: {name}: {why}")
    print(f"{'accounts':>8} {'1st stream':>10} {'all streams':>11} {'ready':>7} "
          f"{'RSS start':>9} {'RSS after':>9} {'peak':>7} {'handled':>8} {'rate/s':>7} exit")
    for f in results:
        ready = f"{f.ready_s:.3f}" if f.ready_s is not None else "?"
        rate = f.handled / f.handle_s if f.handle_s else 0
        print(f"{f.accounts:>8} {f.first_stream_s:>9.3f}s {f.all_streams_s:>10.3f}s "
              f"{ready:>6}s {f.rss_start_mb:>7.1f}MB {f.rss_after_mb:>7.1f}MB "
              f"{f.peak_mb:>5.1f}MB {f.handled:>8} {rate:>7.0f} {f.exit_code}")
    ok = all(f.handled >= args.notifications and f.exit_code == 0 for f in results)
    one = next((f for f in results if f.accounts == 1), None)
    if one is not None:
        verdict = "ok" if one.rss_after_mb < TARGET_ONE_MB else "MISSED"
        print(f"one account: {one.rss_after_mb:.1f} MB after the notifications "
              f"(target < {TARGET_ONE_MB:.0f} MB): {verdict}")
        ok &= one.rss_after_mb < TARGET_ONE_MB
        for f in results:
            if f.accounts > 1:
                extra = (f.rss_after_mb - one.rss_after_mb) / (f.accounts - 1)
                extra_start = (f.rss_start_mb - one.rss_start_mb) / (f.accounts - 1)
                verdict = "ok" if extra < TARGET_EXTRA_MB else "MISSED"
                print(f"{f.accounts} accounts: {extra:.1f} MB per extra account after the "
                      f"notifications, {extra_start:.1f} MB at start "
                      f"(target < {TARGET_EXTRA_MB:.0f} MB): {verdict}")
                ok &= extra < TARGET_EXTRA_MB
    slowest = max(f.first_stream_s for f in results)
    verdict = "ok" if slowest < TARGET_START_S else "MISSED"
    print(f"start-up to the first connected stream: {slowest:.2f} s at most "
          f"(target < {TARGET_START_S} s): {verdict}")
    ok &= slowest < TARGET_START_S
    if args.json:
        print(json.dumps([f.__dict__ for f in results]))
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
