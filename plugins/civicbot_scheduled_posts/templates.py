"""Post texts are Jinja2 templates, rendered in a sandbox with dates written by Babel.

Available in a template:

``now``
    the time of posting (a datetime in the bot's time zone; the ``--at`` time in a preview);
``date``
    that day written out in the post's language, e.g. ``lundi 21 décembre 2026``;
``time``
    that time, e.g. ``09:00``;
``vars`` (and each of its keys directly)
    the values of the plugin's ``vars:`` mapping.

Filters: ``format_date("EEEE d MMMM")``, ``format_time("HH:mm")`` and
``format_datetime("d MMMM 'à' HH:mm")`` take a Babel (CLDR) pattern.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from babel.dates import format_date, format_datetime, format_time
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from civicbot import template_sandbox

#: Names a template always has; ``vars:`` keys cannot take them.
RESERVED_NAMES = frozenset({"now", "date", "time", "vars"})


class TemplateProblem(ValueError):
    """A template that does not compile or does not render."""


def _environment(locale: str) -> SandboxedEnvironment:
    # bounded: {{ 9**(9**9) }} or range(10**9) are template errors, not a frozen bot
    env: SandboxedEnvironment = template_sandbox(undefined=StrictUndefined, autoescape=False,
                                                 keep_trailing_newline=False)

    def _date(value: date | datetime, pattern: str = "full") -> str:
        return str(format_date(value, pattern, locale=locale))

    def _time(value: time | datetime, pattern: str = "HH:mm") -> str:
        return str(format_time(value, pattern, locale=locale))

    def _datetime(value: datetime, pattern: str = "medium") -> str:
        return str(format_datetime(value, pattern, tzinfo=value.tzinfo, locale=locale))

    env.filters.update(format_date=_date, format_time=_time, format_datetime=_datetime)
    return env


_CHECK_ENV = _environment("fr")


def check_template(source: str) -> str:
    """Compile ``source``; raise :class:`TemplateProblem` with the line on a syntax error."""
    try:
        _CHECK_ENV.parse(source)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line} of the text)" if line else ""
        raise TemplateProblem(f"template error{where}: {exc.message or exc}") from None
    return source


def unknown_names(source: str, variables: Mapping[str, Any]) -> list[str]:
    """The names ``source`` reads that no template of the plugin will have (typos)."""
    from jinja2 import meta

    try:
        names = meta.find_undeclared_variables(_CHECK_ENV.parse(source))
    except TemplateError:
        return []  # reported by check_template
    known = RESERVED_NAMES | set(variables) | set(_CHECK_ENV.globals)
    return sorted(names - known)


def render(source: str, *, now: datetime, locale: str, variables: Mapping[str, Any]) -> str:
    """Render a post text; raise :class:`TemplateProblem` on any error (unknown name...)."""
    context: dict[str, Any] = dict(variables)
    context.update(
        vars=dict(variables),
        now=now,
        date=format_date(now, "EEEE d MMMM y", locale=locale),
        time=format_time(now, "HH:mm", locale=locale),
    )
    try:
        return _compiled(source, locale).render(context).strip()
    except TemplateError as exc:
        raise TemplateProblem(f"template error: {exc.message or exc}") from None
    except Exception as exc:  # e.g. a bad Babel pattern in a filter
        raise TemplateProblem(f"template error: {type(exc).__name__}: {exc}") from None


@functools.lru_cache(maxsize=512)
def _compiled(source: str, locale: str) -> Template:
    """A post's template, compiled once per text and locale (the desk's calendar previews
    every run of every post; compiling dominated its time)."""
    return _environment(locale).from_string(source)
