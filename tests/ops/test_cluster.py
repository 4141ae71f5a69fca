"""Several real ``civicbot run`` processes sharing the accounts of one config through a
PostgreSQL state (leases, takeover, fencing), and SQLite refusing a second daemon.

The daemons run as subprocesses against sandboxes in the test process; their only plugin is an
echo plugin installed through a real ``civicbot`` entry point. The sandbox honours
``Idempotency-Key``, so "answered exactly once" is checked twice: one reply per mention among
the statuses, and (where no daemon crashed) one ``POST /api/v1/statuses`` per reply key.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from ops_support import FAST_STREAM, replies_to, wait_until

from civicbot.testing import SandboxInstance

PLUGIN = '''
import os
import time
from pathlib import Path

from civicbot import hookimpl, html_to_text


@hookimpl
def civicbot_on_mention(bot, status, notification):
    text = html_to_text(status["content"], drop_mentions=True)
    if "lentement" in text:
        # slow to answer (the test freezes the daemon meanwhile); the reply names the daemon
        # and its key is its own, so that no shared dedup key hides a zombie's post
        Path(os.environ["CLUSTER_MARKS"], f"{os.getpid()}-{status['id']}").touch()
        time.sleep(SLOW_SECONDS)
        Path(os.environ["CLUSTER_MARKS"], f"{os.getpid()}-{status['id']}-done").touch()
        bot.reply(status, f"Répondu par {os.getpid()}",
                  dedup_key=f"reply:{status['id']}:{os.getpid()}")
        return
    bot.reply(status, "Reçu : " + text)
'''

#: How long the echo plugin takes to answer a mention saying "lentement".
SLOW_SECONDS = 3.0

LEASE_TTL = 5.0


def _install_echo_plugin(where: Path) -> None:
    (where / "cluster_echo_plugin.py").write_text(
        PLUGIN.replace("SLOW_SECONDS", repr(SLOW_SECONDS)), encoding="utf-8")
    info = where / "cluster_echo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cluster-echo-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[civicbot]\ncluster_echo = cluster_echo_plugin\n",
                                           encoding="utf-8")


class Cluster:
    """Sandboxes, a config on a PostgreSQL state, and the daemons started on it."""

    def __init__(self, tmp_path: Path, state: str, accounts: int,
                 plugins: dict[str, Any] | None = None) -> None:
        self.tmp_path = tmp_path
        self.sandboxes = {f"commune{i:02d}": SandboxInstance(heartbeat_interval=0.5).start()
                          for i in range(accounts)}
        site = tmp_path / "site"
        site.mkdir()
        _install_echo_plugin(site)
        #: Where the echo plugin notes the slow mentions it handles (``<pid>-<status id>``).
        self.marks = tmp_path / "marks"
        self.marks.mkdir()
        self.env = {**os.environ, "CLUSTER_MARKS": str(self.marks), "PYTHONPATH": os.pathsep.join(
            [str(site), *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.config = tmp_path / "civicbot.yaml"
        data: dict[str, Any] = {
            "state": state, "stream": FAST_STREAM, "log": {"format": "json"},
            "cluster": {"lease_ttl": f"{LEASE_TTL}s"},
            "accounts": [{"name": name, "mastodon": {"api_base_url": sb.url,
                                                     "access_token": sb.access_token}}
                         for name, sb in self.sandboxes.items()],
            "plugins": plugins or {}}
        self.config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def spawn(self) -> subprocess.Popen[bytes]:
        log = self.tmp_path / f"daemon{len(self.procs)}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "civicbot", "--log-format", "json", "run", "--config",
             str(self.config)], env=self.env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
        self.procs.append(proc)
        self.logs.append(log)
        return proc

    def owners(self) -> dict[str, str | None]:
        """Account -> pid holding a live lease (``None`` when free or expired)."""
        import psycopg

        with psycopg.connect(self.state_url) as conn:
            if conn.execute("SELECT to_regclass('leases')").fetchone() == (None,):
                return {}
            rows = conn.execute("SELECT account, pid, expires_at > now() FROM leases").fetchall()
        return {a: (str(pid) if live else None) for a, pid, live in rows}

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for sandbox in self.sandboxes.values():
            sandbox.stop()

    def log_tail(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.logs)

    state_url = ""


@pytest.fixture
def cluster_factory(civicbot_postgres_url: str, tmp_path: Path) -> Iterator[Any]:
    made: list[Cluster] = []

    def make(accounts: int, plugins: dict[str, Any] | None = None) -> Cluster:
        cluster = Cluster(tmp_path, civicbot_postgres_url, accounts, plugins)
        cluster.state_url = civicbot_postgres_url
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()


def _held_by(owners: dict[str, str | None], pid: int) -> list[str]:
    return sorted(a for a, p in owners.items() if p == str(pid))


def _reply_posts(sandbox: SandboxInstance) -> Counter[str]:
    """How many times each reply key was POSTed (the sandbox answers repeats from its cache)."""
    return Counter(r.headers.get("Idempotency-Key", "") for r in list(sandbox.requests)
                   if r.method == "POST" and r.path == "/api/v1/statuses")


class Mentions:
    """Residents mention every account, round after round, until stopped."""

    def __init__(self, sandboxes: dict[str, SandboxInstance], pause: float = 2.0) -> None:
        self.sandboxes, self.pause = sandboxes, pause
        self.sent: dict[str, list[str]] = {name: [] for name in sandboxes}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            for name, sandbox in self.sandboxes.items():
                note = sandbox.inject_mention(f"@bot question {n} pour {name}")
                self.sent[name].append(str(note["status"]["id"]))
            self._stop.wait(self.pause)

    def one_round(self) -> dict[str, str]:
        """Mention every account once more; return the status id per account."""
        out = {}
        for name, sandbox in self.sandboxes.items():
            note = sandbox.inject_mention(f"@bot contrôle pour {name}")
            out[name] = str(note["status"]["id"])
            self.sent[name].append(out[name])
        return out

    def __enter__(self) -> Mentions:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _answered(cluster: Cluster, ids: dict[str, str]) -> bool:
    return all(replies_to(cluster.sandboxes[name]).get(sid, 0) >= 1 for name, sid in ids.items())


def test_three_daemons_share_thirty_accounts_and_take_over_a_killed_one(cluster_factory: Any):
    cluster: Cluster = cluster_factory(30)
    daemons = [cluster.spawn() for _ in range(3)]
    try:
        wait_until(lambda: all(len(_held_by(cluster.owners(), d.pid)) == 10 for d in daemons),
                   60, "three daemons holding ten accounts each")
    except TimeoutError as exc:
        raise AssertionError(f"{cluster.owners()}\n{cluster.log_tail()}") from exc
    with Mentions(cluster.sandboxes) as mentions:
        time.sleep(1.5)
        victim = daemons[0]
        lost = _held_by(cluster.owners(), victim.pid)
        victim.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        victim.wait()
        # served again (a mention answered on every account) within lease_ttl + 10 s of the kill
        deadline = killed_at + LEASE_TTL + 10

        def served_again() -> bool:
            owners = cluster.owners()
            return all(owners.get(a) not in (None, str(victim.pid)) for a in lost)

        wait_until(served_again, deadline - time.monotonic(),
                   "the killed daemon's accounts taken over")
        probe = mentions.one_round()
        try:
            wait_until(lambda: _answered(cluster, probe), max(0.0, deadline - time.monotonic()),
                       "every account answering again")
        except TimeoutError as exc:
            silent = sorted(n for n, sid in probe.items()
                            if not replies_to(cluster.sandboxes[n]).get(sid))
            raise AssertionError(f"not answering {time.monotonic() - killed_at:.1f} s after "
                                 f"the kill (lease_ttl {LEASE_TTL} s): {silent}; leases "
                                 f"{cluster.owners()}\n{cluster.log_tail()}") from exc
        owners = cluster.owners()
        assert sorted(len(_held_by(owners, d.pid)) for d in daemons[1:]) == [15, 15]
        # a fourth daemon joins and takes its share from the others
        fourth = cluster.spawn()
        wait_until(lambda: len(_held_by(cluster.owners(), fourth.pid)) == 10, 30,
                   "the fourth daemon taking its share")
        probe = mentions.one_round()
        wait_until(lambda: _answered(cluster, probe), 20, "every account answering after join")
    # every mention answered, exactly once
    def all_answered() -> bool:
        return all(replies_to(cluster.sandboxes[n]).get(sid, 0) >= 1
                   for n, ids in mentions.sent.items() for sid in ids)

    try:
        wait_until(all_answered, 30, "every mention answered")
    except TimeoutError as exc:
        raise AssertionError(cluster.log_tail()) from exc
    for name, ids in mentions.sent.items():
        counts = replies_to(cluster.sandboxes[name])
        assert {sid: counts.get(sid, 0) for sid in ids} == {sid: 1 for sid in ids}, name
    assert cluster.owners() and all(cluster.owners().values())


def test_a_daemon_frozen_past_its_lease_publishes_nothing_when_it_wakes(cluster_factory: Any):
    """Frozen (SIGSTOP) in the middle of answering a mention, for longer than its lease: the
    new owner answers it; once resumed, the zombie's handler goes on and tries to post its own
    reply (its own dedup key: no shared record stops it, only fencing does), and mentions
    buffered in its open streams reach it too. Nothing of it reaches the instance."""
    cluster: Cluster = cluster_factory(4)
    first = cluster.spawn()
    wait_until(lambda: len(_held_by(cluster.owners(), first.pid)) == 4, 30, "first daemon")
    second = cluster.spawn()
    wait_until(lambda: len(_held_by(cluster.owners(), second.pid)) == 2, 30, "rebalance")
    frozen = _held_by(cluster.owners(), first.pid)
    slow = {name: str(cluster.sandboxes[name].inject_mention("@bot répondez lentement")
                      ["status"]["id"]) for name in frozen}

    def mark(pid: int, name: str, suffix: str = "") -> Path:
        return cluster.marks / f"{pid}-{slow[name]}{suffix}"

    wait_until(lambda: all(mark(first.pid, n).exists() for n in frozen), 20,
               "the first daemon answering the slow mentions")
    first.send_signal(signal.SIGSTOP)  # with a reply to each slow mention in hand
    assert not any(mark(first.pid, n, "-done").exists() for n in frozen)
    # mentions reach the frozen daemon's open streams (kernel buffers) and the new owner alike
    early = {name: str(cluster.sandboxes[name].inject_mention("@bot avant reprise")["status"]
                       ["id"]) for name in frozen}
    wait_until(lambda: all(o == str(second.pid) for o in cluster.owners().values()),
               LEASE_TTL + 10, "the frozen daemon's accounts taken over")
    wait_until(lambda: _answered(cluster, early) and _answered(cluster, slow), 20,
               "answers from the new owner")
    first.send_signal(signal.SIGCONT)
    # the zombie's handlers wake up past their sleep and try to reply: fencing refuses it
    wait_until(lambda: all(mark(first.pid, n, "-done").exists() for n in frozen), 10,
               "the zombie's handlers going on after the freeze")

    def zombie_posts() -> list[str]:
        return [s["content"] for n in frozen for s in list(cluster.sandboxes[n].statuses)
                if f"Répondu par {first.pid}" in s["content"]]

    def refused() -> bool:
        return "no longer holds the lease" in cluster.logs[0].read_text()

    wait_until(lambda: refused() or bool(zombie_posts()), 10, "the zombie's reply attempt")
    time.sleep(1.0)  # room for a request that fencing would have let through
    assert zombie_posts() == [], "the zombie posted after losing its leases"
    assert refused()
    for name in frozen:
        texts = [s["content"] for s in list(cluster.sandboxes[name].statuses)]
        assert sum(f"Répondu par {second.pid}" in t for t in texts) == 1, (name, texts)
        posts = _reply_posts(cluster.sandboxes[name])
        assert posts == Counter({f"reply:{early[name]}": 1,
                                 f"reply:{slow[name]}:{second.pid}": 1}), (name, posts)
        assert replies_to(cluster.sandboxes[name]) == {early[name]: 1, slow[name]: 1}
    # and it takes its share again, as a fresh owner (new epochs)
    wait_until(lambda: len(_held_by(cluster.owners(), first.pid)) == 2, 20, "first back")


def test_a_post_due_during_a_takeover_is_published_once(cluster_factory: Any):
    due = datetime.now(UTC) + timedelta(seconds=25)
    text = "Collecte des sapins de Noël samedi matin"
    cluster: Cluster = cluster_factory(4, {"scheduled_posts": {"posts": [
        {"id": "sapins", "at": due.isoformat(), "text": text}]}})
    first = cluster.spawn()
    wait_until(lambda: len(_held_by(cluster.owners(), first.pid)) == 4, 30, "first daemon")
    second = cluster.spawn()
    wait_until(lambda: len(_held_by(cluster.owners(), second.pid)) == 2, 30, "rebalance")
    lost = _held_by(cluster.owners(), first.pid)
    wait = (due - datetime.now(UTC)).total_seconds() - 1.0
    assert wait > 0, "the daemons took too long to start for this test's schedule"
    time.sleep(wait)
    first.send_signal(signal.SIGKILL)  # one second before the post is due
    first.wait()
    wait_until(lambda: all(o == str(second.pid) for o in cluster.owners().values()),
               LEASE_TTL + 10, "the killed daemon's accounts taken over")

    def published(name: str) -> int:
        return sum(text in s["content"] for s in list(cluster.sandboxes[name].statuses))

    try:
        wait_until(lambda: all(published(n) >= 1 for n in cluster.sandboxes), 20,
                   "the due post published on every account")
    except TimeoutError as exc:
        raise AssertionError(cluster.log_tail()) from exc
    time.sleep(LEASE_TTL)  # room for a duplicate to show up
    for name in cluster.sandboxes:
        assert published(name) == 1, name
        posts = _reply_posts(cluster.sandboxes[name])
        assert sum(n for key, n in posts.items() if key.startswith("scheduled_posts:sapins")) \
            == 1, (name, posts)
    assert lost


def test_a_second_daemon_on_one_sqlite_file_is_refused(tmp_path: Path):
    with SandboxInstance() as sandbox:
        config = tmp_path / "civicbot.yaml"
        config.write_text(yaml.safe_dump({
            "mastodon": {"api_base_url": sandbox.url, "access_token": sandbox.access_token},
            "state": "state.sqlite3", "stream": FAST_STREAM}), encoding="utf-8")
        command = [sys.executable, "-m", "civicbot", "--log-format", "json", "run",
                   "--config", str(config)]
        first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            sandbox.wait_for_stream(20)
            second = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                    check=False)
            assert second.returncode == 1
            assert str(tmp_path / "state.sqlite3") in second.stderr
            assert f"pid {first.pid} on host" in second.stderr
            assert first.poll() is None
        finally:
            first.terminate()
            first.wait(20)
