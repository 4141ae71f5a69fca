"""Turning what residents wrote into safe, bounded plain text.

Nothing a resident wrote reaches a reply unfiltered: display names and matched words lose their
HTML, their links, their ``@`` and ``#`` (so the bot never mentions a third party nor posts into a
hashtag because of a crafted display name) and are cut to a few dozen characters.
"""

from __future__ import annotations

import re
import unicodedata

from civicbot import html_to_text

#: How much of a mention is looked at (commands, keywords, regular expressions).
MAX_SCAN = 1000
#: How much of a mention's HTML is read at all, and how much of its text is cleaned: a server
#: with a high post limit can deliver 100,000 characters, cut before any other work.
MAX_HTML = 20 * MAX_SCAN
MAX_CLEAN = 4 * MAX_SCAN
#: Caps of the values templates can echo.
MAX_SENDER = 40
MAX_ECHO = 60

# starts only where a run of scheme characters starts: linear on "a.a.a.a..." (a search from
# every position of the run would scan the rest of it each time)
_URL = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://\S*", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w/])@[\w.-]+(?:@[\w.-]*\w(?::\d+)?)?", re.UNICODE)  # snac: @bot@host:port
_SPACES = re.compile(r"[ \t\r\f\v]+")


def _drop_controls(text: str) -> str:
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char == "\n":
            out.append(char)
        elif category in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp"):
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def mention_text(content: str) -> str:
    """The plain text of a mention: HTML converted, mentions and links removed, whitespace
    tidied, at most :data:`MAX_SCAN` characters."""
    # NFKC: "é" typed as "e" + combining accent (copied from a PDF, macOS) is then the same
    # character as in the config's regular expressions ("[ée]tat"), and a fullwidth "＠ville"
    # is an "@ville" mention, removed below
    text = html_to_text((content or "")[:MAX_HTML], drop_mentions=True)[:MAX_CLEAN]
    text = unicodedata.normalize("NFKC", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)  # a mention typed as plain text ("@ville agenda")
    text = _drop_controls(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)[:MAX_SCAN]


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return text[:limit]
    cut = text[: limit - len(ellipsis)]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" \n,;:.") + ellipsis


def plain(text: str, limit: int = MAX_ECHO) -> str:
    """A value safe to echo in a reply: one line of plain text, no HTML, no link, no mention,
    no hashtag, at most ``limit`` characters."""
    value = (text or "")[:MAX_HTML]
    value = html_to_text(value) if "<" in value or "&" in value else value
    value = unicodedata.normalize("NFKC", value[:MAX_CLEAN])  # "＠" is "@", removed below
    value = _URL.sub(" ", value)
    value = _MENTION.sub(" ", value)
    value = _drop_controls(value).replace("\n", " ")
    value = value.replace("@", " ").replace("#", " ").replace("<", " ").replace(">", " ")
    value = _SPACES.sub(" ", value).strip()
    return truncate(value, limit)


def sender_name(account: dict[str, object]) -> str:
    """The sender's display name (or user name) as templates see it."""
    name = plain(str(account.get("display_name") or ""), MAX_SENDER)
    if not name:
        name = plain(str(account.get("username") or ""), MAX_SENDER)
    return name
