"""The normalised event every source produces, and the text clean-up applied to its fields."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

#: Caps on what an event may bring into a post, whatever the feed holds.
TITLE_MAX = 160
VENUE_MAX = 90
DESCRIPTION_MAX = 200
URL_MAX = 1000

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


class SourceError(Exception):
    """A source's data could not be read (not iCalendar, no JSON-LD, an OpenAgenda refusal...);
    network failures are :class:`civicbot.FetchError`."""


@dataclass(frozen=True)
class Event:
    """One occurrence of an event, with aware start/end (end exclusive)."""

    title: str
    start: datetime
    end: datetime
    source: str
    all_day: bool = False
    venue: str = ""
    url: str = ""
    uid: str = ""
    description: str = ""

    @property
    def key(self) -> str:
        """Same normalised title and start instant: the same event, whatever the source."""
        return f"{normalise_title(self.title)}|{self.start.timestamp():.0f}"

    @property
    def identity(self) -> str:
        """The event across its occurrences (for "new event" announcements)."""
        base = f"uid:{self.uid}" if self.uid else f"title:{normalise_title(self.title)}"
        return f"{self.source}|{base}"

    def overlaps(self, start: datetime, end: datetime) -> bool:
        if self.end <= self.start:  # zero-length: in the window if it starts in it
            return start <= self.start < end
        return self.start < end and self.end > start


def normalise_title(title: str) -> str:
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", stripped).split())


def short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def clean(text: object, limit: int) -> str:
    """One line of plain text, at most ``limit`` characters, cut at a word boundary."""
    value = _SPACES.sub(" ", str(text or "")).strip()
    if len(value) <= limit:
        return value
    cut = value[: max(1, limit - 1)]
    if " " in cut[len(cut) // 2:]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"


def clean_url(value: object) -> str:
    text = str(value or "").strip()
    if not text.startswith(("http://", "https://")) or len(text) > URL_MAX or " " in text:
        return ""
    return text


def local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def aware(value: date | datetime, tz: tzinfo) -> datetime:
    """A date becomes local midnight; a naive (floating) time is read in ``tz``."""
    if not isinstance(value, datetime):
        return local_midnight(value, tz)
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value.astimezone(tz)


#: A timed event ending the next day up to this hour is an evening, not a two-day event.
NIGHT_END = time(6)


def last_day(event: Event, tz: tzinfo) -> date:
    """The last calendar day the event covers: an end at midnight belongs to the day before,
    and so does the end of an evening that goes on after midnight (22:00 to 02:00)."""
    end = event.end.astimezone(tz)
    start = event.start.astimezone(tz)
    if end <= start:
        return start.date()
    if end.time() == time(0):
        return (end - timedelta(days=1)).date()
    if not event.all_day and end.date() == start.date() + timedelta(days=1) \
            and end.time() <= NIGHT_END:
        return start.date()
    return end.date()
