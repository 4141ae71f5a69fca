"""Check a 5-field crontab expression when the config is read, with a message people understand.

The core hands the expression to APScheduler only when the scheduler starts; checking it here
means a typo is reported by ``civicbot check-config`` with the file and line of the post.
"""

from __future__ import annotations

import re

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

#: name, lowest, highest, names accepted
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_VALUE = r"(?:\d+|[a-z]{3})"
_PART = re.compile(rf"^(?:\*|\?|{_VALUE}(?:-{_VALUE})?)(?:/(\d+))?$")


def check_cron(expression: str) -> str:
    """Return the expression if valid; raise ValueError naming the bad field otherwise."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"cron: expected 5 fields (minute hour day month weekday), got {expression!r}")
    for value, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        for part in value.lower().split(","):
            match = _PART.match(part)
            if match is None:
                raise ValueError(f"cron: invalid {name} field {value!r} in {expression!r}")
            if match.group(1) is not None and int(match.group(1)) == 0:
                raise ValueError(f"cron: the step of the {name} field cannot be 0")
            base = part.split("/", 1)[0]
            if base in {"*", "?"}:
                continue
            for item in base.split("-"):
                _check_value(item, name, low, high, names, expression)
    return expression


def _check_value(item: str, name: str, low: int, high: int, names: tuple[str, ...],
                 expression: str) -> None:
    if item.isdigit():
        if not low <= int(item) <= high:
            raise ValueError(f"cron: {name} {item} is out of range {low}-{high} "
                             f"in {expression!r}")
        return
    if item not in names:
        raise ValueError(f"cron: unknown {name} {item!r} in {expression!r}")
