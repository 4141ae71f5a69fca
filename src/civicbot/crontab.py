"""Check and normalise 5-field crontab expressions, with messages people understand.

``check_cron("0 8 * * lundi")`` returns ``"0 8 * * mon"``: French and English day and month
names are accepted where they are unambiguous (``lun``, ``lundi``, ``mon``, ``monday``;
``janv``, ``janvier``, ``jan``...) and written out as the three-letter English names
APScheduler reads. A value out of range or a word nobody can read raises :class:`ValueError`
naming the field and what to write instead. The config type
:data:`civicbot.CronExpression` runs this check when the config is read, so that
``civicbot check-config`` reports a bad schedule with its file and line.
"""

from __future__ import annotations

import re
import unicodedata

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

#: Day names (folded: lower case, no accent) in English and French, by crontab number.
_DAY_NAMES: dict[str, str] = {}
for _i, _day_names in enumerate((
        ("sun", "sunday", "dim", "dimanche"),
        ("mon", "monday", "lun", "lundi"),
        ("tue", "tuesday", "mar", "mardi"),
        ("wed", "wednesday", "mer", "mercredi"),
        ("thu", "thursday", "jeu", "jeudi"),
        ("fri", "friday", "ven", "vendredi"),
        ("sat", "saturday", "sam", "samedi"))):
    for _name in _day_names:
        _DAY_NAMES[_name] = _DAYS[_i]

#: Month names (folded) in English and French.
_MONTH_NAMES: dict[str, str] = {}
for _i, _names in enumerate((
        ("jan", "january", "janv", "janvier"),
        ("feb", "february", "fev", "fevr", "fevrier"),
        ("mar", "march", "mars"),
        ("apr", "april", "avr", "avril"),
        ("may", "mai"),
        ("jun", "june", "juin"),
        ("jul", "july", "juil", "juillet"),
        ("aug", "august", "aou", "aout"),
        ("sep", "sept", "september", "septembre"),
        ("oct", "october", "octobre"),
        ("nov", "november", "novembre"),
        ("dec", "december", "decembre"))):
    for _name in _names:
        _MONTH_NAMES[_name] = _MONTHS[_i]

#: name, lowest, highest, names accepted, example
_FIELDS: tuple[tuple[str, int, int, dict[str, str], str], ...] = (
    ("minute", 0, 59, {}, "0-59"),
    ("hour", 0, 23, {}, "0-23"),
    ("day of month", 1, 31, {}, "1-31"),
    ("month", 1, 12, _MONTH_NAMES, "1-12 or jan-dec (janv-déc)"),
    ("day of week", 0, 7, _DAY_NAMES, "0-7 (0 and 7 are Sunday) or mon-sun (lun-dim)"),
)
_ITEM = r"(?:\d+|[a-z]+)"
_PART = re.compile(rf"^(?:\*|\?|{_ITEM}(?:-{_ITEM})?)(?:/(\d+))?$")
_EXAMPLE = '"0 8 * * 1" (Mondays at 08:00)'


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).rstrip(".")


def check_cron(expression: object) -> str:
    """Return ``expression`` normalised (names in English, single spaces), or raise
    :class:`ValueError` naming the bad field and what to write."""
    if not isinstance(expression, str):
        raise ValueError(f"expected a cron expression in quotes such as {_EXAMPLE}")
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday) such as "
                         f"{_EXAMPLE}, got {expression!r}")
    out = []
    for value, spec in zip(fields, _FIELDS, strict=True):
        out.append(",".join(_check_part(part, spec, expression)
                            for part in _fold(value).split(",")))
    normalised = " ".join(out)
    _check_with_apscheduler(normalised, expression)
    return normalised


def _check_part(part: str, spec: tuple[str, int, int, dict[str, str], str],
                expression: str) -> str:
    name, low, high, names, allowed = spec
    match = _PART.match(part)
    if match is None:
        raise ValueError(f"invalid {name} field {part!r} in {expression!r}: expected {allowed}, "
                         "'*', a range a-b, a list a,b or a step */n")
    step = match.group(1)
    if step is not None and int(step) == 0:
        raise ValueError(f"the step of the {name} field cannot be 0 in {expression!r}")
    base = part.split("/", 1)[0]
    if base in {"*", "?"}:
        return part
    items = [_check_item(item, name, low, high, names, allowed, expression)
             for item in base.split("-")]
    if len(items) == 2 and items[0].isdigit() and items[1].isdigit() \
            and int(items[0]) > int(items[1]) and not (names is _DAY_NAMES and items[1] in "07"):
        raise ValueError(f"the {name} range {base!r} goes backwards in {expression!r}: "
                         f"write {items[1]}-{items[0]}")
    base = "-".join(items)
    return f"{base}/{step}" if step is not None else base


def _check_item(item: str, name: str, low: int, high: int, names: dict[str, str],
                allowed: str, expression: str) -> str:
    if item.isdigit():
        if not low <= int(item) <= high:
            raise ValueError(f"{name} {item} is out of range in {expression!r}: expected "
                             f"{allowed}")
        return str(int(item))
    if item in names:
        return names[item]
    raise ValueError(f"unknown {name} {item!r} in {expression!r}: expected {allowed}")


def _check_with_apscheduler(normalised: str, expression: str) -> None:
    """What the scheduler will build must build (ranges of names going backwards...)."""
    from apscheduler.triggers.cron import CronTrigger

    from civicbot.triggers import crontab_weekdays

    minute, hour, day, month, weekday = normalised.split()
    try:
        CronTrigger(minute=minute, hour=hour, day=day, month=month,
                    day_of_week=crontab_weekdays(weekday), timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None
