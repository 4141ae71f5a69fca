"""Plugin manager: registration, disabling by name, import failures, duplicate registrations."""

from __future__ import annotations

import sys
import types
from importlib.metadata import EntryPoint

import pytest
from structlog.testing import capture_logs

from civicbot import Command, Job, PluginError, cron, hookimpl
from civicbot.hooks import Hooks
from civicbot.plugins import make_plugin_manager, plugin_hooks


class JobsA:
    @hookimpl
    def civicbot_register_jobs(self, register, bot):
        register(Job(id="semaine", schedule=cron("0 8 * * 1"), func=lambda ctx: []))


class JobsB:
    @hookimpl
    def civicbot_register_jobs(self, register):
        register(Job(id="semaine", schedule=cron("0 9 * * 1"), func=lambda ctx: []))


class Cmd:
    def __init__(self, name):
        self.name = name

    @hookimpl
    def civicbot_register_commands(self, register):
        register(Command(names=(self.name,), help="x", handler=lambda ctx: "ok"))


def test_builtins_are_ordinary_plugins_and_can_be_disabled():
    pm = make_plugin_manager(load_entry_points=False)
    assert "core.pending" in plugin_hooks(pm)
    assert "civicbot_register_jobs" in plugin_hooks(pm)["core.pending"]
    pm = make_plugin_manager(load_entry_points=False, disabled=["core.pending"])
    assert "core.pending" not in plugin_hooks(pm)
    assert pm.report.disabled == ["core.pending"]


def test_entry_point_plugins_are_found_and_disabled_by_name():
    pm = make_plugin_manager()
    names = set(plugin_hooks(pm))
    assert {"scheduled_posts", "event_digest", "weather", "auto_reply"} <= names
    pm = make_plugin_manager(disabled=["weather"])
    assert "weather" not in plugin_hooks(pm)


def test_plugin_failing_to_import_is_logged_and_skipped(monkeypatch):
    broken = EntryPoint(name="broken", value="civicbot_does_not_exist", group="civicbot")
    good = EntryPoint(name="good", value="civicbot_good_test_plugin", group="civicbot")
    module = types.ModuleType("civicbot_good_test_plugin")
    module.civicbot_startup = hookimpl(lambda bot: None)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "civicbot_good_test_plugin", module)
    monkeypatch.setattr("civicbot.plugins.entry_points", lambda group: [broken, good])
    with capture_logs() as logs:
        pm = make_plugin_manager()
    assert "good" in plugin_hooks(pm)
    assert "broken" in pm.report.failed
    assert "ModuleNotFoundError" in pm.report.failed["broken"]
    assert any(e["event"] == "plugin failed to load" and e["plugin"] == "broken" for e in logs)


def test_plugin_with_a_bad_hook_signature_is_skipped():
    class Bad:
        @hookimpl
        def civicbot_startup(self, bot, unexpected):
            pass

    with capture_logs():
        pm = make_plugin_manager(load_entry_points=False, plugins=[("bad", Bad())])
    assert "bad" in pm.report.failed


def test_duplicate_job_id_names_both_plugins():
    pm = make_plugin_manager(load_entry_points=False, builtins=False,
                             plugins=[("digest", JobsA()), ("posts", JobsB())])
    with pytest.raises(PluginError) as info:
        Hooks(pm).jobs(bot=None)  # type: ignore[arg-type]
    assert "job id 'semaine' registered twice" in str(info.value)
    assert "'digest'" in str(info.value) and "'posts'" in str(info.value)


def test_duplicate_command_names_both_plugins_even_with_accents():
    pm = make_plugin_manager(load_entry_points=False, builtins=False,
                             plugins=[("a", Cmd("météo")), ("b", Cmd("METEO"))])
    with pytest.raises(PluginError) as info:
        Hooks(pm).commands(bot=None)  # type: ignore[arg-type]
    assert "registered twice" in str(info.value) and "'a'" in str(info.value)


def test_isolated_hooks_count_failures_per_plugin():
    calls = []

    class Boom:
        @hookimpl
        def civicbot_on_notification(self, bot, notification):
            raise RuntimeError("boom")

    class Fine:
        @hookimpl
        def civicbot_on_notification(self, bot, notification):
            calls.append(notification["id"])

    pm = make_plugin_manager(load_entry_points=False, builtins=False,
                             plugins=[("boom", Boom()), ("fine", Fine())])
    hooks = Hooks(pm)
    with capture_logs() as logs:
        failed = hooks.on_notification(None, {"id": "1"})  # type: ignore[arg-type]
    assert failed == 1 and calls == ["1"]
    assert hooks.failures["boom"] == 1
    assert any(e.get("plugin") == "boom" and e["log_level"] == "error" for e in logs)


def test_a_command_may_list_accented_and_plain_spellings():
    class Weather:
        @hookimpl
        def civicbot_register_commands(self, register):
            register(Command(names=("météo", "meteo"), help="la météo", handler=lambda c: "ok"))

    pm = make_plugin_manager(load_entry_points=False, builtins=False, plugins=[("w", Weather())])
    [command] = Hooks(pm).commands(bot=None)  # type: ignore[arg-type]
    assert command.names == ("météo", "meteo")


def test_command_names_are_compared_like_residents_type_them():
    from civicbot.hooks import normalise_command

    assert normalise_command("Vœux") == normalise_command("voeux") == "voeux"
    assert normalise_command("Ce  Week-End") == "ce week-end"
    assert normalise_command("aujourd’hui") == normalise_command("AUJOURD'HUI")
