"""Config loading: line numbers, key paths, env substitution, secrets from files, plugin sections."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from civicbot import ConfigError, PluginConfig, hookimpl
from civicbot.config import load_config, load_config_text
from civicbot.plugins import make_plugin_manager


class WeatherLike(PluginConfig):
    latitude: float
    longitude: float
    api_key: SecretStr | None = None
    poll: timedelta = timedelta(minutes=10)


class Schema:
    @hookimpl
    def civicbot_config_schema(self, register):
        register("meteo", WeatherLike)


def pm():
    return make_plugin_manager(load_entry_points=False, plugins=[("meteo-plugin", Schema())])


BASE = """\
mastodon:
  api_base_url: https://mastodon.example
  access_token: abc123
"""


def load(text: str, **kw):
    return load_config_text(text, filename="config.yaml", pm=pm(), env=kw.pop("env", {}), **kw)


def test_minimal_config_defaults():
    config = load(BASE)
    account = config.account()
    assert account.name == "default"
    assert account.language == "fr"
    assert str(account.timezone) == "Europe/Paris"
    assert account.mastodon.access_token.get_secret_value() == "abc123"
    assert config.core.stream.watchdog == timedelta(seconds=45)


def test_wrong_type_names_key_path_and_line():
    text = BASE + "plugins:\n  meteo:\n    latitude: quarante-sept\n    longitude: 1.33\n"
    with pytest.raises(ConfigError) as info:
        load(text)
    assert info.value.problems == ["config.yaml:6: plugins.meteo.latitude: expected a number"]


def test_misspelled_key_is_an_error():
    text = BASE + "timezon: Europe/Paris\n"
    with pytest.raises(ConfigError) as info:
        load(text)
    assert info.value.problems == [
        "config.yaml:4: timezon: unknown key (check its spelling); did you mean `timezone`?"]


def test_misspelled_nested_key_and_several_problems_reported_together():
    text = BASE + "stream:\n  watchdgo: 10s\nplugins:\n  meteo:\n    latitude: 1\n"
    with pytest.raises(ConfigError) as info:
        load(text)
    assert ("config.yaml:5: stream.watchdgo: unknown key (check its spelling); did you mean "
            "`watchdog`?") in info.value.problems
    assert len(info.value.problems) == 1  # the core failed first; plugins are checked after


def test_plugin_missing_key_points_at_section():
    text = BASE + "plugins:\n  meteo:\n    latitude: 47.5\n"
    with pytest.raises(ConfigError) as info:
        load(text)
    assert info.value.problems == ["config.yaml:5: plugins.meteo.longitude: required key is missing"]


def test_unknown_plugin_section():
    text = BASE + "plugins:\n  meteoo: {}\n"
    with pytest.raises(ConfigError) as info:
        load(text)
    assert info.value.problems[0].startswith("config.yaml:5: plugins.meteoo: unknown plugin section")


def test_env_substitution_and_unquoted_numbers():
    text = BASE.replace("abc123", "${TOKEN}") + (
        "plugins:\n  meteo:\n    latitude: ${LAT}\n    longitude: ${LON:-1.5}\n")
    config = load(text, env={"TOKEN": "s3cret", "LAT": "47.58"})
    account = config.account()
    assert account.mastodon.access_token.get_secret_value() == "s3cret"
    section = account.plugins["meteo"]
    assert section.latitude == 47.58 and section.longitude == 1.5


def test_missing_env_variable_names_key_and_line():
    text = BASE.replace("abc123", "${CIVICBOT_ACCESS_TOKEN}")
    with pytest.raises(ConfigError) as info:
        load(text)
    assert info.value.problems == [
        "config.yaml:3: mastodon.access_token: environment variable CIVICBOT_ACCESS_TOKEN is not set"
    ]


def test_secrets_from_files_relative_to_config(tmp_path: Path):
    (tmp_path / "token").write_text("from-file\n")
    (tmp_path / "meteo.key").write_text("k-123\n")
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text(
        "mastodon:\n  api_base_url: https://m.example\n  access_token_file: token\n"
        "state: data/state.sqlite3\n"
        "plugins:\n  meteo:\n    latitude: 1\n    longitude: 2\n    api_key_file: meteo.key\n"
    )
    config = load_config(cfg, pm=pm(), env={})
    account = config.account()
    assert account.mastodon.access_token.get_secret_value() == "from-file"
    assert account.plugins["meteo"].api_key.get_secret_value() == "k-123"
    assert config.core.state == tmp_path / "data" / "state.sqlite3"


def test_token_required_for_real_instance():
    with pytest.raises(ConfigError) as info:
        load("mastodon:\n  api_base_url: https://m.example\n")
    assert "mastodon: access_token (or access_token_file) is required" in info.value.problems[0]


def test_durations_and_bad_duration():
    config = load(BASE + "stream:\n  watchdog: 1m30s\n  max_mention_age: 2d\n")
    assert config.core.stream.watchdog == timedelta(seconds=90)
    assert config.core.stream.max_mention_age == timedelta(days=2)
    with pytest.raises(ConfigError) as info:
        load(BASE + "stream:\n  watchdog: soon\n")
    assert info.value.problems[0].startswith("config.yaml:5: stream.watchdog: expected a duration")


def test_bad_timezone_and_bad_yaml():
    with pytest.raises(ConfigError) as info:
        load(BASE + "timezone: Europe/Blois\n")
    assert info.value.problems == [
        "config.yaml:4: timezone: unknown time zone 'Europe/Blois' (e.g. Europe/Paris)"]
    with pytest.raises(ConfigError) as info:
        load(BASE + "plugins: [unclosed\n")
    assert info.value.problems[0].startswith("config.yaml:")
    assert "invalid YAML" in info.value.problems[0]


def test_duplicate_key_is_an_error():
    with pytest.raises(ConfigError) as info:
        load(BASE + "language: fr\nlanguage: en\n")
    assert info.value.problems == ["config.yaml:5: language: duplicate key"]


def test_disabled_plugin_section_is_not_validated():
    config = load(BASE + "disable_plugins: [meteo-plugin]\nplugins:\n  meteo: {latitude: nope}\n")
    assert "meteo" not in config.account().plugins


def test_accounts_form():
    text = (
        "accounts:\n"
        "  - name: ville\n    mastodon: {api_base_url: sandbox}\n"
        "  - name: musee\n    language: en\n    mastodon: {api_base_url: sandbox}\n"
        "    plugins:\n      meteo: {latitude: 1, longitude: 2}\n"
    )
    config = load(text)
    assert [a.name for a in config.accounts] == ["ville", "musee"]
    assert config.account("musee").language == "en"
    assert "meteo" in config.account("musee").plugins
    assert "meteo" not in config.account("ville").plugins
    with pytest.raises(ConfigError):
        config.account()


def test_config_example_is_valid():
    root = Path(__file__).resolve().parents[2]
    config = load_config(root / "config.example.yaml", env={})
    assert config.accounts
