"""Split a text that is too long into a numbered thread, at word boundaries."""

from __future__ import annotations

import re

from civicbot.text import mastodon_length


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters (as Mastodon counts them), each
    ending with `` i/n``. Paragraphs and lines are kept together when they fit; a word is never
    cut unless it alone exceeds the limit.
    """
    if mastodon_length(text) <= limit:
        return [text]
    guess = 2
    while True:
        suffix_len = len(f"\n{guess}/{guess}")
        budget = limit - suffix_len
        if budget < 20:
            raise ValueError(f"a limit of {limit} characters is too small to split a thread")
        chunks = _pack(text, budget)
        if len(chunks) <= guess or len(str(len(chunks))) == len(str(guess)):
            total = len(chunks)
            return [f"{chunk}\n{i}/{total}" for i, chunk in enumerate(chunks, 1)]
        guess = len(chunks)


def _tokens(text: str) -> list[str]:
    # keep the separators so that line breaks survive the split
    return [t for t in re.split(r"(\s+)", text) if t]


def _pack(text: str, budget: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for token in _tokens(text):
        if token.isspace():
            if current:
                current += token
            continue
        candidate = current + token
        if mastodon_length(candidate.rstrip()) <= budget:
            current = candidate
            continue
        if current.strip():
            chunks.append(current.rstrip())
        while mastodon_length(token) > budget:  # a single enormous word
            chunks.append(token[:budget])
            token = token[budget:]
        current = token
    if current.strip():
        chunks.append(current.rstrip())
    return chunks
