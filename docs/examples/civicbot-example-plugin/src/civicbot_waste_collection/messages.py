"""What residents read, in French (default) and English."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from civicbot import camel_hashtag

_DAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}
_ARTICLES = ("des ", "du ", "de la ", "de l'", "de l\u2019", "d'", "d\u2019")


def _lang(language: str) -> str:
    return "en" if language.startswith("en") else "fr"


def long_date(day: date, language: str) -> str:
    """``mercredi 3 décembre``, ``jeudi 1er janvier``, ``Wednesday 3 December``."""
    lang = _lang(language)
    number = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{_DAYS[lang][day.weekday()]} {number} {_MONTHS[lang][day.month - 1]}"


def lower_first(kind: str) -> str:
    """``Ordures ménagères`` -> ``ordures ménagères``, but ``DEEE`` stays ``DEEE``."""
    if len(kind) > 1 and kind[1].isupper():
        return kind
    return kind[:1].lower() + kind[1:]


def french_phrase(kind: str) -> str:
    """``ordures ménagères`` -> ``des ordures ménagères``; ``verre`` -> ``du verre``.

    A plural (last word ending in s or x) takes "des", a word starting with a vowel or h takes
    "de l'", another singular takes "du". For a feminine singular, write the article in the
    calendar (``de la ferraille``): a type that starts with an article is kept as it is.
    """
    text = lower_first(kind)
    if text.lower().startswith(_ARTICLES):
        return text
    if text.split()[-1].lower().endswith(("s", "x")):
        return f"des {text}"
    if text[:1].lower() in "aeiouyhéèêàâîôû":
        return f"de l'{text}"
    return f"du {text}"


def _join(items: Sequence[str], last: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def reminder(day: date, kinds: Sequence[str], hashtags: Sequence[str], language: str) -> str:
    """The evening-before post."""
    tags = " ".join(camel_hashtag(words) for words in hashtags)
    if _lang(language) == "en":
        what = _join([lower_first(k) for k in kinds], "and")
        text = f"Tomorrow, {long_date(day, 'en')}: {what} collection. Put your bins out tonight!"
    else:
        what = _join([french_phrase(k) for k in kinds], "et")
        text = f"Demain {long_date(day, 'fr')} : collecte {what}. Sortez vos bacs ce soir !"
    return f"{text} {tags}" if tags else text


def next_collections(found: Sequence[tuple[date, Sequence[str]]], language: str) -> str:
    """The answer to the "déchets" command."""
    lang = _lang(language)
    if not found:
        return ("No collection planned in the calendar." if lang == "en"
                else "Aucune collecte prévue dans le calendrier.")
    items = [f"{long_date(day, lang)} ({', '.join(lower_first(k) for k in kinds)})"
             for day, kinds in found]
    head = "Next collections" if lang == "en" else "Prochaines collectes"
    separator = ": " if lang == "en" else " : "
    return f"{head}{separator}{'; '.join(items)}."


def calendar_unavailable(language: str) -> str:
    """The answer to the command when the calendar file cannot be read."""
    if _lang(language) == "en":
        return "The collection calendar is unavailable at the moment, sorry."
    return "Le calendrier des collectes est indisponible pour le moment, désolé."
