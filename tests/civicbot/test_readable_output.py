"""Output for people (issue 12): ``civicbot status`` says real values or "never connected",
the demo shows posts without log lines, boxes stay intact, plurals are written out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from civicbot import PostDraft
from civicbot.cli import main
from civicbot.demo import render, render_scheduled


def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text("mastodon:\n  api_base_url: sandbox\nstate: state.sqlite3\n")
    return cfg


def test_status_before_any_run_says_never_connected(tmp_path, capsys):
    assert main(["status", "--config", str(config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == [
        "account default: stream never connected (no run recorded)",
        "  no notification handled yet; posts sent 0, pending 0"]
    assert "None" not in out and "unknown" not in out


def test_status_after_a_run_shows_real_values(tmp_path, capsys, civicbot_sandbox,
                                              civicbot_make_bot):
    from civicbot import hookimpl

    class Echo:
        @hookimpl
        def civicbot_on_mention(self, bot, status):
            bot.reply(status, "Bien reçu")

    cfg = config(tmp_path)
    bot = civicbot_make_bot(plugins=[Echo()], state=tmp_path / "state.sqlite3")
    bot.start()
    bot.stream.wait_state({"connected"})
    bot.publish(PostDraft(text="Bonjour Vendôme", dedup_key="hello:1"))
    civicbot_sandbox.inject_mention("bonjour")
    civicbot_sandbox.wait_for_statuses(2)
    bot.stop()
    from civicbot.state import SQLiteStateStore

    store = SQLiteStateStore(tmp_path / "state.sqlite3")
    cursor = store.get_cursor("default", "notifications")
    store.close()
    assert cursor is not None
    assert main(["status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    first, server, second, *posts = out.splitlines()
    assert first.startswith("account default: stream stopped (sse) as of ")
    assert server.startswith("  server mastodon ") and "characters" in server
    assert "last event none yet" not in first and "last event 20" in first
    assert second == f"  cursor at notification {cursor}; posts sent 2, pending 0"
    assert any(line.endswith("hello:1") for line in posts)
    assert "None" not in out


def test_the_quoted_question_stays_on_one_line_of_the_box():
    question = {"id": "1", "account": {"acct": "camille@blois.social"},
                "content": "<p>Bonjour,</p><p>quels sont les horaires<br>de la mairie ?</p>"}
    reply = {"id": "2", "in_reply_to_id": "1", "account": {"acct": "ville"},
             "visibility": "public", "language": "fr", "content": "<p>De 9 h à 17 h.</p>"}
    sandbox = SimpleNamespace(statuses=[reply], notifications=[{"status": question}])
    box = render(reply, sandbox).splitlines()
    assert box == ["╭─ @ville · public · fr",
                   "│ ↳ in reply to @camille@blois.social: « Bonjour, quels sont les horaires "
                   "de la mairie ? »",
                   "│ De 9 h à 17 h.",
                   "╰─"]


def test_a_native_scheduled_post_has_its_box():
    box = render_scheduled({"id": "9", "scheduled_at": "2026-12-31T23:00:00.000Z",
                            "params": {"text": "Bonne année !", "visibility": "public",
                                       "language": "fr"}, "media_attachments": []})
    assert box.splitlines() == [
        "╭─ scheduled on the instance · for 2026-12-31T23:00:00.000Z · public · fr",
        "│ Bonne année !", "╰─"]


def test_the_demo_in_a_terminal_shows_no_log_line():
    result = subprocess.run([sys.executable, "-m", "civicbot", "--log-format", "console",
                             "demo", "--duration", "4"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("civicbot demo — a fake Mastodon instance")
    # every line is the header, what the server supports, a box line, a blank line or the
    # closing summary
    assert sum(line.startswith("server mastodon ") for line in lines) == 1
    for line in lines[1:-1]:
        assert line == "" or line[0] in "╭│╰" or line.startswith("server mastodon "), line
    assert "posts published" in lines[-1]
    assert "scheduled on the instance" in result.stdout
