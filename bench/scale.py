"""Scale: many accounts in one process and spread over several, on one PostgreSQL state.

For each number of accounts (default 1, 100, 500) and of processes (default 1 and 4), real
``python -m civicbot run`` daemons share one config whose state is a throw-away PostgreSQL
database (``civicbot.testing.postgres``; needs Debian's ``postgresql`` package). The fake
Mastodon instances (one :class:`~civicbot.testing.SandboxInstance` per account, each its own
server on its own port, so nothing is shared between accounts that a real deployment on
several instances could not share) and the database are not counted in the daemons' memory.
No plugin is configured, so the figures are the core's: streams, dispatch, leases. Each
configuration gets fresh sandboxes and a fresh database: a run never catches up the
notifications of the one before.

Fairness: the 500 sandboxes run in this one process, and everything shares the machine's
cores with the daemons. Is this process the bottleneck? The CPU seconds of both sides during
the start are printed (``daemons CPU`` and ``sandboxes CPU``): with 500 accounts in one daemon,
the daemon used about 0.9 of a core (its interpreter lock bounds it near one core) while the
sandboxes' process used 0.3, so the daemon is what limits the start, and spreading the
sandboxes over helper processes would not change the figures; the sandboxes' share of the two
cores makes them pessimistic, if anything. Real instances answer in tens of milliseconds rather
than one: a daemon's start then waits on the network more than on its CPU, which is what
``cluster.start_concurrency`` is for.

Printed per configuration:

* RSS per account: the daemons' summed ``VmRSS`` once every stream is connected, divided by the
  accounts; and, for one process, the cost of each extra account over the 1-account run;
* time from spawning the daemons until every account's stream is connected, and the CPU
  seconds the daemons and this process (the sandboxes) used meanwhile;
* notifications handled per second (favourites spread over the accounts, read back from the
  daemons' ``civicbot_notifications_handled_total``);
* with several processes: the takeover time after one daemon is SIGKILLed (until each of its
  accounts has a live lease of another daemon and its stream is connected again);
* duplicates: accounts with more than one open stream at the end (two daemons serving one).

Usage: ``python bench/scale.py [--accounts 1,100,500] [--processes 1,4] [--lease-ttl 15]
[--notifications 2000]``. Targets (issue 17): < 1.5 MB RSS per extra account, 500 accounts
connected in < 20 s, takeover < 25 s with the default lease, zero duplicates.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from civicbot.testing import SandboxInstance
from civicbot.testing.postgres import ThrowawayPostgres

STREAM = {"watchdog": "30s", "backoff_initial": "0.2s", "backoff_max": "5s"}
#: Seconds between two heartbeats of the sandboxes' streams.
HEARTBEAT = 5.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def handled(port: int) -> float:
    with suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                                    timeout=5) as r:
        for family in text_string_to_metric_families(r.read().decode()):
            for sample in family.samples:
                if sample.name == "civicbot_notifications_handled_total":
                    return sum(s.value for s in family.samples)
    return 0.0


def wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def owners(url: str) -> dict[str, int | None]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT account, pid, expires_at > now() FROM leases").fetchall()
    return {a: (pid if live else None) for a, pid, live in rows}


def run(accounts: int, processes: int, sandboxes: list[SandboxInstance], pg: ThrowawayPostgres,
        workdir: Path, lease_ttl: float, notifications: int, timeout: float) -> dict[str, Any]:
    url = pg.create_database()
    from civicbot.state_postgres import PostgresStateStore

    PostgresStateStore(url).close()  # civicbot migrate
    used = sandboxes[:accounts]
    cfg = workdir / f"scale-{accounts}-{processes}.yaml"
    cfg.write_text(yaml.safe_dump({
        "state": url, "stream": STREAM, "log": {"format": "json", "level": "warning"},
        "cluster": {"lease_ttl": f"{lease_ttl}s"},
        "accounts": [{"name": f"a{i:03d}", "mastodon": {"api_base_url": s.url,
                                                        "access_token": s.access_token}}
                     for i, s in enumerate(used)]}), encoding="utf-8")
    before = [s.total_stream_connects for s in used]
    ports = [free_port() for _ in range(processes)]
    out: dict[str, Any] = {"accounts": accounts, "processes": processes}
    with ExitStack() as stack:
        procs = []
        started = time.monotonic()
        own_cpu = cpu_s(os.getpid())
        for n, port in enumerate(ports):
            log = stack.enter_context((workdir / f"scale-{accounts}-{processes}-{n}.log")
                                      .open("wb"))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "civicbot", "--log-format", "json", "--log-level",
                 "warning", "run", "--config", str(cfg), "--http", f"127.0.0.1:{port}"],
                cwd=workdir, stdout=log, stderr=subprocess.STDOUT))

        def stop_all() -> None:
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()

        stack.callback(stop_all)

        def connected() -> bool:
            return all(s.stream_connections >= 1 for s in used)

        spread = processes == 1 or wait(
            lambda: len([o for o in owners(url).values() if o]) == accounts
            and all(s.stream_connections >= 1 for s in used), timeout)
        if not (spread and wait(connected, timeout)):
            out["error"] = "streams not all connected in time"
            return out
        out["connect_s"] = time.monotonic() - started
        out["daemons_cpu_s"] = sum(cpu_s(p.pid) for p in procs)
        out["sandboxes_cpu_s"] = cpu_s(os.getpid()) - own_cpu
        time.sleep(2.0)  # let start-up settle
        total = sum(rss_mb(p.pid) for p in procs)
        out["rss_mb"] = total
        out["rss_per_account_mb"] = total / accounts
        # notifications handled per second
        t0 = time.monotonic()
        for i in range(notifications):
            used[i % accounts].inject_notification("favourite", acct=f"r{i % 97}@ex.org")
        done = wait(lambda: sum(handled(p) for p in ports) >= notifications, timeout)
        out["notifications_per_s"] = notifications / (time.monotonic() - t0) if done else None
        if processes > 1:
            victim = procs[0]
            held = {a for a, o in owners(url).items() if o == victim.pid}
            connects = {a: used[int(a[1:])].total_stream_connects for a in held}
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed = time.monotonic()

            def taken_over() -> bool:
                now = owners(url)
                return all(now.get(a) not in (None, victim.pid) for a in held) and all(
                    used[int(a[1:])].total_stream_connects > connects[a]
                    and used[int(a[1:])].stream_connections >= 1 for a in held)

            out["takeover_s"] = (time.monotonic() - killed
                                 if wait(taken_over, lease_ttl + 60) else None)
            out["accounts_taken_over"] = len(held)
        # the killed daemon's sockets are noticed by the sandboxes when a heartbeat cannot be
        # written (the second one after the kill: up to two heartbeats, 10 s); a stream still
        # open twice after that is two live daemons serving one account
        if processes > 1:
            wait(lambda: not any(s.stream_connections > 1 for s in used), 2 * HEARTBEAT + 2)
        out["duplicate_streams"] = sum(1 for s in used if s.stream_connections > 1)
        out["connects"] = sum(s.total_stream_connects for s in used) - sum(before)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", default="1,100,500")
    parser.add_argument("--processes", default="1,4")
    parser.add_argument("--lease-ttl", type=float, default=15.0)
    parser.add_argument("--notifications", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    counts = [int(x) for x in args.accounts.split(",")]
    procs = [int(x) for x in args.processes.split(",")]
    results = []
    tmp = tempfile.mkdtemp(prefix="civicbot-scale-")  # kept: the daemons' logs are there
    print(f"configs and logs in {tmp}", flush=True)
    with ThrowawayPostgres() as pg:
        for n in counts:
            for p in procs:
                if p > n:
                    continue
                # fresh sandboxes for each run: the notifications of the previous run would
                # otherwise be caught up (and handled) at this run's start
                with ExitStack() as stack:
                    sandboxes = [stack.enter_context(SandboxInstance(
                        heartbeat_interval=HEARTBEAT, account_username=f"compte{i}"))
                        for i in range(n)]
                    result = run(n, p, sandboxes, pg, Path(tmp), args.lease_ttl,
                                 args.notifications, args.timeout)
                results.append(result)
                print(result, flush=True)
                time.sleep(1.0)
    one = {r["processes"]: r for r in results if r["accounts"] == 1}
    print()
    print(f"{'accounts':>8} {'procs':>5} {'RSS MB':>8} {'MB/acct':>8} {'extra MB/acct':>13} "
          f"{'connect s':>9} {'daemons CPU':>11} {'sandboxes CPU':>13} {'notif/s':>8} "
          f"{'takeover s':>10} {'dup':>4}")
    for r in results:
        base = one.get(1)
        extra = ((r["rss_mb"] - base["rss_mb"]) / (r["accounts"] - 1)
                 if base and r["processes"] == 1 and r["accounts"] > 1 and "rss_mb" in r
                 else None)

        def f(value: Any, fmt: str) -> str:
            return format(value, fmt) if isinstance(value, float | int) else "-"

        print(f"{r['accounts']:>8} {r['processes']:>5} {f(r.get('rss_mb'), '8.1f')} "
              f"{f(r.get('rss_per_account_mb'), '8.2f')} {f(extra, '13.2f')} "
              f"{f(r.get('connect_s'), '9.1f')} {f(r.get('daemons_cpu_s'), '11.1f')} "
              f"{f(r.get('sandboxes_cpu_s'), '13.1f')} {f(r.get('notifications_per_s'), '8.0f')} "
              f"{f(r.get('takeover_s'), '10.1f')} {r.get('duplicate_streams', '-'):>4}"
              f"{'  ' + r['error'] if 'error' in r else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
