"""Finding what a mention asks for: commands (at the start, or named anywhere in a short
question), keywords (whole words, any case, with or without accents) and regular expressions.

Each match has a *score*, how specific it is, so that the most specific answer wins: a keyword
of several words scores its number of words when all of them are in the message (in any order:
"déchèterie ouverte" matches "La déchèterie est-elle ouverte ?"), a single word scores 1, a
regular expression scores the number of words it matched (at most 3)."""

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
    #: How specific the match is (see the module's docstring); higher wins.
    score: int = 1


@dataclass(frozen=True)
class FoldedText:
    """A message folded once for every keyword rule: the folded text, the map back to the
    original characters, and its set of words."""

    text: str
    folded: str
    where: list[int]
    words: frozenset[str]

    @classmethod
    def of(cls, text: str) -> FoldedText:
        folded, where = fold_with_map(text)
        return cls(text, folded, where, frozenset(_TOKEN.findall(folded)))


class KeywordMatcher:
    """Matches keywords as whole words, ignoring case and accents. A keyword of several words
    matches when all its words are in the text (written together, or apart in any order); the
    match with the most words wins, then the first keyword listed."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self.keywords: list[tuple[int, frozenset[str], re.Pattern[str]]] = []
        for keyword in keywords:
            tokens = frozenset(_TOKEN.findall(fold(keyword)))
            if tokens:
                phrase = re.compile(r"(?<!\w)" + words_pattern(keyword) + r"(?!\w)")
                self.keywords.append((len(tokens), tokens, phrase))

    def search(self, text: str, folded: FoldedText | None = None) -> Found | None:
        message = folded if folded is not None and folded.text == text else FoldedText.of(text)
        best: tuple[int, frozenset[str], re.Pattern[str]] | None = None
        for entry in self.keywords:
            if (best is None or entry[0] > best[0]) and entry[1] <= message.words:
                best = entry
        if best is None:
            return None
        score, tokens, phrase = best
        m = phrase.search(message.folded)
        if m is not None:
            start, end = m.start(), m.end()
        else:  # the words apart: from the first to the last of them
            spans = [re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", message.folded)
                     for t in tokens]
            found = [span for span in spans if span is not None]
            start, end = min(f.start() for f in found), max(f.end() for f in found)
        original = text[message.where[start]:message.where[end]]
        return Found(match=plain(original, MAX_ECHO), score=score)


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

    def search(self, text: str, folded: FoldedText | None = None,
               timeout: float = MATCH_BUDGET) -> Found | None:
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
            score=max(1, min(3, len(_TOKEN.findall(m.group(0))))),
        )


@dataclass(frozen=True)
class CommandMatch:
    command: Command
    name: str
    args: str
    #: Number of words of the name (how specific the match is).
    score: int = 1
    #: True when the message starts with the name; False when it was found further on.
    at_start: bool = True


#: A command is looked for anywhere in a question of at most this many words.
SHORT_QUESTION_WORDS = 15


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


def find_command(text: str, commands: Sequence[Command],
                 max_words: int = SHORT_QUESTION_WORDS) -> CommandMatch | None:
    """A command named anywhere in a short question ("Quels sont les horaires de la
    bibliothèque ?" finds "horaires bibliothèque"): the words of the name in order, other words
    allowed between them; the name with the most words wins. Admin-only commands are only
    ever read at the start of a message."""
    folded, where = fold_with_map(text)
    if len(_TOKEN.findall(folded)) > max_words:
        return None
    best: CommandMatch | None = None
    for command in commands:
        if command.admin_only:
            continue
        for name in command.names:
            tokens = _TOKEN.findall(fold(name))
            if not tokens or (best is not None and len(tokens) <= best.score):
                continue
            gap = r"[\W_]+(?:\w+[\W_]+){0,4}?"  # a few words may come between
            pattern = r"(?<!\w)" + gap.join(re.escape(t) for t in tokens) + r"(?!\w)"
            m = re.search(pattern, folded)
            if m is not None:
                args = text[where[m.end()]:].strip(_ARGS_STRIP)
                best = CommandMatch(command=command, name=name, args=args, score=len(tokens),
                                    at_start=False)
    return best
