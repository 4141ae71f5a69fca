"""The "déchets" / "poubelles" mention command."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from civicbot import Bot, CommandContext

import civicbot_waste_collection

PARIS = ZoneInfo("Europe/Paris")


def answer(bot: Bot, word: str) -> str | None:
    [command] = [c for c in bot.commands if word in c.names]
    ctx = CommandContext(bot=bot, status={}, notification={}, sender="alice@other.example",
                         language=bot.language)
    return command.handler(ctx)


def make(civicbot_make_bot, tmp_path: Path, text: str, **core: object) -> Bot:
    calendar = tmp_path / "collecte.csv"
    calendar.write_text(text, encoding="utf-8")
    return civicbot_make_bot(plugins=[civicbot_waste_collection],
                             config={"plugins": {"waste_collection": {"calendar": str(calendar)}},
                                     **core})


def test_lists_the_next_three_collection_days(civicbot_make_bot, tmp_path):
    bot = make(civicbot_make_bot, tmp_path, "2026-12-01,Emballages\n2026-12-03,Ordures ménagères\n"
               "2026-12-05,Verre\n2026-12-10,Ordures ménagères\n2026-12-10,Emballages\n")
    with time_machine.travel(datetime(2026, 12, 2, 10, tzinfo=PARIS), tick=False):
        by_bins, by_waste = answer(bot, "poubelles"), answer(bot, "déchets")
    assert by_bins == ("Prochaines collectes : jeudi 3 décembre (ordures ménagères); "
                       "samedi 5 décembre (verre); jeudi 10 décembre (ordures ménagères, "
                       "emballages).")
    assert by_waste == by_bins


def test_both_names_trigger_the_same_command(civicbot_make_bot, tmp_path):
    bot = make(civicbot_make_bot, tmp_path, "2026-12-03,Verre\n")
    [command] = bot.commands
    assert command.names == ("déchets", "poubelles", "waste")
    assert command.help == "les prochains jours de collecte des déchets"


def test_no_collection_left(civicbot_make_bot, tmp_path):
    bot = make(civicbot_make_bot, tmp_path, "2026-12-03,Verre\n")
    with time_machine.travel(datetime(2026, 12, 4, 10, tzinfo=PARIS), tick=False):
        assert answer(bot, "déchets") == "Aucune collecte prévue dans le calendrier."


def test_english_answer(civicbot_make_bot, tmp_path):
    bot = make(civicbot_make_bot, tmp_path, "2026-12-03,Household waste\n", language="en")
    with time_machine.travel(datetime(2026, 12, 2, 10, tzinfo=PARIS), tick=False):
        assert answer(bot, "waste") == "Next collections: Thursday 3 December (household waste)."


def test_unreadable_calendar_gets_an_apology(civicbot_make_bot, tmp_path):
    bot = make(civicbot_make_bot, tmp_path, "2026-12-03,Verre\n")
    (tmp_path / "collecte.csv").write_text("not a date,Verre\n", encoding="utf-8")
    assert answer(bot, "déchets") == (
        "Le calendrier des collectes est indisponible pour le moment, désolé.")
