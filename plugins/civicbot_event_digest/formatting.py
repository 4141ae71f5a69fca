"""Dates and times as residents read them (Babel): "lundi 7 décembre", "18 h 30"."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_interval, format_time

_DAY = {"fr": "EEEE d MMMM", "en": "EEEE, MMMM d"}
_SHORT_DAY = {"fr": "EEE d MMM", "en": "EEE, MMM d"}


def _spaces(text: str) -> str:
    # CLDR uses thin and narrow no-break spaces; plain spaces read the same everywhere
    return text.replace("\u2009", " ").replace("\u202f", " ").replace("\xa0", " ")


def _premier(day: date, language: str) -> str:
    """The day number as French writes it: ``1er``, then ``2``, ``3``..."""
    return "1er" if language == "fr" and day.day == 1 else str(day.day)


def day_label(day: date, language: str) -> str:
    """``lundi 7 décembre``, ``mardi 1er décembre`` / ``Monday, December 7``."""
    if language == "fr":
        return f"{format_date(day, 'EEEE', locale='fr')} {month_day(day, 'fr')}"
    return _spaces(format_date(day, _DAY.get(language, _DAY["en"]), locale=language))


def short_day_label(day: date, language: str) -> str:
    """``lun. 7 déc.``, ``mar. 1er déc.`` / ``Mon, Dec 7``."""
    if language == "fr":
        return (f"{format_date(day, 'EEE', locale='fr')} {_premier(day, language)} "
                f"{format_date(day, 'MMM', locale='fr')}")
    return _spaces(format_date(day, _SHORT_DAY.get(language, _SHORT_DAY["en"]), locale=language))


def month_day(day: date, language: str) -> str:
    """``24 décembre``, ``1er janvier`` / ``December 24``."""
    if language == "fr":
        return f"{_premier(day, language)} {format_date(day, 'MMMM', locale='fr')}"
    return _spaces(format_date(day, "d MMMM" if language == "fr" else "MMMM d", locale=language))


def time_label(moment: datetime, language: str) -> str:
    """``18 h 30`` / ``18 h`` in French (typographic usage); the locale's short time otherwise."""
    if language == "fr":
        return f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"
    return _spaces(format_time(moment, "short", locale=language))


def period_label(first: date, last: date, language: str) -> str:
    """``7 – 13 décembre``, ``1er – 7 décembre``; a single day is ``lundi 7 décembre``."""
    if first == last:
        return day_label(first, language)
    if language == "fr":
        if (first.year, first.month) == (last.year, last.month):
            return f"{_premier(first, language)} – {month_day(last, language)}"
        return f"{month_day(first, language)} – {month_day(last, language)}"
    return _spaces(format_interval(first, last, "MMMMd", locale=language))


def when_label(moment: datetime, all_day: bool, language: str) -> str:
    """``samedi 12 décembre à 18 h 30`` / ``Saturday, December 12 at 6:30 PM``."""
    day = day_label(moment.date(), language)
    if all_day:
        return day
    joiner = " à " if language == "fr" else " at "
    return day + joiner + time_label(moment, language)
