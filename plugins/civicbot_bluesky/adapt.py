"""Mastodon drafts as Bluesky posts: 300 graphemes a post (the same splitting rules as Mastodon,
numbered), links shortened in the text and whole in their facet, hashtags as tag facets, the
content warning as a first line (Bluesky has none), images with their alt text, language tags.
Facet offsets are UTF-8 byte offsets, as the AT Protocol counts them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from civicbot import PostDraft, split_text

#: Bluesky's limit: 300 graphemes per post.
LIMIT = 300
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]}'’»]")
_TAG = re.compile(r"(?<![\w#])#([^\s#.,;:!?()\[\]{}'\"«»]+)")
_GRAPHEME: Any = None


def graphemes(text: str) -> int:
    """The number of grapheme clusters (what a reader sees as one character)."""
    global _GRAPHEME
    if _GRAPHEME is None:
        import regex

        _GRAPHEME = regex.compile(r"\X")
    return len(_GRAPHEME.findall(text))


def short_link(url: str, length: int) -> str:
    """``https://www.ville.fr/actualites/travaux`` → ``ville.fr/actualites/travau…``."""
    shown = re.sub(r"^https?://(www\.)?", "", url)
    return shown if len(shown) <= length else shown[: length - 1] + "…"


def _byte_span(text: str, start: int, end: int) -> tuple[int, int]:
    return len(text[:start].encode("utf-8")), len(text[:end].encode("utf-8"))


def facets(text: str, links: dict[str, str]) -> list[dict[str, Any]]:
    """Link facets (for the shortened forms in ``links``) and tag facets of ``text``."""
    found: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []
    for shown, url in links.items():
        for match in re.finditer(re.escape(shown), text):
            start, end = match.span()
            if any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            first, last = _byte_span(text, start, end)
            found.append({"index": {"byteStart": first, "byteEnd": last}, "features": [
                {"$type": "app.bsky.richtext.facet#link", "uri": url}]})
    for match in _TAG.finditer(text):
        start, end = match.span()
        if any(s < end and start < e for s, e in taken):
            continue
        first, last = _byte_span(text, start, end)
        found.append({"index": {"byteStart": first, "byteEnd": last}, "features": [
            {"$type": "app.bsky.richtext.facet#tag", "tag": match.group(1)}]})
    return sorted(found, key=lambda f: int(f["index"]["byteStart"]))


def shorten_links(text: str, length: int) -> tuple[str, dict[str, str]]:
    """``text`` with its links shortened, and each shortened form's full address."""
    links: dict[str, str] = {}

    def shorten(match: re.Match[str]) -> str:
        url = match.group(0)
        shown = short_link(url, length)
        if links.get(shown, url) != url:  # two links shown alike: the second stays whole
            shown = url
        links[shown] = url
        return shown

    return _URL.sub(shorten, text), links


def adapt_drafts(drafts: Sequence[PostDraft], *, language: str, link_length: int = 30,
                 link_cards: bool = True) -> list[dict[str, Any]]:
    """The Bluesky posts of a draft or a thread, in order (JSON-serialisable)."""
    posts: list[dict[str, Any]] = []
    for draft in drafts:
        text = draft.text
        if draft.spoiler_text:
            text = f"⚠️ {draft.spoiler_text}\n\n{text}"
        shown_text, links = shorten_links(text, link_length)
        parts = split_text(shown_text, LIMIT, graphemes)
        lang = draft.language or language
        for i, part in enumerate(parts):
            post: dict[str, Any] = {"text": part, "facets": facets(part, links),
                                    "langs": [lang] if lang else []}
            if i == 0 and draft.media:
                post["images"] = [{"path": str(m.path), "alt": m.description}
                                  for m in draft.media[:4]]
            part_links = [url for shown, url in links.items() if shown in part]
            if link_cards and i == 0 and not draft.media and part_links:
                first_line = next((line for line in part.splitlines() if line.strip()), "")
                title = _URL.sub("", first_line).strip() or short_link(part_links[0], 60)
                post["card"] = {"uri": part_links[0], "title": title[:300], "description": ""}
            posts.append(post)
    return posts
