"""Every code example of the documentation (docs/**/*.md and README.md) is run or validated.

- ```python blocks are executed; a block titled ``test_*.py`` (```python title="tests/test_x.py")
  is run with pytest, next to the page's other titled files (the plugin it tests);
- ```yaml blocks with a top-level ``plugins:``, ``mastodon:`` or ``accounts:`` key are validated
  by civicbot's own loader (``mastodon: {api_base_url: sandbox}`` is added to fragments);
- ```console / ```bash lines that run ``civicbot`` (and ``ExecStart=`` lines of ```ini
  blocks) are parsed by civicbot's real argument parser, so a renamed command or option fails.

``<!-- no-run: reason -->`` just before a block skips it, with the reason in the test report.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
import shlex
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doc_blocks import ROOT, Block, all_blocks, blocks_of

from civicbot.cli import build_parser
from civicbot.config import load_config_text
from civicbot.plugins import make_plugin_manager

EXAMPLE_PLUGIN_SRC = ROOT / "docs" / "examples" / "civicbot-example-plugin" / "src"
_CONFIG_KEY = re.compile(r"^(plugins|mastodon|accounts):", re.MULTILINE)
_SHELLS = {"console", "bash", "sh", "shell"}


def _python(block: Block) -> bool:
    return block.lang in {"python", "py", "python3"}


def _yaml(block: Block) -> bool:
    return block.lang in {"yaml", "yml"} and bool(_CONFIG_KEY.search(block.code))


def _commands(block: Block) -> bool:
    return (block.lang in _SHELLS | {"ini", "systemd"}) and bool(_civicbot_command_lines(block))


BLOCKS = all_blocks()
PYTHON = [b for b in BLOCKS if _python(b)]
YAML = [b for b in BLOCKS if _yaml(b)]


def _skip_if_no_run(block: Block) -> None:
    if block.no_run is not None:
        pytest.skip(f"{block.name} (line {block.line}) marked no-run: {block.no_run}")


# -- python ------------------------------------------------------------------------------------
def _write_titled_files(page: Path, folder: Path) -> list[str]:
    """Write the page's titled blocks (``title="src/pkg/__init__.py"``); return module names."""
    modules = []
    for block in blocks_of(page):
        if not block.title or block.no_run is not None:
            continue
        target = folder / block.title
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.code, encoding="utf-8")
        if target.suffix == ".py":
            relative = target.relative_to(folder / "src" if block.title.startswith("src/")
                                          else target.parent)
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules.append(".".join(parts))
    return modules


@contextlib.contextmanager
def _importable(folder: Path, modules: list[str]) -> Iterator[None]:
    paths = [str(folder / "src"), str(folder)]
    sys.path[:0] = paths
    try:
        yield
    finally:
        for path in paths:
            sys.path.remove(path)
        for name in list(sys.modules):
            if any(name == m or name.startswith(m + ".") for m in modules):
                del sys.modules[name]
        importlib.invalidate_caches()


@pytest.mark.parametrize("block", PYTHON, ids=[b.name for b in PYTHON])
def test_python_example_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                             ) -> None:
    _skip_if_no_run(block)
    modules = _write_titled_files(block.page, tmp_path)
    if block.title and Path(block.title).name.startswith("test_"):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(tmp_path / "src"), str(tmp_path), os.environ.get("PYTHONPATH", "")])}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", block.title],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False)
        assert run.returncode == 0, (
            f"{block.name} (line {block.line}): pytest failed\n{run.stdout[-4000:]}"
            f"\n{run.stderr[-2000:]}")
        return
    monkeypatch.chdir(tmp_path)
    with _importable(tmp_path, modules), contextlib.redirect_stdout(io.StringIO()):
        if block.title and block.title.endswith(".py"):
            # a file of a package: import it as its module (with its package's other files)
            importlib.import_module(modules[_titled_index(block)])
            return
        module = types.ModuleType("__doc_example__")
        module.__file__ = str(tmp_path / "__doc_example__.py")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        code = compile(block.code, f"{block.page.relative_to(ROOT)}:{block.line}", "exec")
        exec(code, module.__dict__)


def _titled_index(block: Block) -> int:
    """The position of ``block`` among the page's titled ``.py`` files."""
    titled = [b for b in blocks_of(block.page)
              if b.title and b.no_run is None and b.title.endswith(".py")]
    return [b.index for b in titled].index(block.index)


# -- yaml --------------------------------------------------------------------------------------
def _example_env(text: str) -> dict[str, str]:
    """The environment, plus a dummy value for each ``${NAME}`` (without default) of the text."""
    env = dict(os.environ)
    for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text):
        env.setdefault(name, "doc-example-token")
    return env


def _plugin_manager() -> Any:
    """Every installed plugin, plus the example plugin of the docs even if not installed."""
    pm = make_plugin_manager()
    if not pm.has_plugin("waste_collection"):
        sys.path.insert(0, str(EXAMPLE_PLUGIN_SRC))
        try:
            pm.register(importlib.import_module("civicbot_waste_collection"),
                        name="waste_collection")
        finally:
            sys.path.remove(str(EXAMPLE_PLUGIN_SRC))
    return pm


def _base_dir(page: Path) -> Path:
    """Relative paths of an example are read from its project: the nearest pyproject.toml."""
    for folder in page.parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    return ROOT


@pytest.mark.parametrize("block", YAML, ids=[b.name for b in YAML])
def test_yaml_example_is_a_valid_config(block: Block, tmp_path: Path) -> None:
    """Validated against the installed plugins and the plugins the page itself writes (its
    titled modules, e.g. ``src/civicbot_market/__init__.py``)."""
    _skip_if_no_run(block)
    text = block.code
    if not re.search(r"^(mastodon|accounts):", text, re.MULTILINE):
        text = "mastodon: {api_base_url: sandbox}\n" + text
    pm = _plugin_manager()
    modules = _write_titled_files(block.page, tmp_path)
    with _importable(tmp_path, modules):
        for name in modules:
            if name.rpartition(".")[2].startswith("test_"):
                continue
            module = importlib.import_module(name)
            if hasattr(module, "civicbot_config_schema") and not pm.is_registered(module):
                pm.register(module, name=name)
        load_config_text(text, filename=f"{block.name}", base_dir=_base_dir(block.page),
                         pm=pm, env=_example_env(text))


# -- commands ----------------------------------------------------------------------------------
def _civicbot_command_lines(block: Block) -> list[list[str]]:
    """The ``civicbot ...`` invocations of a shell or unit-file block, as argv lists."""
    out: list[list[str]] = []
    for raw in block.code.splitlines():
        line = raw.strip()
        if block.lang == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        elif block.lang in {"ini", "systemd"}:
            if not line.startswith("ExecStart="):
                continue
            line = line[len("ExecStart="):].lstrip("-@:+!")
        if line.startswith("#"):
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        segment: list[str] = []
        for word in [*words, "&&"]:
            if word not in {"&&", "||", ";", "|"}:
                segment.append(word)
                continue
            command = _strip_wrappers(segment)
            if command and (command[0] == "civicbot" or command[0].endswith("/bin/civicbot")):
                out.append(command)
            segment = []
    return out


def _strip_wrappers(words: list[str]) -> list[str]:
    """``sudo -u civicbot civicbot status`` -> ``civicbot status``."""
    words = list(words)
    while words and words[0] in {"sudo", "env", "exec", "time"}:
        words.pop(0)
        while words and (words[0].startswith("-") or "=" in words[0]):
            option = words.pop(0)
            if option in {"-u", "-g", "--user", "--group"} and words:
                words.pop(0)
    return words


COMMANDS = [b for b in BLOCKS if _commands(b)]


@pytest.mark.parametrize("block", COMMANDS, ids=[b.name for b in COMMANDS])
def test_civicbot_commands_exist(block: Block) -> None:
    _skip_if_no_run(block)
    for argv in _civicbot_command_lines(block):
        parser = build_parser()
        stderr = io.StringIO()
        try:
            with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
                parser.parse_args(argv[1:])
        except SystemExit as exc:
            assert exc.code == 0, (f"{block.name} (line {block.line}): "
                                   f"{shlex.join(argv)}: {stderr.getvalue().strip()}")


# -- the collection itself ---------------------------------------------------------------------
def test_examples_are_found() -> None:
    """The extraction works: the plugin guide's examples and a config example are collected."""
    names = {b.name for b in PYTHON}
    assert sum(n.startswith("docs/writing-plugins.md") for n in names) >= 6
    assert any(b.page.name == "configuration.md" for b in YAML)
    assert any(b.page.name == "deployment.md" for b in COMMANDS)


def test_no_run_markers_give_a_reason() -> None:
    lazy = [f"{b.name} (line {b.line})" for b in BLOCKS
            if b.no_run is not None and len(b.no_run.split()) < 3]
    assert not lazy, f"<!-- no-run: ... --> needs a reason: {lazy}"


def test_a_misspelt_command_is_caught() -> None:
    block = Block(page=ROOT / "docs" / "x.md", index=0, line=1, lang="console", title=None,
                  code="$ sudo -u civicbot civicbot chek-config /etc/civicbot/config.yaml\n",
                  no_run=None)
    assert _civicbot_command_lines(block) == [
        ["civicbot", "chek-config", "/etc/civicbot/config.yaml"]]
    with pytest.raises(AssertionError, match="invalid choice: 'chek-config'"):
        test_civicbot_commands_exist(block)
