"""civicbot plugin: remind residents of waste collection days, the evening before.

The module itself is the plugin: civicbot registers it through the entry point
``waste_collection = "civicbot_waste_collection"`` and calls the ``@hookimpl`` functions below.
Without a ``plugins.waste_collection`` section in the config, the plugin does nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from civicbot import Bot, Command, Job, hookimpl
from pydantic import BaseModel

from civicbot_waste_collection.commands import next_collections_command
from civicbot_waste_collection.config import SECTION, WasteCollectionConfig
from civicbot_waste_collection.jobs import reminder_job

__all__ = [
    "civicbot_config_schema",
    "civicbot_register_commands",
    "civicbot_register_jobs",
]


def _config(bot: Bot) -> WasteCollectionConfig | None:
    config = bot.plugin_config(SECTION)
    return config if isinstance(config, WasteCollectionConfig) else None


@hookimpl
def civicbot_config_schema(register: Callable[[str, type[BaseModel]], None]) -> None:
    register(SECTION, WasteCollectionConfig)


@hookimpl
def civicbot_register_jobs(register: Callable[[Job], None], bot: Bot) -> None:
    config = _config(bot)
    if config is not None:
        register(reminder_job(config))


@hookimpl
def civicbot_register_commands(register: Callable[[Command], None], bot: Bot) -> None:
    config = _config(bot)
    if config is not None:
        register(next_collections_command(config, bot.language))
