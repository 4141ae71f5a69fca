"""schema.org ``Event`` items published as JSON-LD in a web page.

Every ``<script type="application/ld+json">`` block is read; ``@graph``, lists, ``ItemList``
elements and ``subEvent`` are followed. Types ending in ``Event`` (``MusicEvent``,
``ExhibitionEvent``...) and ``Festival`` count. ``eventStatus`` Cancelled or Postponed removes
the event. A date without a time is an all-day date (``endDate`` inclusive, as schema.org means
it); a time without an offset is read in the source's time zone.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, tzinfo
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from civicbot import html_to_text
from civicbot_event_digest.model import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    VENUE_MAX,
    Event,
    SourceError,
    aware,
    clean,
    clean_url,
)

_SKIPPED_STATUSES = ("eventcancelled", "eventpostponed")
_MAX_DEPTH = 8


class _ScriptFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = (dict(attrs).get("type") or "").split(";")[0].strip().lower()
        if tag == "script" and kind == "application/ld+json":
            self._current = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.blocks.append("".join(self._current))
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)


def parse_jsonld_page(data: bytes | str, *, source: str, tz: tzinfo, page_url: str,
                      day_tz: tzinfo | None = None) -> list[Event]:
    """``tz`` reads times without an offset, ``day_tz`` (default ``tz``) dates without a time."""
    finder = _ScriptFinder()
    finder.feed(data if isinstance(data, str) else data.decode("utf-8", errors="replace"))
    finder.close()
    if not finder.blocks:
        raise SourceError("no JSON-LD block in the page")
    items: list[dict[str, Any]] = []
    readable = 0
    for block in finder.blocks:
        try:
            parsed = json.loads(block, strict=False)
        except ValueError:
            continue
        readable += 1
        _collect(parsed, items, 0)
    if not readable:
        raise SourceError("no readable JSON-LD block in the page")
    events = []
    for item in items:
        event = _to_event(item, source, tz, day_tz or tz, page_url)
        if event is not None:
            events.append(event)
    return events


def _types(item: dict[str, Any]) -> list[str]:
    raw = item.get("@type", [])
    values = raw if isinstance(raw, list) else [raw]
    return [str(v).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values]


def _collect(node: Any, out: list[dict[str, Any]], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, list):
        for child in node:
            _collect(child, out, depth + 1)
        return
    if not isinstance(node, dict):
        return
    if any(t.endswith("Event") or t == "Festival" for t in _types(node)):
        out.append(node)
    for key in ("@graph", "itemListElement", "item", "subEvent", "subEvents"):
        if key in node:
            _collect(node[key], out, depth + 1)


def _when(value: Any, tz: tzinfo, day_tz: tzinfo) -> tuple[datetime, bool] | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return aware(date.fromisoformat(text), day_tz), True
        return aware(datetime.fromisoformat(text.replace("Z", "+00:00")), tz), False
    except ValueError:
        return None


def _venue(location: Any) -> str:
    if isinstance(location, list):
        location = location[0] if location else None
    if isinstance(location, str):
        return location
    if not isinstance(location, dict):
        return ""
    if location.get("name"):
        return str(location["name"])
    address = location.get("address")
    if isinstance(address, dict):
        parts = [address.get("streetAddress"), address.get("addressLocality")]
        return ", ".join(str(p) for p in parts if p)
    return str(address or "")


def _to_event(item: dict[str, Any], source: str, tz: tzinfo, day_tz: tzinfo,
              page_url: str) -> Event | None:
    status = str(item.get("eventStatus") or "").rsplit("/", 1)[-1].lower()
    if status in _SKIPPED_STATUSES:
        return None
    title = clean(unescape(str(item.get("name") or "")), TITLE_MAX)
    begin = _when(item.get("startDate"), tz, day_tz)
    if not title or begin is None:
        return None
    start, all_day = begin
    finish = _when(item.get("endDate"), tz, day_tz)
    if finish is None:
        end = start + timedelta(days=1) if all_day else start
    elif finish[1]:  # a date: the last day, inclusive
        end = finish[0] + timedelta(days=1)
    else:
        end = finish[0]
    end = max(end, start)
    link = item.get("url") or item.get("@id") or ""
    url = clean_url(urljoin(page_url, str(link))) if link else ""
    url = url or clean_url(page_url)
    description = item.get("description") or ""
    return Event(
        title=title, start=start, end=end, source=source, all_day=all_day,
        venue=clean(unescape(_venue(item.get("location"))), VENUE_MAX), url=url,
        uid=str(item.get("@id") or ""),
        description=clean(html_to_text(str(description)), DESCRIPTION_MAX),
    )
