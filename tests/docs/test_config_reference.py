"""The configuration reference is generated from the models that validate the config: every
field of every model (core and first-party plugins) is in it, with a type, a default and an
example that the field accepts."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from doc_blocks import DOCS, ROOT
from pydantic import BaseModel, Field, SecretStr, TypeAdapter

from civicbot import ConfigPath, Duration, PluginConfig
from civicbot import config_reference as ref
from civicbot.config import CoreConfig
from civicbot.hooks import Hooks
from civicbot.plugins import make_plugin_manager


def _load_hook() -> Any:
    """The MkDocs hook module, loaded from its file (docs/hooks is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "config_reference_hook", DOCS / "hooks" / "config_reference_hook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = _load_hook()

EXAMPLE = ref.load_example_config(ROOT / "config.example.yaml")
HEADING = re.compile(r"^#{2,6} (?:`(?P<path>[^`]+)`|Top level) \{ #(?P<anchor>[\w-]+) \}$")
ROW = re.compile(r"^\| `(?P<key>[^`]+)` \| (?P<type>.*?) \| (?P<default>.*?) \| "
                 r"(?P<example>.*?) \| (?P<description>.*?) \|$")


def parse(markdown: str) -> dict[str, dict[str, dict[str, str]]]:
    """``{section path: {key: {type, default, example, description}}}`` of a reference."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    current: dict[str, dict[str, str]] | None = None
    for line in markdown.splitlines():
        heading = HEADING.match(line)
        if heading:
            current = out.setdefault(heading.group("path") or "", {})
            continue
        row = ROW.match(line)
        if row and current is not None:
            current[row.group("key")] = {k: row.group(k) for k in
                                         ("type", "default", "example", "description")}
    return out


def reachable_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """``model`` and every model its fields hold, found independently of the generator."""
    found: list[type[BaseModel]] = []

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in found:
                found.append(annotation)
                for info in annotation.model_fields.values():
                    visit(info.annotation)
            return
        for arg in getattr(annotation, "__args__", ()) or ():
            visit(arg)

    visit(model)
    return found


def first_party_models() -> dict[str, type[BaseModel]]:
    schemas = Hooks(make_plugin_manager()).config_schemas()
    first_party = ref.first_party_plugin_names()
    return {section: model for section, (plugin, model) in schemas.items()
            if plugin in first_party}


def keys_of(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def assert_documented(models: list[type[BaseModel]], sections: dict[str, dict[str, Any]]
                      ) -> None:
    for model in models:
        matching = [path for path, rows in sections.items() if set(rows) == keys_of(model)]
        assert matching, (f"{model.__name__}: no section of the reference lists exactly its "
                          f"keys {sorted(keys_of(model))}")


def test_every_core_field_is_in_the_reference() -> None:
    sections = parse(ref.render_core_reference(EXAMPLE))
    models = reachable_models(CoreConfig)
    assert len(models) >= 6  # CoreConfig, MastodonConfig, AccountConfig, Stream, Scheduler, Log
    assert_documented(models, sections)
    assert set(sections[""]) == keys_of(CoreConfig)
    assert set(sections["mastodon"]) == {"api_base_url", "access_token", "request_timeout",
                                         "max_attempts", "user_agent", "max_characters"}


def test_first_party_plugins_are_all_in_the_reference() -> None:
    models = first_party_models()
    assert models, "no first-party plugin registers a config section"
    sections = parse(ref.render_plugins_reference(EXAMPLE))
    for section, model in models.items():
        assert set(sections[f"plugins.{section}"]) == keys_of(model)
        assert_documented(reachable_models(model), sections)


def test_every_first_party_plugin_has_a_section() -> None:
    """Each plugin shipped with civicbot (entry point of the civicbot distribution) registers
    the section named after it, so that the reference covers it."""
    entry_points = ref.first_party_plugin_names() - {"core.pending", "core.approvals",
                                                     "core.engagement"}
    assert entry_points >= {"scheduled_posts", "event_digest", "weather", "auto_reply"}
    assert entry_points <= set(first_party_models())


def all_rows() -> list[tuple[str, str, dict[str, str]]]:
    text = ref.render_core_reference(EXAMPLE) + "\n" + ref.render_plugins_reference(EXAMPLE)
    return [(path, key, row) for path, rows in parse(text).items() for key, row in rows.items()]


def test_every_row_has_a_type_a_default_and_an_example() -> None:
    rows = all_rows()
    assert len(rows) > 40
    for path, key, row in rows:
        where = f"{path}.{key}" if path else key
        assert row["type"].strip(), f"{where}: no type"
        assert row["default"].strip(), f"{where}: no default"
        assert row["example"].strip(), f"{where}: no example"


def test_every_core_key_has_a_description() -> None:
    for path, rows in parse(ref.render_core_reference(EXAMPLE)).items():
        for key, row in rows.items():
            assert row["description"].strip(), f"{path}.{key}: no description (#: comment)"


def models_by_path() -> dict[str, type[BaseModel]]:
    out = {s.path: s.model for s in ref.core_sections(EXAMPLE)}
    for sections in ref.plugin_sections(EXAMPLE).values():
        out.update({s.path: s.model for s in sections})
    return out


def test_every_example_is_accepted_by_its_field(tmp_path: Path) -> None:
    """The example of each key, read as YAML, passes the field's own type validation."""
    models = models_by_path()
    checked = 0
    for path, key, row in all_rows():
        example = row["example"]
        if not example.startswith("`") or "<text>" in example or "${" in example:
            continue  # "see ...", or a placeholder
        value = yaml.safe_load(example.strip("`").replace("\\|", "|"))[key]
        model = models[path]
        info = next(i for n, i in model.model_fields.items() if (i.alias or n) == key)
        TypeAdapter(ref._annotation(info)).validate_python(
            value, context={"base_dir": tmp_path})
        checked += 1
    assert checked > 30


def test_core_notes_name_existing_fields() -> None:
    models = {m.__name__: m for m in reachable_models(CoreConfig)}
    for model_name, field_name in ref.CORE_NOTES:
        assert field_name in models[model_name].model_fields, (model_name, field_name)


# -- how fields are described ------------------------------------------------------------------
class Sample(PluginConfig):
    """A sample section."""

    #: Read from a comment,
    #: on two lines.
    commented: int = 3
    described: str = Field(default="x", description="From the ``description``.")
    documented: bool = False
    """From an attribute docstring."""
    delay: Duration = "10m"  # type: ignore[assignment]
    calendar: ConfigPath = Field(examples=["agenda.csv"])
    mode: str | None = None
    api_key: SecretStr | None = None
    hour: int = Field(default=8, ge=0, le=23)


def test_descriptions_come_from_description_docstring_or_comment() -> None:
    assert ref.field_descriptions(Sample) == {
        "commented": "Read from a comment, on two lines.",
        "described": "From the `description`.",
        "documented": "From an attribute docstring.",
        "delay": "", "calendar": "", "mode": "", "api_key": "", "hour": "",
    }


def test_sample_section_rendering() -> None:
    sections: list[ref.Section] = []
    ref._walk(Sample, "plugins.sample", sections, "sample")
    ref._fill(sections, {"plugins": {"sample": {"mode": "fast"}}})
    rows = parse(ref.render_sections(sections))["plugins.sample"]
    assert rows["delay"]["type"] == "duration (`30s`, `10m`, `2h`, `1d`)"
    assert rows["delay"]["default"] == "`10m`"
    assert rows["calendar"]["type"] == "path (relative to the config file)"
    assert rows["calendar"]["default"] == "*required*"
    assert rows["calendar"]["example"] == "`calendar: agenda.csv`"
    assert rows["mode"]["example"] == "`mode: fast`"  # from the example config
    assert rows["mode"]["type"] == "text or null"
    assert rows["hour"]["type"] == "integer (0 to 23)"
    assert rows["api_key"]["description"] == (
        "May be given as `api_key_file:` (a file holding the secret) instead.")


# -- the MkDocs hook ---------------------------------------------------------------------------
def test_configuration_page_asks_for_both_references() -> None:
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert "<!-- civicbot:config-reference core -->" in page
    assert "<!-- civicbot:config-reference plugins -->" in page


def test_hook_replaces_the_markers() -> None:
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    out = hook.expand(page, DOCS, DOCS)
    assert "civicbot:config-reference" not in out
    sections = parse(out)
    assert "stream" in sections and "misfire_grace" in sections["scheduler"]
    for section in first_party_models():
        assert f"plugins.{section}" in sections


@pytest.mark.parametrize("command", ["run", "check-config", "plugins", "jobs", "run-job",
                                     "preview", "status", "demo"])
def test_cli_reference_has_every_command(command: str) -> None:
    assert f"## `civicbot {command}`" in hook.cli_reference()
