"""Issue 13, item 1: the regular expressions of the FAQ can neither be catastrophic at load
nor hold a mention for longer than the matching budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from civicbot.cli import main
from civicbot_auto_reply.config import AutoReplyConfig
from civicbot_auto_reply.matching import MatchTimeout, RegexMatcher

#: The classes named by the issue, each seen freezing the bot with Python's re.
ISSUE_PATTERNS = [r"(.|\s)*word", r"(a|a)+$", r".*.*.*.*word", r"\s*\s*\s*x$",
                  r"(?i)(?:oui|Oui)+ merci"]


@pytest.mark.parametrize("regex", ISSUE_PATTERNS)
def test_catastrophic_patterns_are_refused_at_load(regex: str) -> None:
    with pytest.raises(ValidationError, match="freeze the bot"):
        AutoReplyConfig.model_validate({"rules": [{"regex": regex, "reply": "x"}]})


@pytest.mark.parametrize("regex", [
    r"(?i)signaler\s+(.+)", r"(?i)(a|b)+c", r"(?:oui|non)+", r".*.*word", r"(ab|ac)*d",
    r"(?i)[ée]tat[- ]civil", r"\d{5}\s+\w+",
])
def test_ordinary_patterns_are_accepted(regex: str) -> None:
    AutoReplyConfig.model_validate({"rules": [{"regex": regex, "reply": "x"}]})


def test_check_config_exits_2_naming_the_rule(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("mastodon:\n  api_base_url: https://sandbox.civicbot.invalid\n"
                   "  access_token: x\nplugins:\n  auto_reply:\n    rules:\n"
                   "      - regex: '(.|\\s)*word'\n        reply: x\n", encoding="utf-8")
    assert main(["check-config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "plugins.auto_reply.rules[0]" in err and "freeze the bot" in err


def test_matching_stops_at_the_time_limit() -> None:
    """A pattern the analysis would let through is still stopped (the regex engine's timeout)."""
    matcher = RegexMatcher(r"(a|a)+$")
    with pytest.raises(MatchTimeout):
        matcher.search("a" * 60 + "!", timeout=0.05)
    assert matcher.search("aaa", timeout=0.05) is not None


def test_a_broken_regex_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="invalid regular expression"):
        AutoReplyConfig.model_validate({"rules": [{"regex": r"\p{L}+(", "reply": "x"}]})
