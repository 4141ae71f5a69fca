"""The ``plugins.waste_collection`` section of the config file."""

from __future__ import annotations

from pathlib import Path

from civicbot import ConfigPath, PluginConfig, camel_hashtag
from pydantic import Field, field_validator

from civicbot_waste_collection.calendar import read_calendar

SECTION = "waste_collection"


class WasteCollectionConfig(PluginConfig):
    """Waste collection reminders, posted the evening before each collection day."""

    calendar: ConfigPath = Field(
        description="CSV file of collection days, one `date,type` per line "
        "(`2026-12-03,Ordures ménagères`); a `date,type` header line and `#` comments "
        "are allowed. Read again before every reminder, so edits need no restart.",
        examples=["collecte-dechets.csv"],
    )
    hour: int = Field(
        default=19, ge=0, le=23,
        description="Hour of the reminder on the evening before the collection (local time).",
        examples=[19],
    )
    hashtags: list[str] = Field(
        default=["collecte déchets"],
        description="Hashtags added to each reminder, written in words: `collecte déchets` "
        "becomes `#CollecteDéchets` (CamelCase, read correctly by screen readers).",
        examples=[["collecte déchets", "Blois"]],
    )

    @field_validator("calendar")
    @classmethod
    def _calendar_is_valid(cls, path: Path) -> Path:
        read_calendar(path)  # raises ValueError naming the line, reported by check-config
        return path

    @field_validator("hashtags")
    @classmethod
    def _hashtags_have_letters(cls, words: list[str]) -> list[str]:
        for item in words:
            camel_hashtag(item)  # ValueError: no letters in hashtag '...'
        return words
