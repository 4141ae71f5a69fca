"""Refuse, when the config is read, regular expressions that can take forever on a long message.

Python's ``re`` has no time limit and holds the interpreter while it searches: a rule such as
``(\\w+\\s?)+$`` needs seconds for 25 characters and years for a resident's 1,000, freezing every
job and reply of the bot. Such "catastrophic backtracking" comes from a repetition inside a
repetition; the check below finds it in the parsed expression.
"""

from __future__ import annotations

import re._parser as sre_parse  # the parser of the re module itself
from re._constants import MAX_REPEAT, MAXREPEAT, MIN_REPEAT
from typing import Any

_REPEATS = (MAX_REPEAT, MIN_REPEAT)


def _items(node: Any) -> list[Any]:
    """The sub-patterns found in one ``(op, av)`` item's argument."""
    if isinstance(node, sre_parse.SubPattern):
        return [node]
    if isinstance(node, (list, tuple)):
        found: list[Any] = []
        for part in node:
            found.extend(_items(part))
        return found
    return []


def _widest_repeat(pattern: Any) -> tuple[bool, bool]:
    """(contains a repetition of more than one, contains an unbounded one) in ``pattern``."""
    multi = unbounded = False
    for op, av in pattern:
        if op in _REPEATS:
            _low, high, body = av
            multi = multi or high > 1
            unbounded = unbounded or high == MAXREPEAT
            inner_multi, inner_unbounded = _widest_repeat(body)
        else:
            inner_multi = inner_unbounded = False
            for sub in _items(av):
                m, u = _widest_repeat(sub)
                inner_multi, inner_unbounded = inner_multi or m, inner_unbounded or u
        multi, unbounded = multi or inner_multi, unbounded or inner_unbounded
    return multi, unbounded


def nested_repeat(pattern: Any) -> bool:
    """True when a repetition contains another one and one of them is unbounded."""
    for op, av in pattern:
        if op in _REPEATS:
            _low, high, body = av
            inner_multi, inner_unbounded = _widest_repeat(body)
            if high > 1 and inner_multi and (high == MAXREPEAT or inner_unbounded):
                return True
            if nested_repeat(body):
                return True
        else:
            if any(nested_repeat(sub) for sub in _items(av)):
                return True
    return False


def check_regex_safety(source: str) -> None:
    """Raise ValueError when ``source`` nests repetitions (exponential on long messages)."""
    if nested_repeat(sre_parse.parse(source)):
        raise ValueError(
            f"regular expression {source!r} repeats a group that itself repeats (such as "
            "(\\w+ )+): on a long message it could run for hours and freeze the bot; "
            "write it without a repetition inside a repetition")
