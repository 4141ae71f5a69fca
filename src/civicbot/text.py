"""Text helpers shared by plugins: Mastodon's character count, HTML to plain text, hashtags."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\w", re.UNICODE)

#: Mastodon counts every link as 23 characters, whatever its length.
URL_LENGTH = 23


def mastodon_length(text: str) -> int:
    """Length of ``text`` as Mastodon counts it: links are 23 characters, ``@user@domain`` is
    ``@user``, and characters are code points."""
    counted = _URL.sub("x" * URL_LENGTH, text)
    counted = _MENTION.sub(lambda m: "@" + m.group(1), counted)
    return len(counted)


class _TextExtractor(HTMLParser):
    def __init__(self, drop_mentions: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.drop_mentions = drop_mentions
        self._skip_depth = 0
        self._stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        skip = self.drop_mentions and tag == "a" and (
            "mention" in classes.split() or "u-url" in classes.split()
        ) and "hashtag" not in classes.split()
        if tag == "a":
            self._stack.append(skip)
            if skip:
                self._skip_depth += 1
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._stack and self._stack.pop():
            self._skip_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(content: str, *, drop_mentions: bool = False) -> str:
    """Mastodon status HTML to plain text; ``drop_mentions`` removes ``@someone`` links."""
    parser = _TextExtractor(drop_mentions)
    parser.feed(content or "")
    parser.close()
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return html.unescape("\n".join(lines)).strip()


def camel_hashtag(words: str) -> str:
    """``"agenda blois"`` -> ``#AgendaBlois``: CamelCase hashtags are read correctly by screen
    readers. Accents are kept (Mastodon accepts them); punctuation is dropped."""
    text = words.lstrip("#")
    parts = re.split(r"[^\w]+|_", text, flags=re.UNICODE)
    out = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if not out:
        raise ValueError(f"no letters in hashtag {words!r}")
    return "#" + out
