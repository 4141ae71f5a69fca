"""Split a text that is too long into a numbered thread, at word boundaries."""

from __future__ import annotations

import re
from collections.abc import Callable

from civicbot.text import mastodon_length

Length = Callable[[str], int]


def split_text(text: str, limit: int, length: Length = mastodon_length) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters, each ending with `` i/n``.
    Paragraphs and lines are kept together when they fit; a word is never cut unless it alone
    exceeds the limit. ``length`` counts as the network does (Mastodon's count by default;
    Bluesky counts graphemes).
    """
    if length(text) <= limit:
        return [text]
    guess = 2
    while True:
        suffix_len = len(f"\n{guess}/{guess}")
        budget = limit - suffix_len
        if budget < 20:
            raise ValueError(f"a limit of {limit} characters is too small to split a thread")
        chunks = _pack(text, budget, length)
        if len(chunks) <= guess or len(str(len(chunks))) == len(str(guess)):
            total = len(chunks)
            return [f"{chunk}\n{i}/{total}" for i, chunk in enumerate(chunks, 1)]
        guess = len(chunks)


def _pack(text: str, budget: int, length: Length) -> list[str]:
    """Fill parts line by line (a list or a paragraph is never cut in the middle of a line
    when it fits); a line longer than a part is packed word by word."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if length(candidate.rstrip()) <= budget:
            current = candidate
            continue
        if current.strip():
            chunks.append(current.rstrip())
            current = ""
        if length(line) <= budget:
            current = line
            continue
        words = _pack_words(line, budget, length)
        chunks.extend(words[:-1])
        current = words[-1] if words else ""
    if current.strip():
        chunks.append(current.rstrip())
    return [chunk.strip("\n") for chunk in chunks]


def _pack_words(text: str, budget: int, length: Length) -> list[str]:
    chunks: list[str] = []
    current = ""
    for token in [t for t in re.split(r"(\s+)", text) if t]:
        if token.isspace():
            if current:
                current += token
            continue
        candidate = current + token
        if length(candidate.rstrip()) <= budget:
            current = candidate
            continue
        if current.strip():
            chunks.append(current.rstrip())
        while length(token) > budget:  # a single enormous word
            chunks.append(token[:budget])
            token = token[budget:]
        current = token
    if current.strip():
        chunks.append(current.rstrip())
    return chunks
