"""Finding what a mention asks for: commands (at the start), keywords (whole words, any case,
with or without accents) and regular expressions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from civicbot import Command
from civicbot_auto_reply.sanitize import MAX_ECHO, plain

_TOKEN = re.compile(r"\w+", re.UNICODE)
_ARGS_STRIP = " \t\n,;:.!?-–—«»\"'’"
#: Letters Unicode does not decompose but French writes both ways ("vœux" / "voeux").
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "’": "'"})
#: Apostrophes typed by phones and word processors, read as the straight one.
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'"})


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Case-folded, accent-free ``text`` (ligatures œ and æ written out), and for each of its
    characters the index of the character of ``text`` it comes from (plus a final entry,
    ``len(text)``)."""
    out: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        folded = unicodedata.normalize("NFKD", char.casefold().translate(_LIGATURES))
        for piece in folded:
            if unicodedata.combining(piece):
                continue
            out.append(piece)
            where.append(index)
    where.append(len(text))
    return "".join(out), where


def fold(text: str) -> str:
    """Case-folded, accent-free text: how keywords and command names are compared."""
    return fold_with_map(text)[0]


def words_pattern(phrase: str) -> str:
    """A regex matching the words of ``phrase`` (folded) separated by any punctuation/space."""
    tokens = _TOKEN.findall(fold(phrase))
    return r"[\W_]+".join(re.escape(t) for t in tokens)


@dataclass(frozen=True)
class Found:
    """What a rule matched, as templates see it (plain, capped text)."""

    match: str
    groups: tuple[str, ...] = ()
    named: dict[str, str] = field(default_factory=dict)


class KeywordMatcher:
    """Matches any of the keywords as whole words, ignoring case and accents."""

    def __init__(self, keywords: Iterable[str]) -> None:
        patterns = sorted({words_pattern(k) for k in keywords if words_pattern(k)},
                          key=len, reverse=True)
        self.pattern = re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)")

    def search(self, text: str) -> Found | None:
        folded, where = fold_with_map(text)
        m = self.pattern.search(folded)
        if m is None:
            return None
        original = text[where[m.start()]:where[m.end()]]
        return Found(match=plain(original, MAX_ECHO))


#: Longest a mention's regular expressions may run, all rules together (seconds).
MATCH_BUDGET = 0.25


class MatchTimeout(TimeoutError):
    """A regular expression ran out of its time on a mention (the mention is skipped)."""


class RegexMatcher:
    """Matches a regular expression on the text as written, except that typographic
    apostrophes (’) and straight ones (') are the same character on both sides: residents'
    phones type "d’identité" where the config says "d'identité".

    The ``regex`` module runs it (the same syntax as ``re``) because it can stop a search
    after a time limit and lets other threads run meanwhile: the analysis of the config
    (``regex_safety``) refuses the patterns known to backtrack for ever, the limit covers
    the others."""

    def __init__(self, pattern: str) -> None:
        import regex  # imported when a config has regular expressions

        self.pattern = regex.compile(pattern.translate(_APOSTROPHES))

    def search(self, text: str, timeout: float = MATCH_BUDGET) -> Found | None:
        """The first match in ``text``; :class:`MatchTimeout` after ``timeout`` seconds."""
        try:
            # same length as ``text``: the spans of the match are valid in the original
            m = self.pattern.search(text.translate(_APOSTROPHES), timeout=max(timeout, 0.001),
                                    concurrent=True)
        except TimeoutError as exc:
            raise MatchTimeout(f"{self.pattern.pattern!r} ran for more than "
                               f"{timeout:.2f} s") from exc
        if m is None:
            return None

        def group(index: int | str) -> str:
            start, end = m.span(index)
            return plain(text[start:end], MAX_ECHO) if start >= 0 else ""

        return Found(
            match=group(0),
            groups=tuple(group(i) for i in range(1, len(m.groups()) + 1)),
            named={name: group(name) for name in m.groupdict()},
        )


@dataclass(frozen=True)
class CommandMatch:
    command: Command
    name: str
    args: str


def match_command(text: str, commands: Sequence[Command]) -> CommandMatch | None:
    """The command the text starts with (or is equal to), longest name first; the words after
    the name are the arguments."""
    folded, where = fold_with_map(text)
    candidates = sorted(
        ((words_pattern(name), name, command) for command in commands for name in command.names),
        key=lambda item: len(item[0]), reverse=True,
    )
    for pattern, name, command in candidates:
        if not pattern:
            continue
        m = re.match(r"[\W_]*" + pattern + r"(?!\w)", folded)
        if m is not None:
            args = text[where[m.end()]:].strip(_ARGS_STRIP)
            return CommandMatch(command=command, name=name, args=args)
    return None
