"""French texts residents and admins read follow French typography (issue 12): a space before
« ; : ! ? » (none in an English text), plurals written out ("4 autres", never "autre(s)")."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest

MODULES = ["civicbot_auto_reply.texts", "civicbot_event_digest.templates",
           "civicbot_weather.texts"]
#: a letter, a digit or a closing mark glued to ; : ! ? (times such as 20:57 are fine)
GLUED = re.compile(r"[^\s\d/][;:!?](?=\s|$)")


def french_texts(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in french_texts(v, (*path, k))]
    if isinstance(value, list | tuple):
        return [t for i, v in enumerate(value) for t in french_texts(v, (*path, i))]
    if isinstance(value, str) and "fr" in path:
        return [(path, value)]
    return []


@pytest.mark.parametrize("module", MODULES)
def test_french_texts_have_a_space_before_double_punctuation(module: str) -> None:
    texts = [t for name, value in vars(importlib.import_module(module)).items()
             if name.isupper() for t in french_texts(value, (name,))]
    assert texts, module
    for path, text in texts:
        without_links = re.sub(r"https?://\S+", "", text)
        assert not GLUED.search(without_links), (path, text)
        assert "(s)" not in text, (path, text)
