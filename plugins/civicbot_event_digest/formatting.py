"""Dates and times as residents read them (Babel): "lundi 7 décembre", "18 h 30"."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_interval, format_time

_DAY = {"fr": "EEEE d MMMM", "en": "EEEE, MMMM d"}
_SHORT_DAY = {"fr": "EEE d MMM", "en": "EEE, MMM d"}


def _spaces(text: str) -> str:
    # CLDR uses thin and narrow no-break spaces; plain spaces read the same everywhere
    return text.replace("\u2009", " ").replace("\u202f", " ").replace("\xa0", " ")


def day_label(day: date, language: str) -> str:
    """``lundi 7 décembre`` / ``Monday, December 7``."""
    return _spaces(format_date(day, _DAY.get(language, _DAY["en"]), locale=language))


def short_day_label(day: date, language: str) -> str:
    """``lun. 7 déc.`` / ``Mon, Dec 7``."""
    return _spaces(format_date(day, _SHORT_DAY.get(language, _SHORT_DAY["en"]), locale=language))


def month_day(day: date, language: str) -> str:
    """``24 décembre`` / ``December 24``."""
    return _spaces(format_date(day, "d MMMM" if language == "fr" else "MMMM d", locale=language))


def time_label(moment: datetime, language: str) -> str:
    """``18 h 30`` / ``18 h`` in French (typographic usage); the locale's short time otherwise."""
    if language == "fr":
        return f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"
    return _spaces(format_time(moment, "short", locale=language))


def period_label(first: date, last: date, language: str) -> str:
    """``7 – 13 décembre``; a single day is ``lundi 7 décembre``."""
    if first == last:
        return day_label(first, language)
    return _spaces(format_interval(first, last, "MMMMd", locale=language))


def when_label(moment: datetime, all_day: bool, language: str) -> str:
    """``samedi 12 décembre à 18 h 30`` / ``Saturday, December 12 at 6:30 PM``."""
    day = day_label(moment.date(), language)
    if all_day:
        return day
    joiner = " à " if language == "fr" else " at "
    return day + joiner + time_label(moment, language)
