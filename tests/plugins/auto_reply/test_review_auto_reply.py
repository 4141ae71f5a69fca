"""Review findings on auto_reply: French spellings residents really type, and config regexes
that could freeze the bot."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from auto_reply_support import CIVIL, faq, text_of
from pydantic import ValidationError

import civicbot_auto_reply
from civicbot_auto_reply.config import AutoReplyConfig
from civicbot_auto_reply.matching import KeywordMatcher, RegexMatcher
from civicbot_auto_reply.sanitize import MAX_SCAN, mention_text

ID_CARD = "Pour une carte d'identité, prenez rendez-vous : https://mairie.example/cni"


@pytest.mark.parametrize(("keyword", "text", "written"), [
    ("voeux", "Quand ont lieu les vœux du maire ?", "vœux"),
    ("vœux", "Quand ont lieu les VOEUX du maire ?", "VOEUX"),
    ("Œuvre", "une oeuvre du musée", "oeuvre"),
    ("ex aequo", "ex æquo au concours", "ex æquo"),
])
def test_keywords_match_with_or_without_ligature(keyword: str, text: str, written: str) -> None:
    found = KeywordMatcher([keyword]).search(text)
    assert found is not None
    assert found.match == written


def test_keyword_ligature_still_needs_whole_words() -> None:
    assert KeywordMatcher(["voeux"]).search("les vœuxx") is None


@pytest.mark.parametrize("regex", [
    r"^(\w+\s?)+$",
    r"(?i)(bonjour\s*)*mairie",
    r"(\d{1,3}[ .])+€",
    r"(?:a*)*b",
])
def test_regexes_that_backtrack_forever_are_config_errors(regex: str) -> None:
    with pytest.raises(ValidationError, match=re.escape("repeats a group that itself repeats")):
        AutoReplyConfig.model_validate({"rules": [{"regex": regex, "reply": "x"}]})


def test_usual_faq_regexes_are_still_accepted() -> None:
    config = AutoReplyConfig.model_validate({"rules": [
        {"regex": r"(?i)signaler\s+(.{3,60})", "reply": "x"},
        {"regex": r"(?i)acte de (naissance|mariage|d[ée]c[èe]s)", "reply": "x"},
        {"regex": r"(\d{2}[ .]?){5}", "reply": "x"},
    ]})
    assert len(config.rules) == 3


def test_accepted_regexes_stay_fast_on_a_long_message() -> None:
    """What the config check lets through runs in bounded time on a 5,000-character text."""
    text = mention_text("<p>" + "a" * 5000 + "!</p>")
    assert len(text) == MAX_SCAN
    started = time.perf_counter()
    for regex in (r"(?i)signaler\s+(.{3,60})$", r"(?i)(a|b)+c", r"(\w+)@"):
        AutoReplyConfig.model_validate({"rules": [{"regex": regex, "reply": "x"}]})
        assert RegexMatcher(regex).search(text) is None
    assert time.perf_counter() - started < 2


def test_regex_matches_typographic_apostrophes_and_gives_them_back() -> None:
    found = RegexMatcher(r"(?i)carte d'(identit[ée])").search("Ma carte d’identité expire")
    assert found is not None
    assert (found.match, found.groups) == ("carte d’identité", ("identité",))
    found = RegexMatcher(r"l’(?P<lieu>\w+)").search("rendez-vous à l'hôtel de ville")
    assert found is not None and found.named == {"lieu": "hôtel"}


@pytest.fixture
def start(civicbot_make_bot: Any) -> Any:
    def make(config: dict[str, Any]) -> Any:
        bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config=config)
        bot.start()
        return bot
    return make


def test_decomposed_accents_and_curly_apostrophes_reach_the_regex_rules(civicbot_sandbox: Any,
                                                                        start: Any) -> None:
    config = faq()
    config["plugins"]["auto_reply"]["rules"].insert(
        0, {"regex": "(?i)carte d'identit[ée]", "reply": ID_CARD})
    start(config)
    # "É" typed as "E" + combining acute accent (NFD), as copied from a PDF or a macOS file
    civicbot_sandbox.inject_mention("Démarches d'E\u0301tat civil ?", acct="a@x.example")
    # a phone's smart punctuation types ’
    civicbot_sandbox.inject_mention("Comment refaire ma carte d’identité ?", acct="b@x.example")
    first, second = civicbot_sandbox.wait_for_statuses(2)
    assert text_of(first) == f"@a {CIVIL}"
    assert text_of(second) == f"@b {ID_CARD}"
