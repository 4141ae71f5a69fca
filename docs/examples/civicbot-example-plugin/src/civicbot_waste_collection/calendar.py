"""Read the collection calendar: a CSV file of ``date,type`` lines."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Collection:
    """One collection: a day and what is collected (``Ordures ménagères``)."""

    day: date
    kind: str


def read_calendar(path: Path) -> list[Collection]:
    """Every collection in the file, in file order.

    Raises :class:`ValueError` with the file name and line number of the first bad line, or when
    the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")  # utf-8-sig: files saved by spreadsheets
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from exc
    out: list[Collection] = []
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and [c.lower() for c in cells] == ["date", "type"]:
            continue
        where = f"{path.name}:{number}"
        if len(cells) != 2 or not cells[1]:
            raise ValueError(f"{where}: expected 'date,type' such as "
                             f"'2026-12-03,Ordures ménagères', got {','.join(row)!r}")
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            raise ValueError(f"{where}: {cells[0]!r} is not a date "
                             "(expected YYYY-MM-DD)") from None
        out.append(Collection(day=day, kind=cells[1]))
    return out


def kinds_on(calendar: list[Collection], day: date) -> list[str]:
    """What is collected on ``day``, each kind once, in file order."""
    return list(dict.fromkeys(c.kind for c in calendar if c.day == day))


def upcoming(calendar: list[Collection], since: date, days: int) -> list[tuple[date, list[str]]]:
    """The next ``days`` collection days from ``since`` (included) and what is collected."""
    found = sorted({c.day for c in calendar if c.day >= since})[:days]
    return [(day, kinds_on(calendar, day)) for day in found]
