"""Refuse, when the config is read, regular expressions that can take forever on a long message.

A backtracking engine tries every way a text can be split between the parts of a pattern: a
rule such as ``(\\w+\\s?)+$`` needs seconds for 25 characters and years for a resident's 1,000.
Such "catastrophic backtracking" comes from ambiguity, which the checks below find in the
parsed expression:

* a repetition inside a repetition (``(\\w+\\s?)+``, ``(?:a*)*``);
* a repeated choice whose alternatives can start with the same character (``(.|\\s)*``,
  ``(a|a)+``): every character can be taken by either;
* three unbounded repetitions of overlapping characters one after the other (``.*.*.*``,
  ``\\s*\\s*\\s*``): polynomial, but the fourth power of 1,000 characters is still hours.

The analysis is the first line; matching also runs under a time limit (see ``matching.py``),
so a pattern it does not recognise still cannot hold the bot.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the parser of the re module itself
from collections.abc import Callable
from re._constants import (
    ANY,
    ASSERT,
    ASSERT_NOT,
    AT,
    BRANCH,
    CATEGORY,
    IN,
    LITERAL,
    MAX_REPEAT,
    MAXREPEAT,
    MIN_REPEAT,
    NEGATE,
    NOT_LITERAL,
    RANGE,
    SUBPATTERN,
)
from typing import Any

_REPEATS = (MAX_REPEAT, MIN_REPEAT)
#: Characters standing for every class a pattern can use (letters with and without accents,
#: digits, spaces, punctuation, line breaks): two parts "overlap" when one of these fits both.
_SAMPLE = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
           "éèêàçôœÉÀÇ _-.,;:!?'\"’«»()[]{}/\\@#&%*+=<>|~^$€\t\n\r\u00a0\u202f\u2028")
_CATEGORIES: dict[str, Callable[[str], bool]] = {
    "CATEGORY_DIGIT": str.isdigit,
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_SPACE": str.isspace,
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}
_ALL = frozenset(_SAMPLE)


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


def _char_fits(op: Any, av: Any, char: str, ignore_case: bool) -> bool:
    """Whether one single-character item of a parsed pattern accepts ``char``."""
    if op is ANY:
        return True  # with or without DOTALL: the overlap question is the same
    if op is LITERAL or op is NOT_LITERAL:
        same = chr(av) == char or (ignore_case and chr(av).casefold() == char.casefold())
        return same if op is LITERAL else not same
    if op is CATEGORY:
        test = _CATEGORIES.get(str(av))
        return True if test is None else test(char)
    if op is IN:
        negate = bool(av) and av[0][0] is NEGATE
        items = av[1:] if negate else av
        fits = False
        for item_op, item_av in items:
            if item_op is RANGE:
                low, high = item_av
                fits = low <= ord(char) <= high or (ignore_case and any(
                    low <= ord(c) <= high for c in (char.lower(), char.upper())))
            else:
                fits = _char_fits(item_op, item_av, char, ignore_case)
            if fits:
                break
        return fits != negate
    return True  # anything else: assume it may (refusing too much beats freezing)


def _first(pattern: Any, ignore_case: bool) -> tuple[frozenset[str], bool]:
    """(sample characters that can start a match of ``pattern``, whether it can match "")."""
    chars: set[str] = set()
    for op, av in pattern:
        if op is SUBPATTERN:
            first, empty = _first(av[3], ignore_case)
        elif op is BRANCH:
            first, empty = frozenset(), False
            for branch in av[1]:
                f, e = _first(branch, ignore_case)
                first, empty = first | f, empty or e
        elif op in _REPEATS:
            low, _high, body = av
            first, empty = _first(body, ignore_case)
            empty = empty or low == 0
        elif op in (AT, ASSERT, ASSERT_NOT):
            first, empty = frozenset(), True
        elif op in (ANY, LITERAL, NOT_LITERAL, CATEGORY, IN):
            first = frozenset(c for c in _SAMPLE if _char_fits(op, av, c, ignore_case))
            empty = False
        else:  # back-references and the like: anything
            first, empty = _ALL, True
        chars |= first
        if not empty:
            return frozenset(chars), False
    return frozenset(chars), True


def _branches(pattern: Any) -> list[Any]:
    """The BRANCH items of ``pattern`` and of its groups (not inside nested repetitions)."""
    found = []
    for op, av in pattern:
        if op is BRANCH:
            found.append(av)
            for branch in av[1]:
                found.extend(_branches(branch))
        elif op is SUBPATTERN:
            found.extend(_branches(av[3]))
    return found


def ambiguous_choice(pattern: Any, ignore_case: bool = False) -> bool:
    """True when a repetition holds a choice two of whose alternatives can match the same
    start (or both match nothing): ``(.|\\s)*``, ``(a|a)+``."""
    for op, av in pattern:
        if op in _REPEATS:
            _low, high, body = av
            if high > 1:
                for branch in _branches(body):
                    firsts = [_first(alternative, ignore_case) for alternative in branch[1]]
                    for i, (first_i, empty_i) in enumerate(firsts):
                        for first_j, empty_j in firsts[i + 1:]:
                            if first_i & first_j or (empty_i and empty_j):
                                return True
            if ambiguous_choice(body, ignore_case):
                return True
        elif any(ambiguous_choice(sub, ignore_case) for sub in _items(av)):
            return True
    return False


def stacked_repeats(pattern: Any, ignore_case: bool = False) -> bool:
    """True when three unbounded repetitions of overlapping characters follow each other with
    nothing required in between: ``.*.*.*``, ``\\s*\\s*\\s*``, ``\\w+\\d*\\w+\\d*``."""
    previous: list[frozenset[str]] = []  # characters of the open unbounded repetitions
    for op, av in pattern:
        if op in _REPEATS and av[1] == MAXREPEAT:
            chars, _empty = _first(av[2], ignore_case)
            # two in a row cost a power of 3 of the length, which the time limit absorbs;
            # three or more (a power of 4 and up) are refused
            if sum(1 for other in previous if chars & other) >= 2:
                return True
            previous.append(chars)
            if av[0] > 0:  # "x+" requires a character: what came before is closed
                previous = [chars]
            if stacked_repeats(av[2], ignore_case):
                return True
            continue
        for sub in _items(av):
            if stacked_repeats(sub, ignore_case):
                return True
        if op in (AT, ASSERT, ASSERT_NOT):
            continue
        _chars, empty = _first([(op, av)], ignore_case)
        if not empty:
            previous = []
    return False


def check_regex_safety(source: str) -> None:
    """Raise ValueError when ``source`` can backtrack for hours on a long message."""
    parsed = sre_parse.parse(source)
    ignore_case = bool(parsed.state.flags & re.IGNORECASE)
    if nested_repeat(parsed):
        raise ValueError(
            f"regular expression {source!r} repeats a group that itself repeats (such as "
            "(\\w+ )+): on a long message it could run for hours and freeze the bot; "
            "write it without a repetition inside a repetition")
    if ambiguous_choice(parsed, ignore_case):
        raise ValueError(
            f"regular expression {source!r} repeats a choice whose alternatives can match the "
            "same text (such as (.|\\s)*): on a long message it could run for hours and freeze "
            "the bot; make the alternatives exclusive or use a character class such as [\\s\\S]")
    if stacked_repeats(parsed, ignore_case):
        raise ValueError(
            f"regular expression {source!r} has unbounded repetitions of the same characters "
            "one after the other (such as .*.*.* or \\s*\\s*\\s*): on a long message it could run "
            "for hours and freeze the bot; keep only one of them")
