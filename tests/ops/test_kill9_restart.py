"""``kill -9`` of a real ``civicbot run`` process, then a restart: every mention answered once.

The daemon runs in a subprocess (``python -m civicbot run --config ... --http ...``) against a
sandbox in the test process. Its only plugin is a tiny echo plugin, installed for the child
through a real ``civicbot`` entry point (a ``.dist-info`` folder on the child's PYTHONPATH).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from ops_support import FAST_STREAM, http_json, replies_to, wait_until

from civicbot.testing import SandboxInstance

PLUGIN = '''
from civicbot import hookimpl, html_to_text


@hookimpl
def civicbot_on_mention(bot, status, notification):
    bot.reply(status, "Reçu : " + html_to_text(status["content"], drop_mentions=True))
'''


def _install_echo_plugin(where: Path) -> None:
    (where / "ops_echo_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = where / "ops_echo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ops-echo-plugin\nVersion: 0.1\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text("[civicbot]\nops_echo = ops_echo_plugin\n",
                                           encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(cfg: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "civicbot", "--log-format", "json", "run", "--config", str(cfg),
         "--http", f"127.0.0.1:{port}"],
        env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    last: list[object] = []

    def healthy() -> bool:
        assert proc.poll() is None, log.read_text()
        try:
            last[:] = [http_json(f"http://127.0.0.1:{port}/healthz")]
        except OSError as exc:
            last[:] = [exc]
            return False
        return last[0][0] == 200  # type: ignore[index]

    try:
        wait_until(healthy, 20, "the child daemon to be healthy")
    except TimeoutError as exc:
        raise AssertionError(f"{last}\n{log.read_text()[-4000:]}") from exc


def test_kill9_and_restart_answers_every_mention_exactly_once(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _install_echo_plugin(site)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(site), *filter(None, [os.environ.get("PYTHONPATH")])])}
    log = tmp_path / "child.log"
    total = 60
    with SandboxInstance(heartbeat_interval=0.2) as sandbox:
        cfg = tmp_path / "cfg.yaml"
        stream = "\n".join(f"  {k}: {v}" for k, v in FAST_STREAM.items())
        cfg.write_text(
            f"mastodon:\n  api_base_url: {sandbox.url}\n  access_token: {sandbox.access_token}\n"
            f"state: state.sqlite3\nstream:\n{stream}\n"
            # only the echo plugin: the first-party ones are tested elsewhere
            "disable_plugins: [scheduled_posts, event_digest, weather, auto_reply]\n",
            encoding="utf-8")
        port = _free_port()
        first = _spawn(cfg, port, env, log)
        try:
            _wait_healthy(port, first, log)
            mentions: list[dict[str, object]] = []

            def inject() -> None:
                for i in range(total):
                    mentions.append(sandbox.inject_mention(f"question {i}", acct=f"r{i}@ex.org"))
                    time.sleep(0.02)

            injector = threading.Thread(target=inject)
            injector.start()
            # kill -9 in the middle of the flow: some answered, some in flight, some not seen
            wait_until(lambda: len(sandbox.statuses) >= total // 3, 20, "first answers")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            answered_before = len(sandbox.statuses)
            assert answered_before < total
        finally:
            if first.poll() is None:
                first.kill()
        second = _spawn(cfg, port, env, log)
        try:
            injector.join(30)
            _wait_healthy(port, second, log)
            try:
                wait_until(lambda: len(sandbox.statuses) >= total, 30, "every answer")
            except TimeoutError as exc:
                raise AssertionError(log.read_text()[-4000:]) from exc
            time.sleep(0.3)  # a duplicate would arrive now
            second.send_signal(signal.SIGTERM)
            assert second.wait(20) == 0, log.read_text()[-3000:]
        finally:
            if second.poll() is None:
                second.kill()
        counts = replies_to(sandbox)
        expected = {str(m["status"]["id"]) for m in mentions}  # type: ignore[index]
        assert set(counts) == expected
        assert all(n == 1 for n in counts.values()), counts
        assert len(sandbox.statuses) == total
        texts = sorted(s["content"] for s in sandbox.statuses)
        assert all("Reçu : question " in t for t in texts)
        assert 0 < answered_before < total
