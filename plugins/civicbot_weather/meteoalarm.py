"""MeteoAlarm's Atom feeds: which CAP documents concern the wanted areas."""

from __future__ import annotations

from urllib.parse import urljoin
from xml.etree.ElementTree import Element

from civicbot_weather.cap import parse_xml
from civicbot_weather.model import SourceError, slug


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _entry_matches(entry: Element, areas: list[str]) -> bool:
    codes: list[str] = []
    descs: list[str] = []
    for child in entry:
        name = _local(child.tag)
        if name == "geocode":
            codes += [(v.text or "").strip().upper() for v in child if _local(v.tag) == "value"]
        elif name == "areaDesc":
            descs.append(slug(child.text or ""))
    wanted = {a.upper() for a in areas}
    wanted_names = {slug(a) for a in areas}
    return bool(wanted & set(codes)) or bool(wanted_names & set(descs))


def cap_links(data: bytes, *, areas: list[str], feed_url: str) -> list[str]:
    """The CAP links (``type="application/cap+xml"``) of the entries for ``areas``, in feed
    order, without repeats. Raises :class:`SourceError` when the feed is not an Atom feed."""
    root = parse_xml(data, f"MeteoAlarm feed {feed_url}")
    if _local(root.tag) != "feed":
        raise SourceError(f"MeteoAlarm feed {feed_url}: not an Atom feed "
                          f"(root element <{_local(root.tag)}>)")
    links: list[str] = []
    for entry in root:
        if _local(entry.tag) != "entry" or not _entry_matches(entry, areas):
            continue
        for link in entry:
            if (_local(link.tag) == "link" and link.get("type") == "application/cap+xml"
                    and link.get("href")):
                href = urljoin(feed_url, str(link.get("href")))
                if href not in links:
                    links.append(href)
    return links
