"""Thread splitting: numbered parts within the limit, lines and words kept whole."""

from __future__ import annotations

from civicbot.splitting import split_text
from civicbot.text import mastodon_length


def body(part: str) -> str:
    return part.rsplit("\n", 1)[0]


def test_short_text_is_one_part():
    assert split_text("Bonjour Blois", 500) == ["Bonjour Blois"]


def test_lines_of_a_list_are_never_cut():
    lines = [f"• service{i} : les horaires et l'adresse du service {i}" for i in range(30)]
    parts = split_text("\n".join(lines), 200)
    total = len(parts)
    assert total > 1
    for i, part in enumerate(parts, 1):
        assert part.endswith(f"\n{i}/{total}") and mastodon_length(part) <= 200
    rebuilt = [line for part in parts for line in body(part).split("\n")]
    assert rebuilt == lines


def test_words_are_never_cut_and_none_is_lost():
    words = [f"mot{i}" for i in range(400)]
    parts = split_text(" ".join(words), 120)
    assert " ".join(body(p) for p in parts).split() == words
    assert all(mastodon_length(p) <= 120 for p in parts)


def test_links_count_as_23_characters():
    text = " ".join(["https://example.org/" + "x" * 80] * 12)
    parts = split_text(text, 500)
    assert len(parts) == 1  # 12 links of 23 + spaces fit in 500 as Mastodon counts them


def test_numbering_width_change_is_accounted_for():
    text = " ".join(["abcdefghi"] * 600)
    parts = split_text(text, 100)
    assert len(parts) >= 10
    assert all(mastodon_length(p) <= 100 for p in parts)
    assert parts[-1].endswith(f"{len(parts)}/{len(parts)}")
