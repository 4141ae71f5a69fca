"""Issue 13: template expressions computing huge values are refused (no hang, no traceback)
and a misspelt name is an error when the config is checked, not when the post is due."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicbot.cli import main

HEAD = "mastodon:\n  api_base_url: https://sandbox.civicbot.invalid\n  access_token: x\n"


def _check(tmp_path: Path, text: str, extra: str = "") -> int:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(HEAD + "plugins:\n  scheduled_posts:\n" + extra +
                   "    posts:\n      - id: voeux\n        at: 2027-01-01T10:00:00+01:00\n"
                   f"        text: '{text}'\n", encoding="utf-8")
    return main(["check-config", str(cfg)])


@pytest.mark.parametrize("text", ["{{ 9**(9**9) }}", "{{ \"x\" * 10**9 }}",
                                  "{% for i in range(10**9) %}{{ i }}{% endfor %}"])
def test_huge_computations_are_refused(text: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code = _check(tmp_path, text)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # refused when checked, or at the latest when rendered (bounded either way)
    if code == 0:
        from datetime import datetime

        from civicbot_scheduled_posts.templates import TemplateProblem, render
        with pytest.raises(TemplateProblem, match="refused"):
            render(text, now=datetime(2027, 1, 1, 10), locale="fr", variables={})
    else:
        assert code == 2


def test_a_misspelt_name_fails_check_config(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _check(tmp_path, "Bonne année ! {{ stie }}",
                  extra="    vars:\n      site: https://ville.example\n") == 2
    err = capsys.readouterr().err
    assert "unknown name stie" in err and "site" in err
    assert _check(tmp_path, "Bonne année ! {{ site }} {{ date }}",
                  extra="    vars:\n      site: https://ville.example\n") == 0
