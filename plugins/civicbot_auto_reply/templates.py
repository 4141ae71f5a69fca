"""Reply templates: Jinja2 in a sandbox, fed only with plain, capped values.

Variables available in a template:

``sender``   the resident's display name (plain text, at most 40 characters)
``match``    the text the keyword or regular expression matched (at most 60 characters)
``groups``   the regular expression's groups, a tuple (each at most 60 characters)
``named``    its named groups, a mapping
``language`` the language of the reply ("fr", "en"...)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from civicbot import template_sandbox

# bounded: {{ 9**(9**9) }} or range(10**9) are template errors, not a frozen check-config
_ENV: SandboxedEnvironment = template_sandbox(autoescape=False, undefined=StrictUndefined,
                                              auto_reload=False)

#: Longest reply text a template may produce with short sample values (the @mention of the
#: resident and their name must still fit in 500 characters).
MAX_TEMPLATE_LENGTH = 400


@lru_cache(maxsize=512)
def compile_template(source: str) -> Template:
    """The compiled template (raises :class:`jinja2.TemplateError`)."""
    return _ENV.from_string(source)


def render(source: str, values: Mapping[str, Any]) -> str:
    """Render a template; the result is stripped of surrounding blank space."""
    return compile_template(source).render(**values).strip()


def sample_values(pattern: str | None) -> dict[str, Any]:
    """Short, realistic values to check a template when the config is loaded."""
    groups: tuple[str, ...] = ()
    named: dict[str, str] = {}
    if pattern is not None:
        compiled = re.compile(pattern)
        groups = tuple("abc" for _ in range(compiled.groups))
        named = dict.fromkeys(compiled.groupindex, "abc")
    return {"sender": "Camille", "match": "abc", "groups": groups, "named": named,
            "language": "fr"}


def check_template(source: str, pattern: str | None = None) -> None:
    """Raise ValueError when the template does not compile, uses an unknown variable or is too
    long once rendered."""
    try:
        text = render(source, sample_values(pattern))
    except TemplateError as exc:
        raise ValueError(f"invalid reply template {source!r}: {exc}") from exc
    if not text:
        raise ValueError(f"reply template {source!r} renders an empty text")
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise ValueError(
            f"reply template renders {len(text)} characters; keep it under "
            f"{MAX_TEMPLATE_LENGTH} so that the @mention and the name fit in one post"
        )
