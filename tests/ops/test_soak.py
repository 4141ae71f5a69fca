"""Soak: three accounts for a simulated day, with stream drops, 5xx and an abrupt restart.

Fake time moves half an hour at a time (then to 23:45) (time-machine); each step wakes the schedulers and
waits for them. Every account posts an hourly bulletin, a morning digest thread and four
alerts, and answers mentions injected every step; streams are dropped and the API answers
502 at random (seeded). Halfway through, the daemon is stopped without waiting for anything
in flight and a new one opens the same state file. At the end every expected post exists
exactly once and every mention is answered exactly once.

``CIVICBOT_SOAK_SCALE`` (default 1) multiplies the mentions per step and the faults; the
default keeps the test well under 60 s. (The real ``kill -9`` of a process is in
test_kill9_restart.py.)
"""

from __future__ import annotations

import os
import random
from collections import Counter
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from ops_support import (
    BulletinPlugin,
    EchoPlugin,
    account_block,
    make_daemon,
    replies_to,
    wait_until,
    write_config,
)

from civicbot import html_to_text
from civicbot.daemon import Daemon
from civicbot.testing import SandboxInstance

SCALE = max(1, int(os.environ.get("CIVICBOT_SOAK_SCALE", "1")))
SEED = int(os.environ.get("CIVICBOT_SOAK_SEED", "20260615"))
PARIS = ZoneInfo("Europe/Paris")
ACCOUNTS = ("ville", "musee", "festival")


def _settle(daemon: Daemon, now: datetime) -> None:
    """Wake every scheduler and wait until the runs due at ``now`` are done."""
    for bot in daemon.bots:
        bot.scheduler.wakeup()
    for bot in daemon.bots:
        def submitted(bot: object = bot) -> bool:
            times = bot.scheduler.next_run_times()  # type: ignore[attr-defined]
            return all(t is None or t > now for t in times.values())

        wait_until(submitted, 10, f"{bot.name}'s due jobs to be submitted")
        assert bot.scheduler.wait_idle(20)


@pytest.mark.slow
def test_three_accounts_for_a_simulated_day(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    day = datetime(2026, 6, 15, tzinfo=PARIS)
    mentions: dict[str, list[str]] = {name: [] for name in ACCOUNTS}
    faults = Counter[str]()
    with ExitStack() as stack:
        traveller = stack.enter_context(time_machine.travel(day - timedelta(minutes=1),
                                                            tick=False))
        sandboxes = {name: stack.enter_context(SandboxInstance(heartbeat_interval=0.2,
                                                               account_username=name))
                     for name in ACCOUNTS}
        cfg = write_config(tmp_path / "cfg.yaml",
                           [account_block(n, s) for n, s in sandboxes.items()])

        def open_daemon() -> Daemon:
            daemon = make_daemon(cfg, [EchoPlugin(), BulletinPlugin()])
            daemon.start()
            assert daemon.wait_ready(10), daemon.healthy()
            return daemon

        daemon = open_daemon()
        try:
            # every half hour from 00:00 to 23:30, then 23:45 (a last retry of pending posts)
            steps = [day + timedelta(minutes=30 * step) for step in range(48)]
            steps.append(day + timedelta(hours=23, minutes=45))
            for step, now in enumerate(steps):
                traveller.move_to(now)
                earlier = {name: list(ids) for name, ids in mentions.items()}
                for name, sandbox in sandboxes.items() if step < 48 else ():
                    if rng.random() < 0.25:
                        sandbox.drop_streams()
                        faults["drop"] += 1
                    if step == 40 and name == "ville":
                        # more 502s than the publisher's attempts: the answer is left pending
                        # and resent by the retry job at the next step
                        sandbox.fail_next(12, status=502)
                    elif rng.random() < 0.25:
                        sandbox.fail_next(rng.randint(1, 3), status=502)  # < max_attempts
                        faults["502"] += 1
                    for i in range(SCALE):
                        n = sandbox.inject_mention(f"question {step}-{i}", acct=f"r{i}@ex.org")
                        mentions[name].append(str(n["status"]["id"]))
                if step == 24:  # 12:00, jobs due: an abrupt stop, nothing awaited, a new daemon
                    for bot in daemon.bots:
                        bot.scheduler.wakeup()
                    daemon.stop()
                    daemon = open_daemon()
                _settle(daemon, now)
                for name, sandbox in sandboxes.items():
                    # what was asked before this step is answered by now (pending posts were
                    # retried); this step's mentions may still be waiting for a retry
                    wanted = set(earlier[name] if step >= 40 else mentions[name])
                    wait_until(lambda s=sandbox, w=wanted: w <= set(replies_to(s)), 20,
                               f"{name}'s answers at step {step}")
            ok, reasons = daemon.healthy()
            assert ok, reasons
            assert daemon.bot("ville").publisher.error_count >= 1  # the step-40 pending post
        finally:
            daemon.stop()

    for name, sandbox in sandboxes.items():
        texts = Counter(html_to_text(s["content"], drop_mentions=True) for s in sandbox.statuses)
        assert max(texts.values()) == 1, [t for t, n in texts.items() if n > 1]
        bulletins = sorted(t for t in texts if t.startswith("Bulletin"))
        assert bulletins == [f"Bulletin {name} de {h:02d}h" for h in range(24)]
        assert sorted(t for t in texts if t.startswith("Agenda")) == [
            f"Agenda {name} du 2026-06-15 (1/2)", f"Agenda {name} du 2026-06-15 (2/2)"]
        assert sorted(t for t in texts if t.startswith("Vigilance")) == [
            f"Vigilance {name} {h}h30" for h in ("00", "06", "12", "18")]
        alerts = [s for s in sandbox.statuses if s["spoiler_text"]]
        assert {s["spoiler_text"] for s in alerts} == {"Alerte météo"} and len(alerts) == 4
        counts = replies_to(sandbox)
        for status_id in mentions[name]:
            assert counts.get(status_id) == 1, (name, status_id)
        answers = [t for t in texts if t.startswith("Bien reçu")]
        assert len(answers) == len(mentions[name]) == 48 * SCALE
        digest = [s for s in sandbox.statuses if "Agenda" in s["content"]]
        assert digest[1]["in_reply_to_id"] == digest[0]["id"]
        assert len(sandbox.statuses) == 24 + 2 + 4 + 48 * SCALE
    assert faults["drop"] > 0 and faults["502"] > 0
