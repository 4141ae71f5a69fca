"""``civicbot preview <feed> --json`` and ``check-config`` for the news plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from news_support import FIXTURES

from civicbot.cli import main


def _config(tmp_path: Path, feed: str) -> Path:
    path = tmp_path / "civicbot.yaml"
    path.write_text("mastodon: {api_base_url: sandbox}\ntimezone: Europe/Paris\n"
                    "state: state.sqlite3\nlanguage: fr\nplugins:\n  news:\n    feeds:\n"
                    f"      - {feed}\n", encoding="utf-8")
    return path


def test_preview_json_shows_what_the_next_read_posts_and_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = FIXTURES / "musee_atom.xml"
    path = _config(tmp_path, f"{{id: musee, url: {feed}, backfill: 1, images: none}}")
    outputs = []
    for _ in range(2):
        assert main(["preview", "musee", "--config", str(path), "--json"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    [post] = [json.loads(line) for line in outputs[0].splitlines()]
    assert post["text"] == (
        "📰 « Trésors d’hiver » : l’exposition ouvre ses portes\n\n"
        "Quarante œuvres rarement montrées, de l’orfèvrerie médiévale aux estampes japonaises. "
        "Visites guidées le samedi à 15 h.\n\n"
        "👉 https://musee.vendome-exemple.fr/blog/tresors-hiver")
    assert (post["language"], post["visibility"]) == ("fr", "public")


def test_preview_of_a_broken_feed_exits_1(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<html><body>Maintenance</body></html>", encoding="utf-8")
    path = _config(tmp_path, f"{{id: actus, url: {broken}}}")
    assert main(["preview", "actus", "--config", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "news feed actus: not an RSS or Atom feed" in captured.err


@pytest.mark.parametrize(("feed", "message"), [
    ("{id: actus, url: www.ville.fr/feed}", "expected an http(s) URL"),
    ("{id: actus, url: 'https://ville.fr/feed', every: 1s}", "at most every 5s"),
    ("{id: actus, url: 'https://ville.fr/feed', templates: {post: '{{ title }'}}",
     "template error"),
    ("{id: actus, url: 'https://ville.fr/feed', hashtags: ['!!']}", "no letters"),
])
def test_check_config_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    feed: str, message: str) -> None:
    path = _config(tmp_path, feed)
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "plugins.news.feeds" in err and message in err
