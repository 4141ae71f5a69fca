"""The "déchets" / "poubelles" command: the next collection days."""

from __future__ import annotations

from civicbot import Command, CommandContext

from civicbot_waste_collection.calendar import read_calendar, upcoming
from civicbot_waste_collection.config import WasteCollectionConfig
from civicbot_waste_collection.messages import calendar_unavailable, next_collections

#: How many collection days the command lists.
DAYS_SHOWN = 3


def next_collections_command(config: WasteCollectionConfig, language: str) -> Command:
    def handler(ctx: CommandContext) -> str:
        try:
            calendar = read_calendar(config.calendar)
        except ValueError as exc:
            ctx.bot.log.warning("waste calendar unreadable", error=str(exc))
            return calendar_unavailable(ctx.language)
        today = ctx.bot.now().date()
        return next_collections(upcoming(calendar, today, DAYS_SHOWN), ctx.language)

    help_text = ("the next waste collection days" if language.startswith("en")
                 else "les prochains jours de collecte des déchets")
    return Command(names=("déchets", "poubelles", "waste"), help=help_text, handler=handler)
