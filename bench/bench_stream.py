"""Stream throughput and reply latency: civicbot next to a bare Mastodon.py StreamListener.

    python bench/bench_stream.py [--events 10000] [--bare-budget 20] [--mentions 200]

1. Throughput: N mention notifications are pushed through the sandbox's SSE stream. civicbot
   (supervised stream, bounded queue, dispatcher, a plugin hook per notification, cursor
   persisted in SQLite after each) is timed from the first injection to the last handled
   notification. A bare ``mastodon.StreamListener`` counting ``on_notification`` runs on the
   same kind of stream; it reads one byte at a time and is far slower, so it is measured for
   at most ``--bare-budget`` seconds (the rate is what is compared). The ratio line is
   civicbot's events/s divided by the bare listener's.
2. Latency: mentions are injected one at a time; the time from injection to the sandbox
   receiving the reply's ``POST /api/v1/statuses`` is measured (median, p95).

Exits 0 within 120 s with the default arguments on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import structlog
from mastodon import Mastodon, StreamListener

from civicbot import Bot, hookimpl
from civicbot.testing import SandboxInstance


class Counter:
    def __init__(self, target: int) -> None:
        self.count = 0
        self.target = target
        self.done = threading.Event()

    def hit(self) -> None:
        self.count += 1
        if self.count >= self.target:
            self.done.set()


class CountingPlugin:
    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    @hookimpl
    def civicbot_on_notification(self, bot: Bot, notification: dict[str, Any]) -> None:
        self.counter.hit()


class ReplyPlugin:
    @hookimpl
    def civicbot_on_mention(self, bot: Bot, status: dict[str, Any],
                            notification: dict[str, Any]) -> None:
        bot.reply(status, "Bien reçu, merci !")


class BareListener(StreamListener):  # type: ignore[misc]
    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    def on_notification(self, notification: Any) -> None:
        self.counter.hit()


def inject(sandbox: SandboxInstance, n: int) -> None:
    for i in range(n):
        sandbox.inject_mention(f"Quels sont les horaires de la médiathèque ? ({i})",
                               acct=f"habitant{i % 97}@ville.example")


def bench_civicbot(n: int, state_dir: Path) -> float:
    with SandboxInstance() as sandbox:
        counter = Counter(n)
        bot = Bot(sandbox.url, access_token=sandbox.access_token,
                  plugins=[CountingPlugin(counter)], state=state_dir / "throughput.sqlite3",
                  config={"stream": {"transport": "sse", "queue_size": 1000}})
        bot.start()
        assert bot.stream is not None and bot.stream.wait_state({"connected"}, 10)
        while bot.stream.catching_up:  # measure the stream, not the start-up catch-up
            time.sleep(0.01)
        started = time.perf_counter()
        inject(sandbox, n)
        if not counter.done.wait(100):
            print(f"civicbot handled only {counter.count}/{n}", file=sys.stderr)
        elapsed = time.perf_counter() - started
        bot.stop()
        return counter.count / elapsed


def bench_bare(n: int, budget: float) -> tuple[float, int]:
    with SandboxInstance() as sandbox:
        counter = Counter(n)
        client = Mastodon(access_token=sandbox.access_token, api_base_url=sandbox.url)
        handle = client.stream_user(BareListener(counter), run_async=True)
        sandbox.wait_for_stream()
        started = time.perf_counter()
        inject(sandbox, n)
        counter.done.wait(budget)
        elapsed = time.perf_counter() - started
        count = counter.count
        handle.close()
        return count / elapsed, count


def bench_latency(mentions: int, state_dir: Path) -> list[float]:
    with SandboxInstance() as sandbox:
        bot = Bot(sandbox.url, access_token=sandbox.access_token, plugins=[ReplyPlugin()],
                  state=state_dir / "latency.sqlite3", config={"stream": {"transport": "sse"}})
        bot.start()
        assert bot.stream is not None and bot.stream.wait_state({"connected"}, 10)
        latencies = []
        for i in range(mentions):
            sent = time.time()
            note = sandbox.inject_mention(f"Question {i}", acct="lea@ville.example")
            mention_id = note["status"]["id"]
            [record] = sandbox.wait_for_requests(
                lambda r, m=mention_id: r.method == "POST" and r.path == "/api/v1/statuses"
                and str((r.body or {}).get("in_reply_to_id")) == m, n=1, timeout=10)
            latencies.append((record.time.timestamp() - sent) * 1000)
        bot.stop()
        return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--bare-budget", type=float, default=20.0,
                        help="seconds the bare listener is measured for at most")
    parser.add_argument("--mentions", type=int, default=200)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    with tempfile.TemporaryDirectory() as tmp:
        ours = bench_civicbot(args.events, Path(tmp))
        print(f"civicbot: {args.events} notifications handled, {ours:,.0f} events/s")
        bare, seen = bench_bare(args.events, args.bare_budget)
        print(f"bare Mastodon.py StreamListener: {bare:,.0f} events/s "
              f"({seen} events in at most {args.bare_budget:.0f} s)")
        print(f"ratio civicbot/bare: {ours / bare:.2f} (target >= 0.8)")
        latencies = bench_latency(args.mentions, Path(tmp))
        median = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[-1]
        print(f"latency event -> reply request: median {median:.1f} ms, p95 {p95:.1f} ms "
              f"over {len(latencies)} mentions (target: median < 50 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
