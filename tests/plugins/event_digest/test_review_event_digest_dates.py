"""Review: all-day dates in a source with its own time zone, night events across midnight,
and the week of the October daylight-saving change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from event_digest_support import PARIS

from civicbot import Bot

CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//review//EN\r
{events}END:VCALENDAR\r
"""
EVENT = """BEGIN:VEVENT\r
UID:{uid}\r
SUMMARY:{title}\r
{dates}LOCATION:{venue}\r
END:VEVENT\r
"""


def ics(path: Path, *events: tuple[str, str, str]) -> str:
    body = "".join(EVENT.format(uid=f"e{i}@review", title=title, dates=dates, venue=venue)
                   for i, (title, dates, venue) in enumerate(events))
    path.write_text(CALENDAR.format(events=body), encoding="utf-8")
    return str(path)


def section(source: dict[str, Any], window: Any = "this_week") -> dict[str, Any]:
    return {"sources": [source], "digests": [{"id": "semaine", "cron": "0 8 * * 1",
                                              "window": window}]}


def test_all_day_dates_stay_local_days_in_a_source_with_a_utc_timezone(
        digest_bot: Callable[..., Bot], tmp_path: Path) -> None:
    # a UTC-only feed: its floating times are UTC, but a date is a calendar day, not an instant
    path = ics(tmp_path / "utc.ics",
               ("Journée du patrimoine", "DTSTART;VALUE=DATE:20261213\r\n"
                "DTEND;VALUE=DATE:20261214\r\n", "Château"),
               ("Conférence", "DTSTART:20261208T173000\r\nDTEND:20261208T190000\r\n",
                "Bibliothèque"))
    bot = digest_bot(section({"name": "Ville", "ics": path, "timezone": "UTC"}))
    [draft] = bot.scheduler.preview("semaine", datetime(2026, 12, 7, 8, 0, tzinfo=PARIS))
    assert draft.text == (
        "📅 Cette semaine (7 – 13 décembre)\n\n"
        "Mardi 8 décembre\n• 18 h 30 · Conférence — Bibliothèque\n\n"
        "Dimanche 13 décembre\n• Journée du patrimoine — Château")


def test_an_evening_ending_after_midnight_is_not_a_multi_day_event(
        digest_bot: Callable[..., Bot], tmp_path: Path) -> None:
    path = ics(tmp_path / "nuit.ics",
               ("Nuit du jazz", "DTSTART;TZID=Europe/Paris:20261212T220000\r\n"
                "DTEND;TZID=Europe/Paris:20261213T020000\r\n", "Le Chato'do"),
               ("Réveillon de la semaine passée", "DTSTART;TZID=Europe/Paris:20261206T220000"
                "\r\nDTEND;TZID=Europe/Paris:20261207T010000\r\n", "Halle aux grains"),
               ("Festival de la BD", "DTSTART;TZID=Europe/Paris:20261212T100000\r\n"
                "DTEND;TZID=Europe/Paris:20261213T180000\r\n", "Maison de la BD"))
    bot = digest_bot(section({"name": "Ville", "ics": path}))
    [draft] = bot.scheduler.preview("semaine", datetime(2026, 12, 7, 8, 0, tzinfo=PARIS))
    assert draft.text == (
        "📅 Cette semaine (7 – 13 décembre)\n\n"
        "Samedi 12 décembre\n"
        "• 10 h · Festival de la BD — Maison de la BD (jusqu'au 13 décembre)\n"
        "• 22 h · Nuit du jazz — Le Chato'do")


def test_the_week_of_the_october_clock_change(digest_bot: Callable[..., Bot],
                                              tmp_path: Path) -> None:
    path = ics(tmp_path / "dst.ics",
               ("Lundi matin", "DTSTART;TZID=Europe/Paris:20261019T000000\r\n"
                "DTEND;TZID=Europe/Paris:20261019T010000\r\n", "Mairie"),
               ("Nuit blanche", "DTSTART;TZID=Europe/Paris:20261025T020000\r\n"
                "DTEND;TZID=Europe/Paris:20261025T040000\r\n", "Musée"),
               ("Dimanche soir", "DTSTART;TZID=Europe/Paris:20261025T233000\r\n"
                "DTEND;TZID=Europe/Paris:20261025T235900\r\n", "Théâtre"),
               ("Lundi suivant", "DTSTART;TZID=Europe/Paris:20261026T000000\r\n"
                "DTEND;TZID=Europe/Paris:20261026T010000\r\n", "Mairie"))
    bot = digest_bot(section({"name": "Ville", "ics": path}))
    [draft] = bot.scheduler.preview("semaine", datetime(2026, 10, 19, 8, 0, tzinfo=PARIS))
    assert draft.text == (
        "📅 Cette semaine (19 – 25 octobre)\n\n"
        "Lundi 19 octobre\n• 0 h · Lundi matin — Mairie\n\n"
        "Dimanche 25 octobre\n• 2 h · Nuit blanche — Musée\n"
        "• 23 h 30 · Dimanche soir — Théâtre")


def test_the_first_of_the_month_is_written_1er(digest_bot: Callable[..., Bot],
                                               tmp_path: Path) -> None:
    path = ics(tmp_path / "premier.ics",
               ("Marché de Noël", "DTSTART;VALUE=DATE:20261201\r\n"
                "DTEND;VALUE=DATE:20270102\r\n", "Place Louis-XII"))
    bot = digest_bot(section({"name": "Ville", "ics": path}, window={"next_days": 7}))
    [draft] = bot.scheduler.preview("semaine", datetime(2026, 12, 1, 8, 0, tzinfo=PARIS))
    assert draft.text == (
        "📅 Les 7 prochains jours (1er – 7 décembre)\n\n"
        "Mardi 1er décembre\n• Marché de Noël — Place Louis-XII (jusqu'au 1er janvier)")
    bot = digest_bot(section({"name": "Ville", "ics": path}))
    [draft] = bot.scheduler.preview("semaine", datetime(2026, 11, 30, 8, 0, tzinfo=PARIS))
    assert draft.text.splitlines()[0] == "📅 Cette semaine (30 novembre – 6 décembre)"
