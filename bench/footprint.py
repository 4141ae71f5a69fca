"""Footprint and start-up of ``civicbot run`` next to a bare Mastodon.py bot, in one run.

Three programs, each in a fresh subprocess, against the same kind of sandbox and the same
notifications:

* ``bare``: a bare Mastodon.py bot as its documentation suggests (``bench/bare_bot.py``:
  ``stream_user`` with a listener answering mentions with ``status_reply``) — the floor;
* ``all``: ``python -m civicbot run`` with every first-party plugin configured (each with its
  demo section, ``demo_section()``);
* ``auto_reply``: ``python -m civicbot run`` with only the ``auto_reply`` section.

The fake Mastodon instances — one :class:`~civicbot.testing.SandboxInstance` per account, each
its own user and token, as in production — and the plugins' sample feeds run in *this* process,
so their memory is not counted.

Measured for each program and number of accounts:

* the time from spawning the process to the first stream connected (as seen by the sandbox)
  and to every stream connected;
* the first reply: a mention is injected as soon as the first stream is connected; the time
  from that mention to the reply reaching the sandbox (the *first reply after start*, the
  cold path: what lazy loading would make slower), and from spawning the process to that
  reply. The start-up figures are the median of ``--repeat`` fresh starts (default 3);
* RSS (``VmRSS`` of ``/proc/<pid>/status``) after start-up (first reply received, then 1 s to
  settle) and after N notifications (default N = 10,000; favourites spread over the accounts,
  in batches of 200, each batch closed by a mention whose reply is awaited, so each program is
  measured once it has handled everything; ``--batch 0`` pushes them all at once, the worst
  case), and the peak (``VmHWM``);
* the ratios civicbot / bare (same number of accounts), and for several accounts the RSS each
  extra account adds.

Usage: ``python bench/footprint.py [--accounts 1,10,100] [--notifications 10000] [--strict]``.
``--http`` also serves civicbot's health and metrics endpoint (which the bare bot lacks).
``--venv DIR`` runs the three programs in a virtual environment holding only what
``pip install`` of civicbot brings (created on first use), as on a production host: a
development environment also holds the test tools' packages (greenlet, colorama...), which
structlog and others import when they are present.
Exits 0 (``--strict``: 1 when a target is missed). Targets (issue 15): RSS after the
notifications at most 1.5x the bare bot with every plugin, 1.35x with ``auto_reply`` only;
each extra account under 1.5 MB; first reply at most 1.3x the bare bot's time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from civicbot.errors import ConfigError
from civicbot.testing import SandboxInstance
from civicbot.testing.webserver import FakeWebServer

#: The first-party plugins with a demo section (bluesky needs a PDS: left out here).
FIRST_PARTY = ("scheduled_posts", "event_digest", "weather", "auto_reply", "news")
VARIANTS = ("bare", "all", "auto_reply")
BARE_BOT = Path(__file__).with_name("bare_bot.py")
TARGET_ALL, TARGET_AUTO_REPLY, TARGET_EXTRA_MB, TARGET_FIRST_REPLY = 1.5, 1.35, 1.5, 1.3
QUESTION = "Bonjour ! Quels sont les horaires de la mairie ?"


@dataclass
class Figures:
    variant: str
    accounts: int
    first_stream_s: float
    all_streams_s: float
    first_reply_s: float
    first_reply_latency_s: float
    rss_start_mb: float
    rss_after_mb: float
    peak_mb: float
    replies: int
    handle_s: float
    exit_code: int | None
    error: str | None = None


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
    data = {"state": f"{path.stem}.sqlite3", "accounts": accounts, "plugins": sections,
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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_reply(sandbox: SandboxInstance, status_id: str, deadline: float,
                   proc: subprocess.Popen[bytes]) -> None:
    """Wait until the bot posted a reply to ``status_id`` (or raise at the deadline)."""
    seen = 0
    with sandbox._changed:
        while True:
            statuses = sandbox.statuses
            for status in statuses[seen:]:
                if status.get("in_reply_to_id") == status_id:
                    return
            seen = len(statuses)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None:
                raise TimeoutError(f"no reply to {status_id} (exit code {proc.poll()})")
            sandbox._changed.wait(min(remaining, 0.5))


def mention(sandbox: SandboxInstance, who: str) -> str:
    return str(sandbox.inject_mention(QUESTION, acct=f"{who}@habitants.example")["status"]["id"])


def command(variant: str, python: str, sandboxes: list[SandboxInstance], workdir: Path,
            sections: dict[str, Any], missing: dict[str, str], http: bool) -> list[str]:
    if variant == "bare":
        cmd = [python, str(BARE_BOT)]
        for s in sandboxes:
            cmd += [s.url, s.access_token]
        return cmd
    chosen = sections if variant == "all" else {k: v for k, v in sections.items() if k == variant}
    cfg = workdir / f"footprint-{variant}-{len(sandboxes)}.yaml"
    write_config(cfg, sandboxes, chosen)
    validate(cfg, chosen, sandboxes, missing)
    cmd = [python, "-m", "civicbot", "--log-format", "json", "--log-level", "warning", "run",
           "--config", str(cfg)]
    if http:
        cmd += ["--http", f"127.0.0.1:{free_port()}"]
    return cmd


def stop(proc: subprocess.Popen[bytes]) -> int | None:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return None


def start_once(cmd: list[str], sandbox: SandboxInstance, workdir: Path, log: Any,
               timeout: float) -> tuple[subprocess.Popen[bytes], float, float, float]:
    """Spawn, wait for the first stream, mention, wait for the reply: (process, seconds to the
    stream, to the reply from spawning, from the mention)."""
    connects = sandbox.total_stream_connects
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        sandbox.wait_for_stream_connects(connects + 1, timeout)
        first = time.monotonic() - started
        asked = time.monotonic()
        wait_for_reply(sandbox, mention(sandbox, "premiere"), started + timeout, proc)
        now = time.monotonic()
    except BaseException:
        stop(proc)
        raise
    return proc, first, now - started, now - asked


def measure(variant: str, accounts: int, notifications: int, workdir: Path,
            sections: dict[str, Any], missing: dict[str, str], timeout: float,
            batch: int = 200, http: bool = False, python: str = sys.executable,
            repeat: int = 3) -> Figures:
    with ExitStack() as stack:
        sandboxes = [stack.enter_context(SandboxInstance(heartbeat_interval=1.0,
                                                         rate_limit=10**9,
                                                         account_username=f"compte{i}"))
                     for i in range(accounts)]
        cmd = command(variant, python, sandboxes, workdir, sections, missing, http)
        log = (workdir / f"footprint-{variant}-{accounts}.log").open("wb")
        stack.callback(log.close)
        starts: list[tuple[float, float, float]] = []
        every = rss_start = handle_s = 0.0
        memory = {"VmRSS": 0.0, "VmHWM": 0.0}
        replies, error, code = 0, None, None
        proc: subprocess.Popen[bytes] | None = None
        try:
            # fresh starts for the start-up figures (a second start of civicbot finds its
            # state: it catches up, as a restarted daemon does); the last one goes on
            for _ in range(max(1, repeat)):
                if proc is not None:
                    stop(proc)
                started = time.monotonic()
                proc, first, reply, latency = start_once(cmd, sandboxes[0], workdir, log,
                                                         timeout)
                starts.append((first, reply, latency))
                replies += 1
            assert proc is not None
            deadline = started + timeout
            for sandbox in sandboxes:
                sandbox.wait_for_stream(max(0.1, deadline - time.monotonic()))
            every = time.monotonic() - started
            time.sleep(1.0)  # let start-up work (first job runs, catch-ups) settle
            rss_start = vm(proc.pid)["VmRSS"]
            t0 = time.monotonic()
            step = notifications if batch <= 0 else batch
            for n, start in enumerate(range(0, notifications, step)):
                end = min(start + step, notifications)
                for i in range(start, end - (1 if batch > 0 else 0)):
                    sandboxes[i % accounts].inject_notification("favourite",
                                                                acct=f"r{i % 97}@ex.org")
                if batch > 0:  # the batch's last notification: a mention, answered when done
                    target = sandboxes[n % accounts]
                    wait_for_reply(target, mention(target, f"lot{n}"), deadline, proc)
                    replies += 1
            # one last mention per account: each has handled everything before it
            last = [(s, mention(s, f"fin{i}")) for i, s in enumerate(sandboxes)]
            for sandbox, status_id in last:
                wait_for_reply(sandbox, status_id, deadline, proc)
                replies += 1
            handle_s = time.monotonic() - t0
            memory = vm(proc.pid)
        except (TimeoutError, OSError) as exc:
            log.flush()
            problems = [line for line in (workdir / f"footprint-{variant}-{accounts}.log")
                        .read_text(errors="replace").splitlines() if '"error"' in line]
            error = f"{exc}; {len(problems)} error lines, last: {problems[-1:]}"[:600]
        finally:
            if proc is not None:
                code = stop(proc)
    med = [statistics.median(column) for column in zip(*starts, strict=True)] or [0.0] * 3
    return Figures(variant, accounts, med[0], every, med[1], med[2], rss_start,
                   memory["VmRSS"], memory["VmHWM"], replies, handle_s, code, error)


def ratio_line(label: str, value: float, target: float | None) -> tuple[str, bool]:
    if target is None:
        return f"{label}: {value:.2f}x", True
    ok = value <= target
    return f"{label}: {value:.2f}x (target <= {target}x): {'ok' if ok else 'MISSED'}", ok


def report(results: list[Figures]) -> bool:
    """Print the ratios and per-account figures; True when every target is met."""
    ok = True
    by = {(f.variant, f.accounts): f for f in results}
    for (variant, n), f in sorted(by.items()):
        bare = by.get(("bare", n))
        if variant == "bare" or bare is None:
            continue
        target = TARGET_ALL if variant == "all" else TARGET_AUTO_REPLY
        print(f"{variant} / bare, {n} account{'s' if n > 1 else ''}:")
        lines = [
            ratio_line("  RSS after start-up", f.rss_start_mb / bare.rss_start_mb, None),
            ratio_line("  RSS after the notifications", f.rss_after_mb / bare.rss_after_mb,
                       target if n == 1 else None),
            ratio_line("  first connected stream", f.first_stream_s / bare.first_stream_s, None),
            ratio_line("  first reply after start (mention to reply, once connected)",
                       f.first_reply_latency_s / bare.first_reply_latency_s,
                       TARGET_FIRST_REPLY if n == 1 else None),
            ratio_line("  first reply counted from spawning the process",
                       f.first_reply_s / bare.first_reply_s, None),
        ]
        for text, good in lines:
            print(text)
            ok &= good
    for variant in VARIANTS:
        one = by.get((variant, 1))
        if one is None:
            continue
        for (v, n), f in sorted(by.items()):
            if v != variant or n == 1:
                continue
            extra = (f.rss_after_mb - one.rss_after_mb) / (n - 1)
            extra_start = (f.rss_start_mb - one.rss_start_mb) / (n - 1)
            good = variant == "bare" or extra < TARGET_EXTRA_MB
            verdict = "" if variant == "bare" else \
                f" (target < {TARGET_EXTRA_MB} MB): {'ok' if good else 'MISSED'}"
            print(f"{variant}, {n} accounts: {extra:+.2f} MB per extra account after the "
                  f"notifications, {extra_start:+.2f} MB at start{verdict}")
            ok &= good
    return ok


def production_python(venv: Path) -> str:
    """The interpreter of ``venv``, created with ``pip install`` of this checkout (no extras)."""
    python = venv / "bin" / "python"
    if not python.exists():
        root = Path(__file__).resolve().parent.parent
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", str(root)],
                       check=True)
    return str(python)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", default="1,10,100",
                        help="comma-separated (default 1,10,100)")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated among {', '.join(VARIANTS)} (default: all three)")
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=300.0, help="per configuration")
    parser.add_argument("--batch", type=int, default=200,
                        help="inject this many, wait until handled, repeat (0: all at once, "
                             "which fills civicbot's dispatch queues: the worst case)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh starts per configuration for the start-up figures (median)")
    parser.add_argument("--venv", type=Path, default=None,
                        help="run the programs in this virtual environment, created on first use "
                             "with only civicbot's own dependencies (as on a production host)")
    parser.add_argument("--http", action="store_true",
                        help="civicbot also serves /healthz and /metrics")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.accounts.split(",")]
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    python = sys.executable if args.venv is None else production_python(args.venv)
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="civicbot-footprint-") as tmp, FakeWebServer() as web:
        workdir = Path(tmp)
        sections, missing = plugin_sections(web, workdir)
        for n in counts:
            for variant in variants:
                results.append(measure(variant, n, args.notifications, workdir, sections,
                                       missing, args.timeout, args.batch, args.http,
                                       python, args.repeat))
                print(f"measured: {json.dumps(results[-1].__dict__)}", flush=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; one sandbox per account "
          f"(in the parent process); {args.notifications} notifications per configuration, "
          f"{'all at once' if args.batch <= 0 else f'in batches of {args.batch}'}"
          f"{'; civicbot with --http' if args.http else ''}")
    print(f"interpreter: {python}")
    print(f"plugins of 'all': {', '.join(sections) or 'none'}")
    for name, why in missing.items():
        print(f"  left out: {name}: {why}")
    print(f"{'program':>10} {'accounts':>8} {'1st stream':>10} {'all streams':>11} "
          f"{'1st reply':>9} {'RSS start':>9} {'RSS after':>9} {'peak':>7} {'replies':>7} "
          f"{'time':>7} exit   (1st reply: from spawning; latency: mention to reply)")
    for f in results:
        print(f"{f.variant:>10} {f.accounts:>8} {f.first_stream_s:>9.3f}s "
              f"{f.all_streams_s:>10.3f}s {f.first_reply_s:>8.3f}s {f.rss_start_mb:>7.1f}MB "
              f"{f.rss_after_mb:>7.1f}MB {f.peak_mb:>5.1f}MB {f.replies:>7} "
              f"{f.handle_s:>6.1f}s {f.exit_code}   latency {f.first_reply_latency_s * 1000:.1f} ms")
        if f.error:
            print(f"{'':>10} FAILED: {f.error}")
    ok = report([f for f in results if f.error is None])
    ok &= not any(f.error for f in results)
    ok &= all(f.exit_code in (0, -signal.SIGTERM) for f in results)
    if args.json:
        print(json.dumps([f.__dict__ for f in results]))
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
