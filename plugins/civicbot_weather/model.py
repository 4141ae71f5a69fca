"""The one internal model of an official weather warning, whatever its source."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

Level = Literal["green", "yellow", "orange", "red"]
LEVELS: Final[tuple[Level, ...]] = ("green", "yellow", "orange", "red")

#: MeteoAlarm ``awareness_type`` numbers -> our phenomenon keys.
AWARENESS_TYPES: Final[dict[int, str]] = {
    1: "wind",
    2: "snow-ice",
    3: "thunderstorm",
    4: "fog",
    5: "heat",
    6: "cold",
    7: "waves-submersion",
    8: "forest-fire",
    9: "avalanches",
    10: "rain",
    12: "flood",
    13: "rain-flood",
}

#: Météo-France DPVigilance ``phenomenon_id`` -> our phenomenon keys.
VIGILANCE_PHENOMENA: Final[dict[str, str]] = {
    "1": "wind",
    "2": "rain-flood",
    "3": "thunderstorm",
    "4": "flood",
    "5": "snow-ice",
    "6": "heat",
    "7": "cold",
    "8": "avalanches",
    "9": "waves-submersion",
}

#: DWD-style ``eventCode`` GROUP values -> our phenomenon keys (first match wins).
EVENT_GROUPS: Final[dict[str, str]] = {
    "THUNDERSTORM": "thunderstorm",
    "WIND": "wind",
    "RAIN": "rain",
    "SNOWFALL": "snow-ice",
    "SNOWDRIFT": "snow-ice",
    "FROST": "cold",
    "GLAZE": "snow-ice",
    "FOG": "fog",
    "HEAT": "heat",
    "THAW": "flood",
}


def level_rank(level: str) -> int:
    """green 0, yellow 1, orange 2, red 3 (unknown: -1)."""
    return next((i for i, name in enumerate(LEVELS) if name == level), -1)


def slug(text: str) -> str:
    """Lower case, accents and punctuation removed: ``"Isère"`` -> ``"isere"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


@dataclass(frozen=True)
class Alert:
    """One warning for one area and one phenomenon, as a source last described it.

    ``kind`` says what the source means: ``"active"`` (Alert/Update in force), ``"cancel"``
    (msgType Cancel), ``"allclear"`` (responseType AllClear, whatever level it still carries).
    """

    phenomenon: str
    level: Level
    area_key: str
    area: str
    onset: datetime | None
    expires: datetime | None
    sent: datetime
    kind: Literal["active", "cancel", "allclear"] = "active"
    event: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    web: str = ""
    sender: str = ""
    language: str = ""
    identifier: str = ""
    references: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        """The state machine's key: area and phenomenon."""
        return f"{self.area_key}|{self.phenomenon}"


@dataclass(frozen=True)
class Cancellation:
    """A Cancel (or AllClear) that names no area: it ends the warnings it references."""

    references: tuple[str, ...]
    sent: datetime
    kind: Literal["cancel", "allclear"] = "cancel"
    sender: str = ""
    web: str = ""


class SourceError(Exception):
    """A source could not be read: network error, HTTP error, empty or malformed document."""
