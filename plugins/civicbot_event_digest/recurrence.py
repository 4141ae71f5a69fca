"""Bounds on recurring events, checked before a calendar is expanded.

An ``RRULE:FREQ=SECONDLY`` with no end took a minute of CPU and 2 GB for one digest (the
expansion walks every occurrence from DTSTART to the window). Before expanding:

* sub-hourly rules are refused (``FREQ=SECONDLY`` or ``MINUTELY``, or several ``BYMINUTE`` /
  ``BYSECOND`` values): a town agenda has no such event;
* a rule that would step through more than :data:`MAX_STEPS` occurrences from its DTSTART to
  the end of the window (an hourly rule running for years) is refused;

and after expanding, an event keeps at most :data:`MAX_PER_EVENT` occurrences in the window.
Each refusal is logged with the event's summary and UID; the other events still count.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

#: The most occurrences one rule may step through from its start to the end of the window.
MAX_STEPS = 50_000
#: The most occurrences one event keeps in a window (digests and commands).
MAX_PER_EVENT = 100

_SUB_HOURLY = {"SECONDLY", "MINUTELY"}
_PER_DAY = {"HOURLY": 24.0, "DAILY": 1.0, "WEEKLY": 1 / 7, "MONTHLY": 1 / 28, "YEARLY": 1 / 365}


def _name(component: Any) -> dict[str, str]:
    return {"summary": str(component.get("SUMMARY", "") or "")[:80],
            "uid": str(component.get("UID", "") or "")[:120]}


def _rules(component: Any) -> list[Any]:
    rules: list[Any] = []
    for prop in ("RRULE", "EXRULE"):
        value = component.get(prop)
        if value is not None:
            rules.extend(value if isinstance(value, list) else [value])
    return rules


def _first(rule: Any, key: str) -> Any:
    value = rule.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _count(rule: Any, key: str) -> int:
    value = rule.get(key)
    if value is None:
        return 1
    return max(1, len(value) if isinstance(value, list) else 1)


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def refusal(component: Any, window_end: date) -> str | None:
    """Why the recurring ``component`` must not be expanded up to ``window_end``, or None."""
    start_prop = component.get("DTSTART")
    start = _day(start_prop.dt) if start_prop is not None else None
    for rule in _rules(component):
        freq = str(_first(rule, "FREQ") or "").upper()
        if freq in _SUB_HOURLY or _count(rule, "BYMINUTE") > 1 or _count(rule, "BYSECOND") > 1:
            return "sub-hourly recurrence refused"
        count = _first(rule, "COUNT")
        if count is not None:
            try:
                if int(count) <= MAX_STEPS:
                    continue
            except (TypeError, ValueError):
                pass
        if start is None or freq not in _PER_DAY:
            continue
        until = _day(_first(rule, "UNTIL"))
        last = min(until, window_end) if until is not None else window_end
        interval = max(1, int(_first(rule, "INTERVAL") or 1))
        per_day = _PER_DAY[freq] / interval
        for key in ("BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH",
                    "BYSETPOS"):
            per_day *= _count(rule, key)
        steps = max(0, (last - start).days + 1) * per_day
        if steps > MAX_STEPS:
            return f"about {int(steps)} occurrences from {start.isoformat()} (at most {MAX_STEPS})"
    return None


def drop_unbounded(calendar: Any, window_end: date, log: Any = None) -> None:
    """Remove from ``calendar`` the VEVENTs whose recurrence :func:`refusal` refuses."""
    kept = []
    for component in calendar.subcomponents:
        reason = refusal(component, window_end) if component.name == "VEVENT" else None
        if reason is None:
            kept.append(component)
        elif log is not None:
            log.warning("recurring event refused", reason=reason, **_name(component))
    calendar.subcomponents[:] = kept


def cap_per_event(components: list[Any], log: Any = None) -> list[Any]:
    """At most :data:`MAX_PER_EVENT` occurrences of each event (by UID, else summary)."""
    seen: Counter[str] = Counter()
    kept = []
    for component in components:
        key = str(component.get("UID", "") or component.get("SUMMARY", "") or "")
        seen[key] += 1
        if seen[key] <= MAX_PER_EVENT:
            kept.append(component)
        elif seen[key] == MAX_PER_EVENT + 1 and log is not None:
            log.warning("recurring event capped", at_most=MAX_PER_EVENT, **_name(component))
    return kept
