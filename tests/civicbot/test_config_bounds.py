"""Issue 13, item 11: a YAML alias bomb or a huge file is a clear config error (exit 2),
found without building the expanded document."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from civicbot.cli import main
from civicbot.errors import ConfigError
from civicbot.yaml_source import MAX_DOCUMENT, load_yaml_text

HEAD = "mastodon:\n  api_base_url: https://sandbox.civicbot.invalid\n  access_token: x\n"


def alias_bomb(levels: int = 9) -> str:
    """The classic "billion laughs": each level repeats the previous one ten times."""
    out = ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        out.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(out) + "\n"


def test_an_alias_bomb_is_refused_without_expanding_it() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match="expands to more than") as info:
            load_yaml_text(alias_bomb(), "bomb.yaml", {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.problems[0].startswith("bomb.yaml:")
    assert peak < 50_000_000  # the old loader went to 1.8 GB


def test_check_config_exits_2_on_an_alias_bomb(tmp_path: Path) -> None:
    cfg = tmp_path / "bomb.yaml"
    cfg.write_text(HEAD + alias_bomb(), encoding="utf-8")
    # a child process with a memory cap: a regression fails with MemoryError, not a dead machine
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
            "from civicbot.cli import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "check-config", str(cfg)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "expands to more than" in result.stderr
    assert "Traceback" not in result.stderr


def test_recursive_alias_and_huge_file_are_config_errors(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    with pytest.raises(ConfigError, match="recursive alias"):
        load_yaml_text("a: &a [1, *a]\n", "r.yaml", {})
    cfg = tmp_path / "huge.yaml"
    cfg.write_text(HEAD + "# " + "x" * MAX_DOCUMENT + "\n", encoding="utf-8")
    assert main(["check-config", str(cfg)]) == 2
    assert "more than the" in capsys.readouterr().err


def test_ordinary_aliases_still_work() -> None:
    data, _ = load_yaml_text("base: &b {cooldown: 5s}\nother:\n  <<: *b\n  x: 1\n", "ok.yaml", {})
    assert data["other"] == {"cooldown": "5s", "x": 1}
