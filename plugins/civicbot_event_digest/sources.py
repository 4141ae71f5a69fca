"""Load every source for a period, in parallel, and merge them: a failed source is logged and
reported, the others still count; the same event from two sources appears once."""

from __future__ import annotations

import concurrent.futures
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from civicbot import Fetcher, FetchError
from civicbot_event_digest.config import EventDigestConfig, SourceConfig
from civicbot_event_digest.model import Event, SourceError


@dataclass
class Collection:
    """The merged events of a period, and the sources that failed."""

    events: list[Event] = field(default_factory=list)
    failed: list[SourceConfig] = field(default_factory=list)
    loaded: int = 0

    @property
    def all_failed(self) -> bool:
        return self.loaded == 0 and bool(self.failed)


def load_source(fetcher: Fetcher, source: SourceConfig, *, tz: tzinfo, start: datetime,
                end: datetime, language: str, log: Any = None) -> list[Event]:
    zone = ZoneInfo(source.timezone) if source.timezone else tz
    # each parser is imported by the first source of its kind (icalendar and
    # recurring-ical-events only when an iCalendar source is configured)
    if source.openagenda is not None:
        from civicbot_event_digest.source_openagenda import fetch_openagenda

        return fetch_openagenda(fetcher, source.openagenda, source=source.name, tz=zone,
                                start=start, end=end, language=language,
                                timeout=source.timeout)
    if source.ics is not None:
        from civicbot_event_digest.source_ics import parse_ics

        # decoded with the declared or detected charset, what cannot be decoded logged
        data = fetcher.fetch(source.ics, timeout=source.timeout).text().encode("utf-8")
        return parse_ics(data, source=source.name, tz=zone, start=start, end=end, day_tz=tz,
                         zone_from_config=source.timezone is not None,
                         log=log.bind(source=source.name) if log is not None else None)
    assert source.jsonld is not None
    from civicbot_event_digest.source_jsonld import parse_jsonld_page

    page = fetcher.fetch(source.jsonld, timeout=source.timeout)
    page_url = page.url if source.jsonld.startswith(("http://", "https://")) else ""
    return parse_jsonld_page(page.text(), source=source.name, tz=zone, page_url=page_url,
                             day_tz=tz)


def collect(fetcher: Fetcher, config: EventDigestConfig, *, tz: tzinfo, start: datetime,
            end: datetime, language: str, log: Any) -> Collection:
    """Events overlapping ``[start, end)`` from every source, merged and sorted."""
    result = Collection()
    per_source: list[list[Event]] = [[] for _ in config.sources]
    workers = max(1, min(4, len(config.sources)))
    with concurrent.futures.ThreadPoolExecutor(workers, "event-digest") as pool:
        futures = {
            pool.submit(load_source, fetcher, source, tz=tz, start=start, end=end,
                        language=language, log=log): i
            for i, source in enumerate(config.sources)
        }
        for future in concurrent.futures.as_completed(futures):
            index = futures[future]
            source = config.sources[index]
            try:
                per_source[index] = future.result()
                result.loaded += 1
            except (SourceError, FetchError) as exc:
                result.failed.append(source)
                log.warning("event source failed", source=source.name, error=str(exc))
            except Exception as exc:  # a parser bug must not take the digest down
                result.failed.append(source)
                log.error("event source failed", source=source.name, error=repr(exc),
                          exc_info=exc)
    result.failed.sort(key=config.sources.index)
    result.events = merge(per_source, start, end)
    return result


def merge(per_source: list[list[Event]], start: datetime, end: datetime) -> list[Event]:
    """Keep events overlapping the period; drop duplicates (same normalised title and start),
    the first source winning and borrowing a missing venue or link from the others."""
    kept: dict[str, Event] = {}
    for events in per_source:
        for event in events:
            if not event.overlaps(start, end):
                continue
            first = kept.get(event.key)
            if first is None:
                kept[event.key] = event
            elif (not first.venue and event.venue) or (not first.url and event.url):
                kept[event.key] = dataclasses.replace(
                    first, venue=first.venue or event.venue, url=first.url or event.url)
    return sorted(kept.values(), key=lambda e: (e.start, e.title.casefold()))
