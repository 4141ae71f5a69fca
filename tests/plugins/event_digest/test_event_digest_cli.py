"""``civicbot preview <digest> --json`` shows the thread that would be posted that Monday."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from event_digest_support import EXAMPLES, FIXTURES, WEEK_PART_1, WEEK_PART_2, WEEK_PART_3

from civicbot.cli import main

CONFIG = f"""
mastodon:
  api_base_url: sandbox
timezone: Europe/Paris
state: state.sqlite3
plugins:
  event_digest:
    hashtags: [AgendaBlois]
    sources:
      - {{name: Ville, ics: {EXAMPLES / "ville.ics"}}}
      - {{name: Bibliothèque, label: de la Bibliothèque, ics: agendas/bibliotheque.ics}}
      - {{name: Musée, jsonld: {FIXTURES / "jsonld_musee_graph.html"}}}
      - {{name: Maison de la BD, jsonld: {FIXTURES / "jsonld_maison_bd_itemlist.html"}}}
    digests:
      - {{id: semaine, cron: "0 8 * * 1", window: this_week}}
      - {{id: weekend, cron: "0 17 * * 5", window: weekend}}
    empty: skip
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    (tmp_path / "agendas").mkdir()
    # a relative path is read from the config file's folder
    (tmp_path / "agendas" / "bibliotheque.ics").write_bytes(
        (EXAMPLES / "bibliotheque.ics").read_bytes())
    path = tmp_path / "civicbot.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_preview_json_prints_the_monday_thread(config_file: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["preview", "semaine", "--config", str(config_file),
                 "--at", "2026-12-07T08:00+01:00", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    posts = [json.loads(line) for line in out.splitlines()]
    assert [p["text"] for p in posts] == [WEEK_PART_1, WEEK_PART_2, WEEK_PART_3]
    assert [p["in_reply_to"] for p in posts] == [None, "previous", "previous"]
    for post in posts:
        assert (post["visibility"], post["spoiler_text"], post["language"], post["media"]) == (
            "public", "", "fr", [])


def test_preview_exits_1_when_every_source_fails(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "civicbot.yaml"
    path.write_text("mastodon: {api_base_url: sandbox}\nplugins:\n  event_digest:\n"
                    "    sources: [{name: Ville, ics: absent.ics}]\n"
                    "    digests: [{id: semaine, cron: '0 8 * * 1'}]\n", encoding="utf-8")
    code = main(["preview", "semaine", "--config", str(path), "--at", "2026-12-07T08:00+01:00",
                 "--json"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "error: digest 'semaine': every source failed (Ville); nothing posted" in captured.err


def test_check_config_reports_plugin_errors_with_the_key(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    path = tmp_path / "civicbot.yaml"
    path.write_text("mastodon: {api_base_url: sandbox}\nplugins:\n  event_digest:\n"
                    "    sources: [{name: Ville, ics: a.ics, jsonld: b.html}]\n"
                    "    digests: [{id: semaine, cron: '0 8 * *'}]\n", encoding="utf-8")
    code = main(["check-config", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "give exactly one of ics, openagenda or jsonld (got ics, jsonld)" in err
    assert "expected 5 fields (minute hour day month weekday)" in err
