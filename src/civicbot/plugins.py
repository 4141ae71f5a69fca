"""Build a plugin manager: hook specs, built-in plugins, entry-point plugins, disabled names.

There is no global plugin manager: each :class:`civicbot.Bot` (and each test) builds its own.
A plugin that fails to import is logged and skipped, never fatal.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy
import structlog

from civicbot import hookspecs

ENTRY_POINT_GROUP = "civicbot"

#: The core's own default behaviour, registered like any other plugin (and disabled the same way).
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("core.pending", "civicbot.builtin.pending"),
    ("core.approvals", "civicbot.builtin.approvals"),
    ("core.engagement", "civicbot.builtin.engagement"),
)

log = structlog.get_logger("civicbot.plugins")


@dataclass
class LoadReport:
    """What happened while loading plugins, for ``civicbot plugins`` and the logs."""

    loaded: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class CivicbotPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers why plugins were skipped."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.report = LoadReport()


def make_plugin_manager(
    *,
    load_entry_points: bool = True,
    builtins: bool = True,
    disabled: Iterable[str] = (),
    plugins: Iterable[tuple[str, Any] | Any] = (),
) -> CivicbotPluginManager:
    """Build a plugin manager.

    ``plugins`` adds extra plugins (objects or ``(name, object)`` pairs), e.g. an inline plugin
    in a script or a test. ``disabled`` names plugins never to register (a built-in such as
    ``core.pending``, an entry-point name such as ``weather``, or an extra plugin's name).
    """
    pm = CivicbotPluginManager()
    pm.add_hookspecs(hookspecs)
    blocked = set(disabled)
    for name in blocked:
        pm.set_blocked(name)
    pm.report.disabled = sorted(blocked)

    if builtins:
        for name, module_name in BUILTIN_PLUGINS:
            if name in blocked:
                continue
            _register_module(pm, name, module_name)

    if load_entry_points:
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in blocked or pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin is skipped, never fatal
                pm.report.failed[ep.name] = f"{type(exc).__name__}: {exc}"
                log.error("plugin failed to load", plugin=ep.name, value=ep.value, exc_info=exc)
                continue
            _register(pm, ep.name, plugin)

    for item in plugins:
        name, plugin = item if isinstance(item, tuple) else (_plugin_name(item), item)
        if name in blocked:
            continue
        _register(pm, name, plugin)
    return pm


def _plugin_name(plugin: Any) -> str:
    return str(getattr(plugin, "__name__", None) or type(plugin).__name__)


def _register_module(pm: CivicbotPluginManager, name: str, module_name: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        pm.report.failed[name] = f"{type(exc).__name__}: {exc}"
        log.error("plugin failed to load", plugin=name, value=module_name, exc_info=exc)
        return
    _register(pm, name, module)


def _register(pm: CivicbotPluginManager, name: str, plugin: Any) -> None:
    try:
        pm.register(plugin, name=name)
    except Exception as exc:  # pluggy validation error: wrong hook signature, unknown hook...
        pm.report.failed[name] = f"{type(exc).__name__}: {exc}"
        log.error("plugin failed to register", plugin=name, exc_info=exc)
        return
    pm.report.loaded.append(name)


def plugin_hooks(pm: pluggy.PluginManager) -> dict[str, list[str]]:
    """Map each registered plugin name to the hooks it implements (for ``civicbot plugins``)."""
    out: dict[str, list[str]] = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        callers = pm.get_hookcallers(plugin) or []
        out[name] = sorted(caller.name for caller in callers)
    return out
