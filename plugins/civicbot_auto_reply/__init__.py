"""civicbot plugin ``auto_reply``: answers residents' mentions, safely.

Commands registered by any plugin ("agenda", "météo"...) are tried first, then the FAQ rules of
the ``plugins.auto_reply`` section, then the fallback. Bots, ``#nobot`` profiles and the bot
itself are never answered; a cooldown per account and a cap per conversation prevent loops.
Admins can pause and resume the bot and ask for its state. See docs/plugins/auto_reply.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from civicbot import Bot, Command, PerBot, hookimpl

if TYPE_CHECKING:  # imported on first use: an unconfigured plugin costs no memory
    from civicbot_auto_reply.config import AutoReplyConfig, Rule
    from civicbot_auto_reply.responder import Responder

__all__ = [
    "AutoReplyConfig",
    "Rule",
    "civicbot_config_schema",
    "civicbot_on_mention",
    "civicbot_register_commands",
    "civicbot_startup",
]

SECTION = "auto_reply"


def _make_responder(bot: Bot, config: AutoReplyConfig) -> Responder:
    from civicbot_auto_reply.responder import Responder

    return Responder(bot, config)


#: One responder per bot, rebuilt when its section changes (built under a lock: the dispatcher
#: and the CLI's ``ask`` may ask for it at the same time).
_RESPONDERS: PerBot[Responder] = PerBot(SECTION, _make_responder)


#: Names this module exported before they were imported on first use.
_LAZY = {
    "builtin_commands": "builtin_commands", "AutoReplyConfig": "config", "Rule": "config",
    "Responder": "responder"
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _config(bot: Bot) -> AutoReplyConfig | None:
    config = bot.plugin_config(SECTION)
    if config is None:  # not configured: nothing imported
        return None
    from civicbot_auto_reply.config import AutoReplyConfig

    return config if isinstance(config, AutoReplyConfig) else None


def responder_for(bot: Bot) -> Responder | None:
    """The plugin's state for this bot (None when the section is absent)."""
    if _config(bot) is None:
        return None
    return _RESPONDERS.get(bot)


@hookimpl
def civicbot_config_schema(register: Callable[[str, type[Any] | str], None]) -> None:
    register(SECTION, "civicbot_auto_reply.config:AutoReplyConfig")


@hookimpl
def civicbot_register_commands(register: Callable[[Command], None], bot: Bot) -> None:
    if _config(bot) is None:
        return

    def rule_help(language: str) -> list[str]:
        responder = responder_for(bot)
        return responder.rule_help(language) if responder is not None else []

    from civicbot_auto_reply.builtin_commands import builtin_commands

    for command in builtin_commands(bot, rule_help):
        register(command)


@hookimpl
def civicbot_startup(bot: Bot) -> None:
    responder = responder_for(bot)
    if responder is None:
        return
    removed = responder.limits.prune(bot.now())
    bot.log.info("auto-reply ready", rules=len(responder.rules),
                 commands=[c.name for c in bot.commands], admins=len(responder.config.admins),
                 forgotten_entries=removed)


@hookimpl
def civicbot_on_mention(bot: Bot, status: dict[str, Any], notification: dict[str, Any]) -> None:
    responder = responder_for(bot)
    if responder is not None:
        responder.handle(status, notification)
