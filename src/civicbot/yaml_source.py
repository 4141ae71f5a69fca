"""Read YAML while remembering the line of every key, and substitute ``${ENV}`` variables.

``load_yaml_with_lines`` returns the data and a map from key paths (tuples) to 1-based line
numbers, so that a validation error can say ``config.yaml:12: plugins.weather.latitude``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from civicbot.errors import ConfigError

Path_ = tuple[str | int, ...]
#: Bounds of a configuration document: characters, and values once aliases are expanded.
MAX_DOCUMENT = 1_000_000
MAX_VALUES = 200_000
_BARE_ENV = re.compile(r"^\s*\$[A-Z_][A-Z0-9_]*\s*$")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Loader(yaml.SafeLoader):
    """SafeLoader, so nothing in a config file can run code."""


def substitute_env(text: str, env: Mapping[str, str], where: str) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}``; an unset variable without default is an error."""

    def repl(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(f"{where}: environment variable {name} is not set")

    return _ENV.sub(repl, text)


def load_yaml_with_lines(
    path: Path, env: Mapping[str, str] | None = None
) -> tuple[Any, dict[Path_, int]]:
    """Load ``path``; return ``(data, lines)``."""
    env = os.environ if env is None else env
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    return load_yaml_text(text, str(path), env)


def load_yaml_text(
    text: str, filename: str, env: Mapping[str, str] | None = None,
    substituted: set[Path_] | None = None,
) -> tuple[Any, dict[Path_, int]]:
    """Load YAML ``text``; ``substituted``, when given, receives the paths of the values that
    came from ``${ENV}`` variables (a secret written in clear in the file is warned about)."""
    env = os.environ if env is None else env
    if len(text) > MAX_DOCUMENT:
        raise ConfigError(f"{filename}: the file has {len(text):,} characters, more than the "
                          f"{MAX_DOCUMENT:,} a configuration may have")
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is not None and "\t" in _line(text, mark.line):
            problem = f"{problem}; indent with spaces, not tabs (a tab is on this line)"
        elif "\t" in problem or "'\\t'" in problem:
            problem = f"{problem}; indent with spaces, not tabs"
        raise ConfigError(f"{filename}:{line}: invalid YAML: {problem}") from exc
    lines: dict[Path_, int] = {}
    if node is None:
        return {}, lines
    check_expansion(node, filename)
    constructor = _Loader(text)
    try:
        data = _build(node, (), lines, constructor, filename, env,
                      set() if substituted is None else substituted)
    finally:
        constructor.dispose()
    return data, lines


def check_expansion(node: yaml.Node, filename: str, limit: int | None = None) -> None:
    """Refuse a document whose aliases expand to more than ``limit`` values (nine nested
    ``*aliases`` of ten each make a billion): the size is counted on the graph of nodes, each
    node once, without building anything."""
    limit = MAX_VALUES if limit is None else limit
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    # iterative post-order walk: a deeply nested document must not hit the recursion limit
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if key in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(current, yaml.MappingNode):
            children = [part for pair in current.value for part in pair]
        elif isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        if not children_done:
            if key in open_nodes:
                raise ConfigError(f"{filename}:{current.start_mark.line + 1}: a YAML alias "
                                  "refers to a value that contains it (recursive alias)")
            open_nodes.add(key)
            stack.append((current, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_nodes.discard(key)
        total = 1 + sum(sizes[id(child)] for child in children)
        if total > limit:
            raise ConfigError(
                f"{filename}:{current.start_mark.line + 1}: the document expands to more than "
                f"{limit:,} values (YAML aliases repeating aliases?); a configuration is far "
                "smaller")
        sizes[key] = total


def _build(
    node: yaml.Node,
    path: Path_,
    lines: dict[Path_, int],
    constructor: _Loader,
    filename: str,
    env: Mapping[str, str],
    substituted: set[Path_],
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        constructor.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                raise ConfigError(
                    f"{filename}:{key_node.start_mark.line + 1}: keys must be plain words"
                )
            key_s = str(key)
            child = (*path, key_s)
            if key_s in out:
                raise ConfigError(
                    f"{filename}:{key_node.start_mark.line + 1}: {_dotted(child)}: "
                    "duplicate key"
                )
            lines[child] = key_node.start_mark.line + 1
            out[key_s] = _build(value_node, child, lines, constructor, filename, env,
                                substituted)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, i), lines, constructor, filename, env, substituted)
            for i, item in enumerate(node.value)
        ]
    value = constructor.construct_object(node, deep=True)
    if isinstance(value, str) and _BARE_ENV.match(value):
        name = value.strip()[1:]
        raise ConfigError(f"{filename}:{node.start_mark.line + 1}: {_dotted(path)}: "
                          f"{value.strip()} is read as text, not as the environment variable: "
                          f"write ${{{name}}}")
    if isinstance(value, str) and "${" in value:
        where = f"{filename}:{node.start_mark.line + 1}: {_dotted(path)}"
        value = substitute_env(value, env, where)
        substituted.add(path)
        if node.tag == "tag:yaml.org,2002:str" and isinstance(node, yaml.ScalarNode) \
                and node.style is None:
            # an unquoted ${LAT} should behave like the number it stands for
            value = yaml.safe_load(value) if value.strip() else value
    return value


def _line(text: str, index: int) -> str:
    lines = text.splitlines()
    return lines[index] if 0 <= index < len(lines) else ""


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def dotted(path: Path_) -> str:
    """``("plugins", "weather", "latitude")`` -> ``plugins.weather.latitude``; lists as ``[0]``."""
    return _dotted(path)


def line_of(lines: Mapping[Path_, int], path: Path_) -> int:
    """The line of ``path`` or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), 1)
