"""The editorial desk: calendar render time, and the daemon's memory with the desk on vs off.

1. **Calendar**: a daemon with 3 accounts (one sandbox each) and 500 upcoming posts spread over
   the next 14 days (scheduled posts in the config, one preview each), served by
   ``civicbot run --http`` in this process; the time of ``GET /`` (every account, list view)
   and ``GET /calendar?view=week`` after logging in, median of N requests.
2. **RSS**: the real daemon (``python -m civicbot run``) in a subprocess with one account,
   without then with a ``desk:`` section; ``VmRSS`` once ``/healthz`` answers 200 and, with
   the desk, after a login and one calendar page (templates, argon2, Pillow loaded).

Usage: ``python bench/desk.py [--posts 500] [--accounts 3] [--requests 5]``.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import yaml
from argon2 import PasswordHasher

from civicbot.daemon import Daemon
from civicbot.testing import SandboxInstance

PARIS = ZoneInfo("Europe/Paris")
PASSWORD = "bench-password"


def _desk() -> dict[str, Any]:
    return {"secret_key": "bench-secret-0123456789abcdef",
            "users": [{"name": "claire", "role": "admin",
                       "password_hash": PasswordHasher().hash(PASSWORD)}]}


def _posts(count: int, start: datetime, prefix: str) -> list[dict[str, Any]]:
    step = timedelta(days=13) / (count + 1)  # all within the 14 days shown
    return [{"id": f"{prefix}-{i}", "at": (start + step * (i + 1)).replace(microsecond=0)
             .isoformat(), "text": f"Message {i} de {prefix} : https://ville.example/{i} "
             "#AgendaBlois — la mairie vous informe."} for i in range(count)]


def _account(name: str, sandbox: SandboxInstance, posts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "mastodon": {"api_base_url": sandbox.url,
                                       "access_token": sandbox.access_token},
            "plugins": {"scheduled_posts": {"posts": posts}}}


def _login(client: httpx.Client) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrftoken" value="([^"]+)"', page)
    assert token is not None
    answer = client.post("/login", data={"username": "claire", "password": PASSWORD,
                                         "csrftoken": token.group(1)})
    assert answer.status_code == 303, answer.text[:500]


def bench_calendar(posts: int, accounts: int, requests: int) -> dict[str, float]:
    start = datetime.now(PARIS)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        sandboxes = [stack.enter_context(SandboxInstance(heartbeat_interval=1.0))
                     for _ in range(accounts)]
        per = [posts // accounts + (1 if i < posts % accounts else 0) for i in range(accounts)]
        config = {"state": f"{tmp}/state.sqlite3", "timezone": "Europe/Paris",
                  "log": {"format": "json", "level": "error"},
                  "disable_plugins": ["event_digest", "weather", "auto_reply"],
                  "desk": _desk(),
                  "accounts": [_account(f"compte{i}", sb, _posts(per[i], start, f"c{i}"))
                               for i, sb in enumerate(sandboxes)]}
        path = Path(tmp) / "civicbot.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        daemon = Daemon.from_config(path, http="127.0.0.1:0")
        daemon.start()
        try:
            daemon.wait_ready(30)
            with httpx.Client(base_url=daemon.http.url, timeout=120) as client:
                _login(client)
                out: dict[str, float] = {}
                for label, url in (("list", "/"), ("week", "/calendar?view=week")):
                    times = []
                    for i in range(requests + 1):
                        t0 = time.perf_counter()
                        answer = client.get(url)
                        times.append(time.perf_counter() - t0)
                        assert answer.status_code == 200
                        if i == 0:  # first: every preview built; then from the 2-min cache
                            out[f"{label}_cold_ms"] = times.pop() * 1000
                    out[f"{label}_ms"] = statistics.median(times) * 1000
                    out[f"{label}_entries"] = answer.text.count("<article")
                return out
        finally:
            daemon.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def bench_rss(desk: bool) -> dict[str, float]:
    with SandboxInstance(heartbeat_interval=1.0) as sandbox, \
            tempfile.TemporaryDirectory() as tmp:
        config: dict[str, Any] = {
            "mastodon": {"api_base_url": sandbox.url, "access_token": sandbox.access_token},
            "state": f"{tmp}/state.sqlite3", "log": {"format": "json", "level": "error"},
            "disable_plugins": ["event_digest", "weather", "auto_reply"],
            "plugins": {"scheduled_posts": {"posts": _posts(20, datetime.now(PARIS), "p")}}}
        if desk:
            config["desk"] = _desk()
        path = Path(tmp) / "civicbot.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "civicbot", "run", "--config", str(path),
                                 "--http", f"127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the daemon did not become healthy")
                time.sleep(0.1)
            out = {"started_mb": _rss_mb(proc.pid)}
            if desk:
                with httpx.Client(base_url=base, timeout=60) as client:
                    _login(client)
                    assert client.get("/").status_code == 200
                out["after_pages_mb"] = _rss_mb(proc.pid)
            return out
        finally:
            proc.terminate()
            proc.wait(20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()
    calendar = bench_calendar(args.posts, args.accounts, args.requests)
    print(f"calendar, {args.posts} upcoming posts over {args.accounts} accounts: "
          f"list view {calendar['list_cold_ms']:.0f} ms cold ("
          f"{calendar['list_entries']:.0f} entries, "
          f"{calendar['list_cold_ms'] / max(calendar['list_entries'], 1):.2f} ms each), "
          f"{calendar['list_ms']:.0f} ms with previews cached; week view "
          f"{calendar['week_cold_ms']:.0f} ms ({calendar['week_entries']:.0f} entries; "
          f"previews already cached by the list view)")
    off, on = bench_rss(False), bench_rss(True)
    print(f"daemon RSS, desk off: {off['started_mb']:.1f} MB; desk on: {on['started_mb']:.1f} MB "
          f"at start (+{on['started_mb'] - off['started_mb']:.1f} MB), "
          f"{on['after_pages_mb']:.1f} MB after a login and a calendar page "
          f"(+{on['after_pages_mb'] - off['started_mb']:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
