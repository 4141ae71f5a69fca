"""``civicbot pause`` / ``resume`` from another process leave a line in the daemon's log
(issue 12): the team sees in the journal when and how the bot was paused."""

from __future__ import annotations

from pathlib import Path

from ops_support import EchoPlugin, make_daemon, wait_until, write_config
from structlog.testing import capture_logs

from civicbot.cli import main


def test_pause_and_resume_from_the_cli_are_logged_by_the_daemon(tmp_path: Path,
                                                                civicbot_sandbox) -> None:
    cfg = write_config(tmp_path / "cfg.yaml", single=civicbot_sandbox)
    daemon = make_daemon(cfg, [EchoPlugin()])
    with capture_logs() as logs:
        daemon.start()
        try:
            assert daemon.wait_ready(10)
            assert main(["pause", "--config", str(cfg)]) == 0
            wait_until(lambda: any(e["event"] == "bot paused" for e in logs), 10,
                       "the daemon logs the pause")
            assert main(["resume", "--config", str(cfg)]) == 0
            wait_until(lambda: any(e["event"] == "bot resumed" for e in logs), 10,
                       "the daemon logs the resume")
        finally:
            daemon.stop()
    [paused] = [e for e in logs if e["event"] == "bot paused"]
    assert paused["by"] == "civicbot pause (command line)"
    assert paused["log_level"] == "warning"
    [resumed] = [e for e in logs if e["event"] == "bot resumed"]
    assert resumed["by"] == "civicbot resume (command line)"
