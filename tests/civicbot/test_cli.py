"""The civicbot command: contracts with users (exit codes, key and line, JSON preview)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from civicbot import __version__
from civicbot.cli import main
from civicbot.demo import run_demo

ROOT = Path(__file__).resolve().parents[2]


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"civicbot {__version__}"


def test_check_config_example_passes():
    result = subprocess.run([sys.executable, "-m", "civicbot", "check-config",
                             str(ROOT / "config.example.yaml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_check_config_misspelled_key_and_wrong_type_exit_2(tmp_path: Path):
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text("mastodon:\n  api_base_url: sandbox\nlangauge: fr\n"
                   "stream:\n  queue_size: beaucoup\n")
    result = subprocess.run([sys.executable, "-m", "civicbot", "check-config", str(cfg)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert f"{cfg}:3: langauge: unknown key (check its spelling)" in result.stderr
    assert f"{cfg}:5: stream.queue_size: expected a whole number" in result.stderr


class TwoJobs:
    pass


def test_check_config_duplicate_job_id_across_plugins(tmp_path: Path, capsys):
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text(
        "mastodon:\n  api_base_url: sandbox\n"
        "plugins:\n"
        "  scheduled_posts:\n    posts:\n      - id: semaine\n        cron: '0 8 * * 1'\n"
        "        text: Bonne semaine\n"
        "  event_digest:\n    sources:\n      - {name: Ville, ics: agenda.ics}\n"
        "    digests:\n      - {id: semaine, cron: '0 8 * * 1', window: this_week}\n")
    (tmp_path / "agenda.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    assert main(["check-config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "job id 'semaine' registered twice" in err
    assert f"{cfg}:6: plugins.scheduled_posts.posts[0].id" in err
    assert f"{cfg}:13: plugins.event_digest.digests[0].id" in err


def test_plugins_lists_builtins_and_first_party(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for name in ("core.pending", "scheduled_posts", "event_digest", "weather", "auto_reply"):
        assert name in out
    assert "civicbot_register_jobs" in out


def test_jobs_preview_json_and_run_job(tmp_path: Path, capsys):
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text(
        "mastodon:\n  api_base_url: sandbox\n"
        "plugins:\n  scheduled_posts:\n    posts:\n"
        "      - id: lundi\n        cron: '0 9 * * 1'\n        visibility: unlisted\n"
        "        text: \"Bonne semaine ! Nous sommes le {{ date }}.\"\n"
        "        thread: [\"Agenda de la semaine : https://example.org/agenda\"]\n")
    assert main(["jobs", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "lundi\tscheduled_posts\tcron 0 9 * * 1\tnext: " in out
    assert main(["--log-format", "json", "preview", "lundi", "--config", str(cfg),
                 "--at", "2026-12-07T09:00+01:00", "--json"]) == 0
    captured = capsys.readouterr()
    posts = [json.loads(line) for line in captured.out.splitlines()]
    assert [p["in_reply_to"] for p in posts] == [None, "previous"]
    assert posts[0]["text"].startswith("Bonne semaine ! Nous sommes le")
    assert "7 décembre 2026" in posts[0]["text"]
    assert {p["visibility"] for p in posts} == {"unlisted"}
    assert {p["language"] for p in posts} == {"fr"}
    assert posts[0]["media"] == [] and posts[0]["spoiler_text"] == ""
    assert main(["preview", "nope", "--config", str(cfg)]) == 1
    assert "no job 'nope'" in capsys.readouterr().err


def test_demo_prints_posts_as_residents_read_them():
    out = io.StringIO()
    assert run_demo(duration=6, out=out) == 0
    text = out.getvalue()
    assert text.startswith("civicbot demo — a fake Mastodon instance")
    assert "╭─ @ville · " in text
    assert "↳ in reply to @" in text
    published = int(text.strip().splitlines()[-1].split()[0])
    assert published >= 3


def test_pause_and_resume_reach_a_running_bot(tmp_path: Path, civicbot_sandbox,
                                              civicbot_make_bot, capsys):
    from civicbot import PostDraft

    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text("mastodon:\n  api_base_url: sandbox\nstate: state.sqlite3\n")
    bot = civicbot_make_bot(state=tmp_path / "state.sqlite3")
    assert main(["pause", "--config", str(cfg)]) == 0
    assert "account default: paused" in capsys.readouterr().out
    [dropped] = bot.publish(PostDraft(text="Pendant la pause", dedup_key="p:1"))
    assert dropped.skipped == "paused"
    assert main(["resume", "--config", str(cfg)]) == 0
    [sent] = bot.publish(PostDraft(text="Après la pause", dedup_key="p:2"))
    assert sent.status_id is not None
    assert len(civicbot_sandbox.statuses) == 1
