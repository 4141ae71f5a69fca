"""``civicbot approvals / approve / reject / hash-password`` against a running daemon."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
import yaml

from civicbot.daemon import Daemon
from civicbot.testing import SandboxInstance

PARIS = ZoneInfo("Europe/Paris")


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "civicbot", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_hash_password_prints_an_argon2_hash() -> None:
    from argon2 import PasswordHasher

    result = _cli("hash-password", stdin="correct horse\n")
    assert result.returncode == 0, result.stderr
    digest = result.stdout.strip()
    assert digest.startswith("$argon2id$")
    assert PasswordHasher().verify(digest, "correct horse")
    assert _cli("hash-password", stdin="").returncode == 1


def test_approve_and_reject_act_on_a_running_daemon(tmp_path: Path) -> None:
    """The daemon runs (streams, scheduler, endpoint) in this process, with fake time; the
    commands run in their own processes and reach it only through the state store."""
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    at = monday + timedelta(hours=1)
    with SandboxInstance(heartbeat_interval=0.2) as sandbox, \
            time_machine.travel(monday, tick=True) as clock:
        posts = [{"id": name, "at": at.isoformat(), "text": f"{text}\nseconde ligne",
                  "approval": "required"}
                 for name, text in (("oui", "Post approuvé"), ("non", "Post rejeté"),
                                    ("rien", "Post oublié"))]
        cfg = tmp_path / "cfg.yaml"
        cfg.write_text(yaml.safe_dump({
            "mastodon": {"api_base_url": sandbox.url, "access_token": sandbox.access_token},
            "state": str(tmp_path / "state.sqlite3"), "timezone": "Europe/Paris",
            "stream": {"poll_interval": "0.2s", "backoff_initial": "0.05s"},
            "log": {"format": "json", "level": "warning"},
            "disable_plugins": ["event_digest", "weather", "auto_reply"],
            "plugins": {"scheduled_posts": {"posts": posts}},
        }, allow_unicode=True), encoding="utf-8")
        daemon = Daemon.from_config(cfg, http="127.0.0.1:0")
        daemon.start()
        try:
            assert daemon.wait_ready(30)
            lines = _cli("approvals", "--config", str(cfg)).stdout.splitlines()
            assert len(lines) == 3, lines
            ids = {}
            for line in lines:
                draft_id, job, when, first = line.split("\t")
                assert when == at.isoformat(timespec="minutes")
                assert first.startswith("Post ") and "seconde" not in first
                ids[job] = draft_id
            ok = _cli("approve", ids["oui"], "--config", str(cfg), "--as", "claire")
            assert ok.returncode == 0, ok.stderr
            assert "approved by claire" in ok.stdout
            no = _cli("reject", ids["non"], "--config", str(cfg), "--reason", "doublon")
            assert no.returncode == 0, no.stderr
            again = _cli("approve", ids["non"], "--config", str(cfg))
            assert again.returncode == 1 and "rejected" in again.stderr
            assert [ln.split("\t")[1] for ln in
                    _cli("approvals", "--config", str(cfg)).stdout.splitlines()] == ["rien"]
            bot = daemon.bots[0]
            clock.move_to(at + timedelta(seconds=2))
            bot.scheduler.wakeup()
            _wait(lambda: all(bot.state.store.get_job_run(bot.name, j) for j in ids), 30,
                  "the three runs")
            bot.scheduler.wait_idle()
            states = {r.job_id: r.state for r in daemon.store.list_approvals()}
            assert states == {"oui": "published", "non": "rejected", "rien": "expired"}
        finally:
            daemon.stop()
        texts = [s["content"] for s in sandbox.statuses]
        assert len(texts) == 1 and "Post approuvé" in texts[0]
