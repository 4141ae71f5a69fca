"""Typed wrappers around hook calls (as in tox 4): the rest of civicbot never touches ``pm.hook``.

Notification and lifecycle hooks are called one plugin at a time, so that one plugin's
exception is logged and counted and never stops another.
"""

from __future__ import annotations

import importlib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
import structlog
from pydantic import BaseModel

from civicbot.commands import Command
from civicbot.errors import PluginError, PostVetoed
from civicbot.jobs import Job
from civicbot.store_outage import StoreOutage, store_outage

if TYPE_CHECKING:
    from civicbot.bot import Bot
    from civicbot.channels import Channel
    from civicbot.drafts import PostDraft


#: Hooks whose call is repeated when a plugin failed on a store outage (the dispatcher waits
#: for the store, then handles the notification again).
_RETRIED_ON_OUTAGE = frozenset({"civicbot_on_notification", "civicbot_on_mention"})


def _checked_model(plugin: str, section: str, model: Any) -> type[BaseModel]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise PluginError(f"plugin {plugin!r}: config model for {section!r} is not a "
                          "pydantic model")
    return model


def resolve_model(plugin: str, section: str, ref: type[BaseModel] | str) -> type[BaseModel]:
    """The model a plugin registered for ``section``: a class, or a ``"module:Class"``
    reference imported now (so a plugin pays for its model only when it is configured)."""
    if not isinstance(ref, str):
        return ref
    module_name, _, attr = ref.partition(":")
    try:
        model = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"plugin {plugin!r}: config model for {section!r}: cannot import "
                          f"{ref!r} ({type(exc).__name__}: {exc})") from exc
    return _checked_model(plugin, section, model)


@dataclass(frozen=True)
class CheckProblem:
    """One problem reported through ``civicbot_check_config``."""

    message: str
    key: tuple[str | int, ...] = ()
    file: str | None = None
    line: int | None = None
    plugin: str = ""


class Hooks:
    """The hook calls civicbot makes, typed."""

    def __init__(self, pm: pluggy.PluginManager, log: Any | None = None) -> None:
        self.pm = pm
        self.log = log or structlog.get_logger("civicbot.hooks")
        #: Exceptions raised by plugins in isolated hooks, by plugin name.
        self.failures: Counter[str] = Counter()

    # -- registration -----------------------------------------------------------------------
    def _impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        caller: pluggy.HookCaller = getattr(self.pm.hook, hook_name)
        # pluggy calls the last registered first; tryfirst/trylast already sorted
        return [impl for impl in reversed(caller.get_hookimpls()) if not impl.hookwrapper
                and not impl.wrapper]

    def config_schema_refs(self) -> dict[str, tuple[str, type[BaseModel] | str]]:
        """Section name -> (plugin name, model or ``"module:Class"`` reference), unresolved:
        a plugin whose section is absent from the YAML file never imports its model."""
        out: dict[str, tuple[str, type[BaseModel] | str]] = {}
        for impl in self._impls("civicbot_config_schema"):
            def register(section: str, model: type[BaseModel] | str,
                         _p: str = impl.plugin_name) -> None:
                if section in out:
                    raise PluginError(
                        f"config section {section!r} registered twice: by plugin "
                        f"{out[section][0]!r} and by plugin {_p!r}"
                    )
                if isinstance(model, str):
                    if ":" not in model:
                        raise PluginError(f"plugin {_p!r}: config model for {section!r}: "
                                          f"expected 'package.module:Class', got {model!r}")
                else:
                    model = _checked_model(_p, section, model)
                out[section] = (_p, model)
            impl.function(register=register)
        return out

    def config_schemas(self) -> dict[str, tuple[str, type[BaseModel]]]:
        """Section name -> (plugin name, model), every model resolved (imported)."""
        return {section: (plugin, resolve_model(plugin, section, ref))
                for section, (plugin, ref) in self.config_schema_refs().items()}

    def jobs(self, bot: Bot) -> list[Job]:
        found: dict[str, Job] = {}
        for impl in self._impls("civicbot_register_jobs"):
            def register(job: Job, _p: str = impl.plugin_name) -> None:
                if not isinstance(job, Job):
                    raise PluginError(f"plugin {_p!r} registered {job!r}, not a civicbot.Job")
                if job.id in found:
                    raise PluginError(
                        f"job id {job.id!r} registered twice: by plugin {found[job.id].plugin!r} "
                        f"and by plugin {_p!r}"
                    )
                object.__setattr__(job, "plugin", _p)
                found[job.id] = job
            self._call_args(impl, register=register, bot=bot)
        return list(found.values())

    def commands(self, bot: Bot) -> list[Command]:
        found: dict[str, Command] = {}
        for impl in self._impls("civicbot_register_commands"):
            def register(command: Command, _p: str = impl.plugin_name) -> None:
                if not isinstance(command, Command):
                    raise PluginError(f"plugin {_p!r} registered {command!r}, not a Command")
                object.__setattr__(command, "plugin", _p)
                for name in command.names:
                    key = normalise_command(name)
                    if found.get(key) is command:  # "météo" and "meteo": the same word
                        continue
                    if key in found:
                        raise PluginError(
                            f"command {name!r} registered twice: by plugin "
                            f"{found[key].plugin!r} and by plugin {_p!r}"
                        )
                    found[key] = command
            self._call_args(impl, register=register, bot=bot)
        unique: dict[int, Command] = {id(c): c for c in found.values()}
        return list(unique.values())

    def channels(self, bot: Bot) -> list[Channel]:
        from civicbot.channels import MASTODON, Channel

        found: dict[str, tuple[str, Channel]] = {}
        for impl in self._impls("civicbot_register_channels"):
            def register(channel: Channel, _p: str = impl.plugin_name) -> None:
                if not isinstance(channel, Channel):
                    raise PluginError(f"plugin {_p!r} registered {channel!r}, not a Channel")
                if channel.name == MASTODON or not channel.name:
                    raise PluginError(f"plugin {_p!r}: a channel needs a name other than "
                                      f"{MASTODON!r}")
                if channel.name in found:
                    raise PluginError(
                        f"channel {channel.name!r} registered twice: by plugin "
                        f"{found[channel.name][0]!r} and by plugin {_p!r}")
                found[channel.name] = (_p, channel)
            self._call_args(impl, register=register, bot=bot)
        return [channel for _, channel in found.values()]

    def check_config(self, bot: Bot) -> list[CheckProblem]:
        """Problems the plugins report for ``civicbot check-config``."""
        found: list[CheckProblem] = []
        for impl in self._impls("civicbot_check_config"):
            def report(message: str, *, key: tuple[str | int, ...] | list[str | int] = (),
                       file: str | Path | None = None, line: int | None = None,
                       _p: str = impl.plugin_name) -> None:
                found.append(CheckProblem(str(message), tuple(key),
                                          None if file is None else str(file), line, _p))
            self._call_args(impl, report=report, bot=bot)
        return found

    # -- isolated calls ----------------------------------------------------------------------
    @staticmethod
    def _call_args(impl: pluggy.HookImpl, **kwargs: Any) -> Any:
        return impl.function(**{name: kwargs[name] for name in impl.argnames})

    def _isolated(self, hook_name: str, **kwargs: Any) -> int:
        failed = 0
        for impl in self._impls(hook_name):
            try:
                self._call_args(impl, **kwargs)
            except Exception as exc:
                if hook_name in _RETRIED_ON_OUTAGE and store_outage(exc) is not None:
                    raise StoreOutage(f"plugin {impl.plugin_name!r}: {exc}") from exc
                failed += 1
                self.failures[impl.plugin_name] += 1
                self.log.error("plugin hook failed", hook=hook_name, plugin=impl.plugin_name,
                               exc_info=exc)
        return failed

    def startup(self, bot: Bot) -> int:
        return self._isolated("civicbot_startup", bot=bot)

    def shutdown(self, bot: Bot) -> int:
        return self._isolated("civicbot_shutdown", bot=bot)

    def on_notification(self, bot: Bot, notification: dict[str, Any]) -> int:
        """Call every plugin; return how many failed."""
        return self._isolated("civicbot_on_notification", bot=bot, notification=notification)

    def on_mention(self, bot: Bot, status: dict[str, Any], notification: dict[str, Any]) -> int:
        return self._isolated("civicbot_on_mention", bot=bot, status=status,
                              notification=notification)

    def post_sent(self, bot: Bot, draft: PostDraft, status: dict[str, Any]) -> int:
        return self._isolated("civicbot_post_sent", bot=bot, draft=draft, status=status)

    def prepare_post(self, bot: Bot, draft: PostDraft) -> PostDraft:
        """Run every ``prepare_post`` in turn; raise :class:`PostVetoed` on any exception."""
        for impl in self._impls("civicbot_prepare_post"):
            try:
                result = self._call_args(impl, bot=bot, draft=draft)
            except PostVetoed as exc:
                raise PostVetoed(f"vetoed by plugin {impl.plugin_name!r}: {exc}") from exc
            except Exception as exc:
                self.failures[impl.plugin_name] += 1
                raise PostVetoed(
                    f"plugin {impl.plugin_name!r} failed in prepare_post: {exc!r}"
                ) from exc
            if result is not None:
                draft = result
        return draft


def normalise_command(text: str) -> str:
    """Lower case, no accents, single spaces: how command names and mentions are compared."""
    # ligatures are not decomposed by NFKD: "vœux" and "voeux" are the same word
    folded = text.casefold().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", folded)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.replace("’", "'").split())

