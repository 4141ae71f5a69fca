"""Griffe extension: render the reST bits of civicbot's docstrings in Markdown.

civicbot's docstrings are read in the source and in ``help()``, so they use reST roles
(:class:`civicbot.Job`) and ``double backticks``; mkdocstrings renders Markdown. This extension
turns roles into inline code and ``Example::`` blocks into fenced Python code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|data|meth|attr|mod|exc|obj):`~?([^`]+)`")
_LITERAL = re.compile(r"^(?P<intro>.*?)::\n\n(?P<body>(?:(?: {4}.*)?\n?)+)", re.MULTILINE)


def rest_to_markdown(text: str) -> str:
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text).replace("``", "`")

    def fence(match: re.Match[str]) -> str:
        intro = match.group("intro")
        body = "\n".join(line[4:] for line in match.group("body").rstrip().splitlines())
        return f"{intro}:\n\n```python\n{body}\n```\n\n"

    return _LITERAL.sub(fence, text)


class RestRoles(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rest_to_markdown(obj.docstring.value)
