"""``channels: [...]`` on scheduled posts (issue 20): in the config and in a post file's front
matter, applied to the job's drafts; ``civicbot preview --json`` shows every channel's posts,
Mastodon's first (the real Bluesky plugin adapts them: no network needed)."""

from __future__ import annotations

import json
from pathlib import Path

from civicbot.cli import main

CONFIG = """\
mastodon:
  api_base_url: sandbox
plugins:
  bluesky:
    handle: ville.bsky.social
    app_password: not-a-real-password
  scheduled_posts:
    posts_dir: posts
    posts:
      - id: travaux
        cron: '0 9 * * 1'
        spoiler_text: Travaux
        text: "Travaux rue Émile-Zola #Blois : https://www.blois.fr/actualites/travaux"
        thread: ["Déviation par le quai."]
        channels: [mastodon, bluesky]
      - id: mastodon-seul
        cron: '0 9 * * 1'
        text: "Rien que sur Mastodon."
"""


def preview(tmp_path: Path, job: str, capsys) -> list[dict[str, object]]:
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text(CONFIG, encoding="utf-8")
    (tmp_path / "posts").mkdir(exist_ok=True)
    assert main(["preview", job, "--config", str(cfg), "--at", "2026-12-07T09:00+01:00",
                 "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_preview_json_shows_mastodon_then_bluesky(tmp_path, capsys):
    posts = preview(tmp_path, "travaux", capsys)
    assert [p["channel"] for p in posts] == ["mastodon", "mastodon", "bluesky", "bluesky"]
    key = "scheduled_posts:travaux:2026-12-07T08:00:00+00:00"
    # Mastodon posts keep their shape
    assert posts[0] == {"channel": "mastodon", "text": "Travaux rue Émile-Zola #Blois : "
                        "https://www.blois.fr/actualites/travaux", "visibility": "public",
                        "spoiler_text": "Travaux", "language": "fr", "in_reply_to": None,
                        "media": [], "dedup_key": key, "scheduled_at": None}
    assert posts[1]["in_reply_to"] == "previous"
    # Bluesky: the CW as a first line, a tag and a link facet, the thread's dedup key
    first, second = posts[2], posts[3]
    assert str(first["text"]).startswith("⚠️ Travaux\n\nTravaux rue Émile-Zola #Blois : ")
    features = [f["features"][0]["$type"] for f in first["facets"]]  # type: ignore[index]
    assert features == ["app.bsky.richtext.facet#tag", "app.bsky.richtext.facet#link"]
    assert first["langs"] == ["fr"]
    assert second["text"] == "⚠️ Travaux\n\nDéviation par le quai."
    assert {first["dedup_key"], second["dedup_key"]} == {key}


def test_a_post_without_channels_follows_the_top_level_default(tmp_path, capsys):
    posts = preview(tmp_path, "mastodon-seul", capsys)
    assert [p["channel"] for p in posts] == ["mastodon"]


def test_post_file_front_matter_channels(tmp_path, capsys):
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "noel.md").write_text(
        "---\nid: noel\nat: 2026-12-24T09:00:00+01:00\nchannels: [bluesky]\n---\n"
        "Joyeux Noël !\n", encoding="utf-8")
    posts = preview(tmp_path, "noel", capsys)
    assert [(p["channel"], p["text"]) for p in posts] == [("bluesky", "Joyeux Noël !")]
