"""OpenAgenda API v2: ``GET {base_url}/agendas/{uid}/events`` with the key in the ``key`` header.

Dates come from ``timings`` (a list of ``{begin, end}`` with offsets), never from the localized
``dateRange`` string; a list response without ``timings`` falls back to first/next/last timing.
Pages are followed with ``after`` (the value the previous page returned). Cancelled (status 6)
and postponed (status 4) events are left out. Contiguous timings of one event on one day
(11:00–15:00, 15:00–18:00) are merged into one occurrence.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from civicbot import Fetcher
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

if TYPE_CHECKING:
    from civicbot_event_digest.config import OpenAgendaSource

#: OpenAgenda event status: 1 scheduled, 2 rescheduled, 3 moved online, 4 postponed, 5 full,
#: 6 cancelled.
EXCLUDED_STATUSES = {4, 6}


def fetch_openagenda(fetcher: Fetcher, config: OpenAgendaSource, *, source: str, tz: tzinfo,
                     start: datetime, end: datetime, language: str,
                     timeout: timedelta | None = None) -> list[Event]:
    url = f"{config.base_url}/agendas/{config.agenda}/events"
    headers = {"key": config.key.get_secret_value(), "Accept": "application/json"}
    base: list[tuple[str, str]] = [
        ("timings[gte]", start.isoformat()),
        ("timings[lte]", end.isoformat()),
        ("size", str(config.page_size)),
    ]
    events: list[Event] = []
    after: Any = None
    seen_after: list[Any] = []
    for _ in range(config.max_pages):
        params = list(base)
        if isinstance(after, list):
            params += [("after[]", str(v)) for v in after]
        elif after is not None:
            params.append(("after", str(after)))
        page = fetcher.fetch(url, params=params, headers=headers, timeout=timeout).json()
        if not isinstance(page, dict) or not isinstance(page.get("events", []), list):
            raise SourceError("OpenAgenda: unexpected response (no events list)")
        if page.get("success") is False:
            raise SourceError(f"OpenAgenda refused the request: {page.get('message', '?')}")
        items = page.get("events") or []
        for item in items:
            if isinstance(item, dict):
                events.extend(_occurrences(item, config, source, tz, language))
        after = page.get("after")
        if not items or after in (None, [], "") or after in seen_after:
            break
        seen_after.append(after)
    return events


def _text(value: Any, language: str) -> str:
    """A multilingual field ``{"fr": ..., "en": ...}`` (or a plain string with ``monolingual``)."""
    if isinstance(value, dict):
        for lang in (language, "fr", "en"):
            if value.get(lang):
                return str(value[lang])
        return next((str(v) for v in value.values() if v), "")
    return str(value or "")


def _timings(item: dict[str, Any]) -> list[tuple[str, str]]:
    raw = item.get("timings")
    if not isinstance(raw, list) or not raw:
        raw = [item.get(k) for k in ("firstTiming", "nextTiming", "lastTiming")]
    pairs: list[tuple[str, str]] = []
    for timing in raw:
        if isinstance(timing, dict) and timing.get("begin"):
            pair = (str(timing["begin"]), str(timing.get("end") or timing["begin"]))
            if pair not in pairs:
                pairs.append(pair)
    return pairs


def _parse(value: str, tz: tzinfo) -> datetime:
    try:
        return aware(datetime.fromisoformat(value.replace("Z", "+00:00")), tz)
    except ValueError as exc:
        raise SourceError(f"OpenAgenda: bad timing {value!r}") from exc


def _status(item: dict[str, Any]) -> int | None:
    status = item.get("status")
    if isinstance(status, dict):
        status = status.get("id")
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def _occurrences(item: dict[str, Any], config: OpenAgendaSource, source: str, tz: tzinfo,
                 language: str) -> list[Event]:
    if _status(item) in EXCLUDED_STATUSES:
        return []
    title = clean(_text(item.get("title"), language), TITLE_MAX)
    if not title:
        return []
    spans = sorted((_parse(b, tz), _parse(e, tz)) for b, e in _timings(item))
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in spans:
        if merged and begin == merged[-1][1] and begin.date() == merged[-1][0].date():
            merged[-1] = (merged[-1][0], max(finish, merged[-1][1]))
        else:
            merged.append((begin, max(finish, begin)))
    raw_location = item.get("location")
    location: dict[str, Any] = raw_location if isinstance(raw_location, dict) else {}
    venue = clean(location.get("name") or location.get("address") or "", VENUE_MAX)
    uid = str(item.get("uid", "") or "")
    link = config.event_url.format(agenda=config.agenda, uid=uid, slug=item.get("slug") or uid)
    description = clean(_text(item.get("description"), language), DESCRIPTION_MAX)
    return [Event(title=title, start=b, end=f, source=source, venue=venue,
                  url=clean_url(link), uid=uid, description=description) for b, f in merged]
