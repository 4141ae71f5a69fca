"""Every hook of ``civicbot.hookspecs`` is documented: the Hooks reference renders it with
mkdocstrings, the lifecycle page says when it fires, and it has a docstring to render."""

from __future__ import annotations

import inspect
import re

import pytest
from doc_blocks import DOCS

from civicbot import hookspecs

HOOKS = sorted(
    name for name, value in vars(hookspecs).items()
    if name.startswith("civicbot_") and callable(value)
)
DIRECTIVE = re.compile(r"^::: civicbot\.hookspecs\.(\w+)\s*$", re.MULTILINE)


def test_hookspecs_are_found() -> None:
    assert "civicbot_config_schema" in HOOKS
    assert all(getattr(getattr(hookspecs, n), "civicbot_spec", None) is not None for n in HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_in_the_hooks_reference(hook: str) -> None:
    page = (DOCS / "hooks.md").read_text(encoding="utf-8")
    assert hook in DIRECTIVE.findall(page), (
        f"docs/hooks.md has no '::: civicbot.hookspecs.{hook}' directive: add it under the "
        "right heading")
    assert f"`{hook}`" in page, f"docs/hooks.md: add {hook} to the summary table"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_on_the_lifecycle_page(hook: str) -> None:
    assert hook in (DOCS / "lifecycle.md").read_text(encoding="utf-8"), (
        f"docs/lifecycle.md does not say when {hook} fires")


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring_with_an_example(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc.split()) >= 10, f"{hook} has no docstring for the Hooks reference"
    assert "Example::" in doc, f"{hook}'s docstring shows no example"


def test_no_directive_names_a_hook_that_does_not_exist() -> None:
    page = (DOCS / "hooks.md").read_text(encoding="utf-8")
    stale = sorted(set(DIRECTIVE.findall(page)) - set(HOOKS))
    assert not stale, f"docs/hooks.md documents hooks that no longer exist: {stale}"
