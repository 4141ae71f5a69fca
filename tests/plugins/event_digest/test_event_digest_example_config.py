"""The shipped config.example.yaml previews its weekly digest offline (local sample feeds)."""

from __future__ import annotations

import json
from pathlib import Path

from civicbot.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_example_config_previews_the_monday_digest(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["--log-format", "json", "preview", "semaine", "--config",
                 str(ROOT / "config.example.yaml"), "--at", "2026-12-07T08:00+01:00", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    posts = [json.loads(line) for line in captured.out.splitlines()]
    assert posts[0]["text"].startswith("📅 Cette semaine (7 – 13 décembre)\n\nLundi 7 décembre\n")
    assert "n'a pas pu être chargé" not in "".join(p["text"] for p in posts)
    assert "Trésors de la Renaissance — Musée des Beaux-Arts" in posts[0]["text"]
    assert [p["in_reply_to"] for p in posts] == [None] + ["previous"] * (len(posts) - 1)
    assert posts[-1]["text"].endswith(f"#AgendaBlois\n\n{len(posts)}/{len(posts)}")
    assert {p["language"] for p in posts} == {"fr"}
