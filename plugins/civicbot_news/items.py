"""Reading a feed document (RSS, Atom with feedparser; JSON Feed with json) into news items.

A document that is not a feed (an HTML error page, an empty answer, broken XML or JSON with no
items) raises :class:`FeedInvalid`: a broken feed is never read as "no news".
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from civicbot import html_to_text

#: Query parameters that only track where a click came from; removed from links.
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "xtor",
                             "at_medium", "at_campaign", "ref", "igshid", "_hsenc", "_hsmi"})


class FeedInvalid(ValueError):
    """The document is not a readable feed."""


@dataclass(frozen=True)
class NewsItem:
    """One item of a feed, as plain text."""

    title: str
    link: str | None = None
    guid: str | None = None
    summary: str = ""
    published: datetime | None = None
    categories: tuple[str, ...] = ()
    author: str | None = None
    image_url: str | None = None
    image_alt: str | None = None
    #: Position in the document (0 = first), to order items without a date.
    position: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def identities(self) -> list[str]:
        """Every name the item is known by: its guid and its normalised link. An item is the
        same item when any of them matches (a rebuilt feed with new guids keeps its links)."""
        names = []
        if self.guid:
            names.append(f"id:{self.guid.strip()}")
        if self.link:
            names.append(f"link:{normalise_link(self.link)}")
        if not names:
            names.append("title:" + hashlib.sha256(self.title.encode()).hexdigest()[:24])
        return names

    @property
    def key(self) -> str:
        """A short stable name for the item's dedup key."""
        return hashlib.sha256(self.identities[0].encode()).hexdigest()[:20]


def normalise_link(url: str) -> str:
    """A link as the same page whatever the feed wrote: no scheme, no ``www.``, no trailing
    slash, no fragment, no tracking parameters (``utm_*``, ``fbclid``...), sorted query."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS)
    path = parts.path.rstrip("/") or ""
    return urlunsplit(("", host, path, urlencode(query), "")).lstrip("/")


def parse_feed(content: bytes, base_url: str = "") -> list[NewsItem]:
    """The items of a feed document, in document order. Raises :class:`FeedInvalid`."""
    head = content.lstrip()[:1]
    if not head:
        raise FeedInvalid("empty document")
    if head in (b"{", b"["):
        return _json_feed(content, base_url)
    return _xml_feed(content, base_url)


def _text(value: Any, kind: str = "text/html") -> str:
    if not value:
        return ""
    text = str(value)
    if "html" in kind or "&" in text or "<" in text:
        text = html_to_text(text)
    return " ".join(text.split())


def _date(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _absolute(url: Any, base: str) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    return str(urljoin(base, url)) if base else url


def _xml_feed(content: bytes, base_url: str) -> list[NewsItem]:
    from civicbot_news.items_xml import read_fast

    fast = read_fast(content, base_url)
    if fast is not None:
        return fast
    import feedparser  # imported on first use: only configs with a news feed pay for it

    # civicbot turns every HTML fragment into plain text itself: feedparser's own HTML
    # sanitising and relative-link rewriting (most of its time on a large feed) are not needed
    doc = feedparser.parse(content, response_headers={"content-location": base_url}
                           if base_url else None, sanitize_html=False,
                           resolve_relative_uris=False)
    if not doc.get("version"):
        problem = doc.get("bozo_exception")
        raise FeedInvalid(f"not an RSS or Atom feed{f' ({problem})' if problem else ''}")
    items = []
    for position, entry in enumerate(doc.entries):
        items.append(_xml_item(entry, position, base_url))
    if not items and doc.get("bozo"):
        raise FeedInvalid(f"broken feed: {doc.get('bozo_exception')}")
    return items


def _xml_image(entry: Any, base: str) -> tuple[str | None, str | None]:
    for media in list(entry.get("media_content") or []) + list(entry.get("media_thumbnail") or []):
        kind = str(media.get("type") or "")
        if media.get("medium") == "image" or kind.startswith("image/") or (
                not kind and "url" in media and media.get("medium") is None):
            alt = None
            # feedparser files <media:description> under summary_detail; the item's own
            # description stays in ``summary``: when they differ, the first is the image's
            detail = entry.get("summary_detail") or {}
            if detail.get("value") and detail.get("value") != entry.get("summary"):
                alt = _text(detail.get("value"), str(detail.get("type") or "text/plain"))
            return _absolute(media.get("url"), base), alt or None
    for enclosure in entry.get("enclosures") or []:
        if str(enclosure.get("type") or "").startswith("image/"):
            return _absolute(enclosure.get("href") or enclosure.get("url"), base), None
    return None, None


def _xml_item(entry: Any, position: int, base: str) -> NewsItem:
    title_detail = entry.get("title_detail") or {}
    title = _text(entry.get("title"), str(title_detail.get("type") or "text/plain"))
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value") or ""
    image_url, image_alt = _xml_image(entry, base)
    guid = entry.get("id") or None
    link = _absolute(entry.get("link"), base)
    return NewsItem(
        title=title or _text(summary)[:80],
        link=link,
        guid=str(guid) if guid else None,
        summary=_text(summary),
        published=_date(entry.get("published_parsed") or entry.get("updated_parsed")),
        categories=tuple(dict.fromkeys(
            t for tag in entry.get("tags") or [] if (t := _text(tag.get("term"), "text/plain")))),
        author=_text(entry.get("author"), "text/plain") or None,
        image_url=image_url, image_alt=image_alt, position=position,
    )


def _json_feed(content: bytes, base_url: str) -> list[NewsItem]:
    try:
        doc = json.loads(content)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedInvalid(f"invalid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(
            "https://jsonfeed.org/version/"):
        raise FeedInvalid("not a JSON Feed (no https://jsonfeed.org/version/ version)")
    entries = doc.get("items")
    if not isinstance(entries, list):
        raise FeedInvalid("JSON Feed without an items list")
    base = base_url or str(doc.get("home_page_url") or "")
    return [_json_item(entry, position, base) for position, entry in enumerate(entries)
            if isinstance(entry, dict)]


def _json_item(entry: dict[str, Any], position: int, base: str) -> NewsItem:
    summary = entry.get("summary") or entry.get("content_html") or entry.get("content_text") or ""
    tags: list[Any] = entry["tags"] if isinstance(entry.get("tags"), list) else []
    authors: list[Any] = entry["authors"] if isinstance(entry.get("authors"), list) else []
    author = next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None)
    guid = entry.get("id")
    title = _text(entry.get("title"), "text/plain")
    return NewsItem(
        title=title or _text(summary)[:80],
        link=_absolute(entry.get("url") or entry.get("external_url"), base),
        guid=str(guid) if guid not in (None, "") else None,
        summary=_text(summary),
        published=_iso(entry.get("date_published")) or _iso(entry.get("date_modified")),
        categories=tuple(dict.fromkeys(_text(t, "text/plain") for t in tags if t)),
        author=str(author) if author else None,
        image_url=_absolute(entry.get("image") or entry.get("banner_image"), base),
        image_alt=None, position=position,
    )


def publication_order(items: Iterable[NewsItem]) -> list[NewsItem]:
    """Oldest first; items without a date keep the document's order (newest usually first)."""
    dated = list(items)
    return sorted(dated, key=lambda i: (
        i.published or datetime.min.replace(tzinfo=UTC), -i.position))
