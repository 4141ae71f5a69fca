"""Generate the configuration reference (Markdown) from the pydantic models that validate it.

The documentation site calls :func:`render_core_reference` and :func:`render_plugins_reference`
at build time (``docs/hooks/config_reference_hook.py``), so the reference cannot drift from
what ``civicbot check-config`` accepts. Each key gets its type, its default, an example and a
description, taken in this order from the field's ``description``, from a string literal right
after the field (an attribute docstring) or from ``#:`` comments right above it.

Plugin authors can print the reference of their own section::

    python -m civicbot.config_reference --plugin waste_collection
"""

from __future__ import annotations

import argparse
import ast
import enum
import inspect
import re
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = [
    "FieldDoc",
    "Section",
    "core_sections",
    "field_descriptions",
    "first_party_plugin_names",
    "plugin_sections",
    "render_core_reference",
    "render_plugins_reference",
    "render_sections",
]

#: The key path prefix of plugin sections.
PLUGINS_PREFIX = "plugins"


@dataclass(frozen=True)
class FieldDoc:
    """One key of a section, ready to print."""

    key: str
    type: str
    default: str
    example: str
    description: str
    required: bool


@dataclass
class Section:
    """A mapping in the YAML file (``mastodon``, ``plugins.weather``, ``accounts[]``...)."""

    path: str
    model: type[BaseModel]
    fields: list[FieldDoc] = field(default_factory=list)
    #: The plugin that registered the section (``""`` for the core).
    plugin: str = ""
    #: Other key paths where the same model is used.
    also: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.path.lower()).strip("-")
        return "cfg-" + (slug or "top-level")

    @property
    def doc(self) -> str:
        own = self.model.__dict__.get("__doc__")
        return rest_to_markdown(inspect.cleandoc(own)) if own else ""


class Raw(str):
    """An example cell written as is (not as ``key: value``)."""


#: Descriptions and examples for core fields that have no ``#:`` comment in ``civicbot.config``
#: (model name, field name) -> (description, example). A test fails if a key here is not a field.
CORE_NOTES: dict[tuple[str, str], tuple[str, Any]] = {
    ("CoreConfig", "mastodon"): ("The account (single-account form).", None),
    ("CoreConfig", "accounts"): (
        "Several accounts run by one process, each with its own `mastodon:` and `plugins:` "
        "(give either `mastodon` or `accounts`).", None),
    ("CoreConfig", "name"): ("", "mairie"),
    ("CoreConfig", "timezone"): (
        "Time zone of schedules (cron times are local times) and of dates in posts.", None),
    ("CoreConfig", "language"): ("", "fr"),
    ("CoreConfig", "dry_run"): (
        "Log posts instead of sending them, and leave the state store untouched "
        "(`civicbot run --dry-run` does the same).", True),
    ("CoreConfig", "disable_plugins"): ("", ["weather"]),
    ("CoreConfig", "stream"): ("How notifications are received.", None),
    ("CoreConfig", "scheduler"): ("Defaults for scheduled jobs.", None),
    ("CoreConfig", "log"): ("Log output.", None),
    ("CoreConfig", "http"): ("", "127.0.0.1:8080"),
    ("CoreConfig", "plugins"): (
        "One section per plugin, by name; a plugin without a section does nothing. "
        "See [Plugin settings](#plugin-settings).",
        Raw("see [Plugin settings](#plugin-settings)")),
    ("MastodonConfig", "access_token"): ("", "${CIVICBOT_ACCESS_TOKEN}"),
    ("MastodonConfig", "request_timeout"): ("How long to wait for the instance's answer.", None),
    ("MastodonConfig", "user_agent"): ("The `User-Agent` sent to the instance.", None),
    ("MastodonConfig", "max_characters"): ("", 5000),
    ("AccountConfig", "name"): (
        "The account's name in logs, in the state store and for `--account`.", "musee"),
    ("AccountConfig", "mastodon"): ("How to reach this account.", None),
    ("AccountConfig", "language"): ("Overrides the top-level `language` for this account.", "en"),
    ("AccountConfig", "timezone"): ("Overrides the top-level `timezone` for this account.", None),
    ("AccountConfig", "disable_plugins"): (
        "Plugins never to load for this account (added to the top-level list).", ["weather"]),
    ("AccountConfig", "plugins"): (
        "This account's plugin sections; a section given both here and at the top level is "
        "taken from here.", Raw("see [Plugin settings](#plugin-settings)")),
    ("StreamConfig", "backoff_initial"): ("First wait before reconnecting after an error; it "
                                          "doubles at each failure.", None),
    ("StreamConfig", "backoff_max"): ("Longest wait between reconnection attempts.", None),
    ("StreamConfig", "poll_interval"): ("How often notifications are fetched when streaming is "
                                        "unavailable (`poll` transport).", None),
    ("StreamConfig", "poll_interval_busy"): ("Polling interval right after a mention; it "
                                             "doubles back to `poll_interval` when idle.", None),
    ("StreamConfig", "fallback_after"): ("Streaming failing this long (three times at least) "
                                         "while REST answers: notifications are polled "
                                         "instead.", None),
    ("StreamConfig", "stream_retry"): ("While polling after streaming failed, how often "
                                       "streaming is tried again.", None),
    ("StreamConfig", "queue_size"): ("Notifications waiting to be handled before the stream "
                                     "waits for the handlers.", None),
    ("LogConfig", "format"): ("`console` (readable), `json` (one JSON object per line, for "
                              "journald) or `auto` (console on a terminal, JSON otherwise).",
                              "json"),
    ("LogConfig", "level"): ("The least important messages written.", None),
}


# -- descriptions --------------------------------------------------------------------------------
_ROLE = re.compile(r":(?:class|func|data|meth|attr|mod|exc|obj):`~?([^`]+)`")


def rest_to_markdown(text: str) -> str:
    """Docstrings use reST (``code``, :class:`x`); Markdown wants `code`."""
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    return text.replace("``", "`")


@cache
def _source_comments(cls: type) -> dict[str, str]:
    """``#:`` comments above, and string literals below, the fields of one class body."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    lines = source.splitlines()
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    out: dict[str, str] = {}
    for i, node in enumerate(body):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        name = node.target.id
        following = body[i + 1] if i + 1 < len(body) else None
        if (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            out[name] = inspect.cleandoc(following.value.value)
            continue
        comments: list[str] = []
        row = node.lineno - 2  # the line above, 0-based
        while row >= 0 and lines[row].strip().startswith("#:"):
            comments.insert(0, lines[row].strip()[2:].strip())
            row -= 1
        if comments:
            out[name] = " ".join(comments)
    return out


def field_descriptions(model: type[BaseModel]) -> dict[str, str]:
    """The description of every field of ``model`` (``""`` when there is none)."""
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        text = info.description or ""
        if not text:
            for cls in model.__mro__:
                if isinstance(cls, type) and issubclass(cls, BaseModel) and \
                        name in _source_comments(cls):
                    text = _source_comments(cls)[name]
                    break
        out[name] = " ".join(rest_to_markdown(text).split())
    return out


# -- types ---------------------------------------------------------------------------------------
def _annotation(info: FieldInfo) -> Any:
    """The field's annotation with the ``Annotated`` metadata pydantic moved to ``metadata``."""
    if info.metadata:
        return typing.Annotated[(info.annotation, *info.metadata)]
    return info.annotation


def _validator_names(metadata: Iterable[Any]) -> set[str]:
    names = set()
    for item in metadata:
        func = getattr(item, "func", None)
        if func is not None:
            names.add(getattr(func, "__name__", ""))
    return names


def _kind(annotation: Any) -> str | None:
    """``duration``, ``path``, ``time zone`` for civicbot's annotated types."""
    if typing.get_origin(annotation) is typing.Annotated:
        names = _validator_names(typing.get_args(annotation)[1:])
        if "parse_duration" in names:
            return "duration"
        if "_resolve_path" in names:
            return "config path"
        if "_check_zone" in names:
            return "time zone"
        if "check_cron" in names:
            return "cron"
        if "check_web_url" in names:
            return "url"
    return None


def _bounds(metadata: Iterable[Any], noun: str = "item(s)") -> str:
    """``0 to 23``, ``at least 1``... from annotated-types constraints (``Field(ge=0, le=23)``)."""
    low: tuple[str, Any] | None = None
    high: tuple[str, Any] | None = None
    parts: list[str] = []
    for item in metadata:
        for attr, word in (("ge", "at least"), ("gt", "more than")):
            if getattr(item, attr, None) is not None:
                low = (word, getattr(item, attr))
        for attr, word in (("le", "at most"), ("lt", "less than")):
            if getattr(item, attr, None) is not None:
                high = (word, getattr(item, attr))
        if getattr(item, "min_length", None) is not None:
            parts.append(f"at least {item.min_length} {noun}")
        if getattr(item, "max_length", None) is not None:
            parts.append(f"at most {item.max_length} {noun}")
    if low and high and low[0] == "at least" and high[0] == "at most":
        parts.insert(0, f"{low[1]} to {high[1]}")
    else:
        parts[:0] = [f"{bound[0]} {bound[1]}" for bound in (low, high) if bound]
    return ", ".join(parts)


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field holds (directly, in a list, in a union...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        if typing.get_origin(annotation) is typing.Literal:
            break
        for model in nested_models(arg):
            if model not in out:
                out.append(model)
    return out


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_list(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return origin in (list, tuple, set, frozenset, Sequence)


def describe_type(annotation: Any, link: Callable[[type[BaseModel]], str]) -> str:
    """A Markdown description of a type, for people who write YAML."""
    kind = _kind(annotation)
    if kind == "duration":
        return "duration (`30s`, `10m`, `2h`, `1d`)"
    if kind == "config path":
        return "path (relative to the config file)"
    if kind == "time zone":
        return "time zone (`Europe/Paris`)"
    if kind == "cron":
        return 'cron expression (`"0 8 * * 1"`, `"0 8 * * lun"`)'
    if kind == "url":
        return "URL (`https://...`)"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        bounds = _bounds(args[1:], "character(s)" if args[0] is str else "item(s)")
        inner = describe_type(args[0], link)
        return f"{inner} ({bounds})" if bounds else inner
    if annotation is type(None) or annotation is None:
        return "null"
    if origin in (typing.Union, types.UnionType):
        parts = [describe_type(a, link) for a in args if a is not type(None)]
        text = " or ".join(dict.fromkeys(parts))
        return text + " or null" if type(None) in args else text
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{_yaml_inline(a)}`" for a in args)
    if origin in (list, tuple, set, frozenset, Sequence):
        items = [a for a in args if a is not Ellipsis]
        return "list of " + (describe_type(items[0], link) if items else "values")
    if origin in (dict, Mapping) or annotation is dict:
        if len(args) == 2 and args[1] is not Any:
            return f"mapping of {describe_type(args[0], link)} to {describe_type(args[1], link)}"
        return "mapping"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"mapping ({link(annotation)})"
        if issubclass(annotation, enum.Enum):
            return "one of " + ", ".join(f"`{m.value}`" for m in annotation)
        simple: list[tuple[type, str]] = [
            (bool, "boolean"), (int, "integer"), (float, "number"), (SecretStr, "secret"),
            (str, "text"), (datetime, "date and time (ISO 8601)"), (date, "date (YYYY-MM-DD)"),
            (time, "time (HH:MM)"), (timedelta, "duration (`30s`, `10m`, `2h`, `1d`)"),
            (Path, "path"),
        ]
        for cls, name in simple:
            if issubclass(annotation, cls):
                return name
        return annotation.__name__
    if annotation is Any:
        return "any value"
    return str(annotation).replace("typing.", "")


# -- values --------------------------------------------------------------------------------------
def _yaml_inline(value: Any) -> str:
    """A value written as in the YAML file, on one line."""
    if value is None:
        return "null"
    if isinstance(value, str) and value and not re.search(r"[:#{}\[\],&*!|>'\"%@`]|^\s|\s$",
                                                             value) and \
            yaml.safe_load(value) == value:
        return value
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000)
    text = text.strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    return text


def _jsonable(annotation: Any, value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "********"
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    try:
        return TypeAdapter(annotation).dump_python(value, mode="json")
    except Exception:
        return str(value) if isinstance(value, Path) else value


def _sample(annotation: Any, key: str) -> Any:
    """An example value for a key nobody gave an example for."""
    kind = _kind(annotation)
    if kind == "duration":
        return "10m"
    if kind == "config path":
        return f"{key}.csv" if "calendar" in key or "csv" in key else f"data/{key}"
    if kind == "time zone":
        return "Europe/Paris"
    if kind == "cron":
        return "0 8 * * 1"
    if kind == "url":
        return "https://www.example.fr/agenda"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _sample(args[0], key)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is not type(None):
                return _sample(arg, key)
    if origin is typing.Literal:
        return args[0]
    if origin in (list, tuple, set, frozenset, Sequence):
        return [_sample(args[0], key)] if args else []
    if origin in (dict, Mapping) or annotation is dict:
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, SecretStr):
            return "${SECRET}"
        if issubclass(annotation, bool):
            return True
        if issubclass(annotation, int):
            return 1
        if issubclass(annotation, float):
            return 1.5
        if issubclass(annotation, enum.Enum):
            return next(iter(annotation)).value
        if issubclass(annotation, timedelta):
            return "10m"
        if issubclass(annotation, datetime):
            return "2026-12-20T09:00:00+01:00"
        if issubclass(annotation, date):
            return "2026-12-20"
        if issubclass(annotation, time):
            return "09:00"
        if issubclass(annotation, Path):
            return f"data/{key}"
        if issubclass(annotation, BaseModel):
            return {}
    return "<text>"


_MISSING = object()


def _lookup(data: Any, path: Sequence[str], key: str) -> Any:
    """The value of ``key`` in the mapping at ``path`` (``x[]``: any item of the list ``x``)."""
    if not path:
        if isinstance(data, Mapping) and data.get(key) is not None:
            return data[key]
        return _MISSING
    part, rest = path[0], path[1:]
    many = part.endswith("[]")
    name = part[:-2] if many else part
    if not isinstance(data, Mapping) or name not in data:
        return _MISSING
    items = data[name] if many else [data[name]]
    for item in items if isinstance(items, list) else []:
        found = _lookup(item, rest, key)
        if found is not _MISSING:
            return found
    return _MISSING


def _example(info: FieldInfo, key: str, section_path: str, example_config: Any,
             note: Any = None, link: Callable[[type[BaseModel]], str] | None = None) -> str:
    annotation = _annotation(info)
    models = nested_models(annotation)
    if models and link is not None:
        return "see " + ", ".join(link(m) for m in models)
    if isinstance(note, Raw):
        return str(note)
    found: Any = _MISSING
    if note is not None:
        found = note
    elif info.examples:
        found = info.examples[0]
    elif example_config is not None:
        found = _lookup(example_config, section_path.split(".") if section_path else [], key)
        if found is _MISSING and section_path.startswith(PLUGINS_PREFIX + "."):
            # the same key elsewhere in the plugin's section, if this field accepts it
            top = section_path.split(".")[:2]
            subtree = _lookup(example_config, top[:1], top[1].removesuffix("[]"))
            found = next((v for v in _values_of(subtree, key) if _accepts(annotation, v)),
                         _MISSING)
    if found is _MISSING and not info.is_required():
        default = info.get_default(call_default_factory=True)
        if default not in (None, "", [], {}) and not isinstance(default, SecretStr):
            found = _jsonable(annotation, default)
    if found is _MISSING:
        found = _sample(annotation, key)
    return f"`{key}: {_yaml_inline(found)}`"


def _values_of(data: Any, key: str) -> Iterable[Any]:
    """Every value of ``key`` anywhere in ``data`` (mappings and lists), depth first."""
    if isinstance(data, Mapping):
        for name, value in data.items():
            if name == key and value is not None:
                yield value
            yield from _values_of(value, key)
    elif isinstance(data, list):
        for item in data:
            yield from _values_of(item, key)


def _accepts(annotation: Any, value: Any) -> bool:
    try:
        TypeAdapter(annotation).validate_python(value, context={"base_dir": Path.cwd()})
    except Exception:
        return False
    return True


def _default(info: FieldInfo, link: Callable[[type[BaseModel]], str]) -> str:
    if info.is_required():
        return "*required*"
    default = info.get_default(call_default_factory=True)
    if isinstance(default, BaseModel):
        return f"see {link(type(default))}"
    if default is None:
        return "none"
    if default is PydanticUndefined:
        return "*required*"
    return f"`{_yaml_inline(_jsonable(_annotation(info), default))}`"


# -- sections ------------------------------------------------------------------------------------
def _walk(model: type[BaseModel], path: str, out: list[Section], plugin: str = "") -> None:
    for seen in out:
        if seen.model is model:
            if path != seen.path and path not in seen.also:
                seen.also.append(path)
            return
    out.append(Section(path=path, model=model, plugin=plugin))
    for name, info in model.model_fields.items():
        key = info.alias or name
        annotation = _annotation(info)
        suffix = "[]" if _is_list(annotation) else ""
        for nested in nested_models(annotation):
            child = f"{path}.{key}{suffix}" if path else f"{key}{suffix}"
            _walk(nested, child, out, plugin)


def _fill(sections: list[Section], example_config: Any) -> None:
    by_model = {s.model: s for s in sections}

    def link(model: type[BaseModel]) -> str:
        target = by_model.get(model)
        if target is None:
            return model.__name__
        return f"[`{target.path or 'top level'}`](#{target.anchor})"

    for section in sections:
        docs = field_descriptions(section.model)
        secret_files = _accepts_secret_files(section.model)
        section.fields = []
        for name, info in section.model.model_fields.items():
            key = info.alias or name
            annotation = _annotation(info)
            note_text, note_example = CORE_NOTES.get((section.model.__name__, name), ("", None))
            if section.plugin:
                note_text, note_example = "", None
            description = docs.get(name, "") or note_text
            if secret_files and "SecretStr" in str(info.annotation):
                extra = f"May be given as `{key}_file:` (a file holding the secret) instead."
                description = f"{description} {extra}".strip()
            section.fields.append(FieldDoc(
                key=key,
                type=describe_type(annotation, link),
                default=_default(info, link),
                example=_example(info, key, section.path, example_config, note_example, link),
                description=description,
                required=info.is_required(),
            ))


def _accepts_secret_files(model: type[BaseModel]) -> bool:
    validators = model.__pydantic_decorators__.model_validators
    return any(name in validators for name in ("_secrets_from_files", "_token_file"))


def core_sections(example_config: Any = None) -> list[Section]:
    """The core's sections, the top level first (``example_config``: parsed example YAML)."""
    from civicbot.config import CoreConfig

    out: list[Section] = []
    _walk(CoreConfig, "", out)
    _fill(out, example_config)
    return out


@cache
def first_party_plugin_names() -> frozenset[str]:
    """Plugins shipped with civicbot: the built-ins and civicbot's own entry points."""
    from civicbot.plugins import BUILTIN_PLUGINS, ENTRY_POINT_GROUP

    names = {name for name, _ in BUILTIN_PLUGINS}
    try:
        dist = metadata.distribution("civicbot")
    except metadata.PackageNotFoundError:  # pragma: no cover - civicbot runs from a checkout
        return frozenset(names)
    names.update(ep.name for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP)
    return frozenset(names)


def plugin_sections(
    example_config: Any = None,
    *,
    first_party_only: bool = True,
    only: Iterable[str] | None = None,
) -> dict[str, list[Section]]:
    """Each plugin section (``weather``...) and its sections, from ``civicbot_config_schema``.

    Raises :class:`RuntimeError` if a plugin failed to load: its keys would silently be missing.
    """
    from civicbot.hooks import Hooks
    from civicbot.plugins import make_plugin_manager

    pm = make_plugin_manager()
    wanted = set(only) if only is not None else None
    first_party = first_party_plugin_names()
    failed = {name: error for name, error in pm.report.failed.items()
              if (name in first_party or not first_party_only)
              and (wanted is None or name in wanted)}
    if failed:
        raise RuntimeError("plugins failed to load: " + "; ".join(
            f"{name}: {error}" for name, error in sorted(failed.items())))
    out: dict[str, list[Section]] = {}
    for section, (plugin, model) in sorted(Hooks(pm).config_schemas().items()):
        if first_party_only and plugin not in first_party:
            continue
        if wanted is not None and section not in wanted and plugin not in wanted:
            continue
        sections: list[Section] = []
        _walk(model, f"{PLUGINS_PREFIX}.{section}", sections, plugin)
        _fill(sections, example_config)
        out[section] = sections
    return out


# -- Markdown ------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split()) or " "


def render_sections(sections: Sequence[Section], *, level: int = 3,
                    intro: Mapping[str, str] | None = None) -> str:
    """Markdown: one heading and one table per section."""
    out: list[str] = []
    for section in sections:
        title = f"`{section.path}`" if section.path else "Top level"
        out.append(f"{'#' * level} {title} {{ #{section.anchor} }}\n")
        if intro and section.path in intro:
            out.append(intro[section.path] + "\n")
        if section.doc:
            out.append(section.doc + "\n")
        if section.path.endswith("[]"):
            out.append(f"`{section.path}` is a list; each item takes these keys.\n")
        if section.also:
            out.append("The same keys are used in " + ", ".join(f"`{p}`" for p in section.also)
                       + ".\n")
        out.append("| Key | Type | Default | Example | Description |")
        out.append("|---|---|---|---|---|")
        for item in section.fields:
            out.append("| " + " | ".join(_cell(c) for c in (
                f"`{item.key}`", item.type, item.default, item.example, item.description,
            )) + " |")
        out.append("")
    return "\n".join(out)


def load_example_config(path: Path | None) -> Any:
    """The parsed example config (``config.example.yaml``) for example values, or ``None``."""
    if path is None or not path.is_file():
        return None
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def render_core_reference(example_config: Any = None) -> str:
    """The reference of the core settings (everything but ``plugins:``)."""
    return render_sections(core_sections(example_config))


def render_plugins_reference(
    example_config: Any = None,
    *,
    page_for: Callable[[str], str | None] = lambda section: None,
    first_party_only: bool = True,
    only: Iterable[str] | None = None,
) -> str:
    """The reference of every plugin section; ``page_for(section)`` links a plugin's own page."""
    out: list[str] = []
    for section, sections in plugin_sections(example_config, first_party_only=first_party_only,
                                             only=only).items():
        intro: dict[str, str] = {}
        page = page_for(section)
        head = f"Registered by the plugin `{sections[0].plugin}`."
        if page:
            head += f" What it does and how it behaves: [{section}]({page})."
        intro[sections[0].path] = head
        out.append(render_sections(sections, intro=intro))
    return "\n".join(out) if out else "*No plugin registers a configuration section.*\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m civicbot.config_reference",
        description="Print the configuration reference as Markdown.")
    parser.add_argument("--plugin", action="append", default=None,
                        help="only this plugin or section (repeatable); third-party plugins too")
    parser.add_argument("--example", type=Path, default=None,
                        help="an example config to take example values from")
    args = parser.parse_args(argv)
    example = load_example_config(args.example)
    if args.plugin:
        text = render_plugins_reference(example, first_party_only=False, only=args.plugin)
    else:
        text = "## Core settings\n\n" + render_core_reference(example) + \
            "\n## Plugin settings\n\n" + render_plugins_reference(example)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
