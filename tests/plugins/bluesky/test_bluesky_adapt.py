"""Adapting Mastodon drafts for Bluesky, without a PDS."""

from __future__ import annotations

from pathlib import Path

from civicbot import Media, PostDraft
from civicbot_bluesky.adapt import LIMIT, adapt_drafts, graphemes, short_link


def test_graphemes_count_what_a_reader_sees():
    assert graphemes("école") == 5
    assert graphemes("e\u0301cole") == 5             # a decomposed accent is one grapheme
    assert graphemes("👨‍👩‍👧‍👦") == 1                 # a family emoji is one grapheme
    assert len("👨‍👩‍👧‍👦") == 7


def test_long_text_is_split_by_graphemes_and_numbered():
    text = "\n".join(f"• {n} h · Animation « Noël à Blois » 🎄 place Louis-XII" for n in range(40))
    posts = adapt_drafts([PostDraft(text=text, dedup_key="k")], language="fr")
    assert len(posts) > 1
    assert all(graphemes(p["text"]) <= LIMIT for p in posts)
    assert [p["text"].rsplit("\n", 1)[1] for p in posts] == [
        f"{i}/{len(posts)}" for i in range(1, len(posts) + 1)]
    assert all(p["langs"] == ["fr"] for p in posts)


def test_links_are_shortened_in_the_text_and_whole_in_the_facet():
    url = "https://www.ville-exemple.fr/actualites/travaux-rue-saint-martin?utm_source=m"
    [post] = adapt_drafts([PostDraft(text=f"Travaux à l'église 🚧 : {url} #VilleDeBlois",
                                     dedup_key="k")], language="fr")
    shown = short_link(url, 30)
    assert shown == "ville-exemple.fr/actualites/t…"
    assert post["text"] == f"Travaux à l'église 🚧 : {shown} #VilleDeBlois"
    data = post["text"].encode("utf-8")
    link, tag = post["facets"]
    assert data[link["index"]["byteStart"]:link["index"]["byteEnd"]].decode() == shown
    assert link["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": url}]
    assert data[tag["index"]["byteStart"]:tag["index"]["byteEnd"]].decode() == "#VilleDeBlois"
    assert tag["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "VilleDeBlois"}]
    assert post["card"]["uri"] == url


def test_content_warning_becomes_a_first_line_and_images_keep_their_alt(tmp_path: Path):
    image = tmp_path / "carte.png"
    image.write_bytes(b"png")
    [post] = adapt_drafts([PostDraft(text="Vents violents attendus.", dedup_key="k",
                                     spoiler_text="Vigilance orange vent",
                                     media=[Media(image, "Carte de la vigilance")])],
                          language="fr")
    assert post["text"] == "⚠️ Vigilance orange vent\n\nVents violents attendus."
    assert post["images"] == [{"path": str(image), "alt": "Carte de la vigilance"}]
    assert "card" not in post
