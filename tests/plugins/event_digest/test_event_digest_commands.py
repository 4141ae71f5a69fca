"""Mention commands "agenda", "ce week-end", "aujourd'hui": short answers within the limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import time_machine
from event_digest_support import PARIS, blois_sources

import civicbot_event_digest
from civicbot import Bot, Command, CommandContext


def make(civicbot_make_bot: Callable[..., Bot], **extra: Any) -> Bot:
    section = {"sources": extra.pop("sources", blois_sources()), **extra}
    return civicbot_make_bot(plugins=[civicbot_event_digest],
                             config={"timezone": "Europe/Paris",
                                     "plugins": {"event_digest": section}})


def command(bot: Bot, name: str) -> Command:
    return next(c for c in bot.commands if name in c.names)


def ask(bot: Bot, name: str, sender: str = "alice@blois.social") -> str | None:
    ctx = CommandContext(bot=bot, status={"id": "1"}, notification={}, sender=sender)
    return command(bot, name).handler(ctx)


def test_commands_are_registered_with_french_names(civicbot_make_bot: Callable[..., Bot]) -> None:
    bot = make(civicbot_make_bot)
    names = {c.names for c in bot.commands}
    assert names == {("agenda",), ("ce week-end", "week-end", "weekend", "ce weekend"),
                     ("aujourd'hui", "aujourdhui")}
    assert command(bot, "weekend").help == "les sorties du week-end"


def test_weekend_answer(civicbot_make_bot: Callable[..., Bot]) -> None:
    bot = make(civicbot_make_bot, agenda_url="https://www.blois.fr/agenda")
    with time_machine.travel(datetime(2026, 12, 11, 12, 0, tzinfo=PARIS), tick=False):
        text = ask(bot, "ce week-end")
    # what starts this weekend comes first; 5 events at most (commands.max_events)
    assert text == (
        "📅 Ce week-end :\n"
        "• sam. 12 déc., 10 h · Week-end de la BD jeunesse — 3 rue des Jacobins, Blois "
        "(jusqu'au 13 décembre)\n"
        "• sam. 12 déc., 14 h · Club lecture ados — Bibliothèque Abbé-Grégoire\n"
        "• sam. 12 déc., 15 h · Visite guidée : le château royal — Château royal de Blois\n"
        "• sam. 12 déc., 16 h · Rencontre & dédicace avec une autrice de BD — Maison de la BD\n"
        "… et 5 autres.\n\nTout l'agenda : https://www.blois.fr/agenda")
    assert len("@alice@blois.social " + text) <= 500
    # one more line would not fit with the mention
    longer = text.replace("… et 5", "• dim. 13 déc., 16 h · Concert de Noël des chœurs de Blois — "
                          "Cathédrale Saint-Louis\n… et 4")
    assert len("@alice@blois.social " + longer) > 500


def test_ongoing_events_come_last_without_a_day(civicbot_make_bot: Callable[..., Bot]) -> None:
    bot = make(civicbot_make_bot, sources=blois_sources()[1:2])
    with time_machine.travel(datetime(2026, 12, 9, 9, 0, tzinfo=PARIS), tick=False):
        agenda = ask(bot, "agenda")
    assert agenda == (
        "📅 Prochainement :\n"
        "• mer. 9 déc., 10 h 30 · L'heure du conte — Bibliothèque Abbé-Grégoire\n"
        "• sam. 12 déc., 14 h · Club lecture ados — Bibliothèque Abbé-Grégoire\n"
        "• Exposition : les châteaux de la Loire en BD — Bibliothèque Abbé-Grégoire "
        "(jusqu'au 9 janvier)")


def test_today_answer_skips_what_is_over(civicbot_make_bot: Callable[..., Bot]) -> None:
    bot = make(civicbot_make_bot, sources=blois_sources()[1:2])
    with time_machine.travel(datetime(2026, 12, 9, 12, 0, tzinfo=PARIS), tick=False):
        noon = ask(bot, "aujourdhui")
    with time_machine.travel(datetime(2026, 12, 9, 9, 0, tzinfo=PARIS), tick=False):
        morning = ask(bot, "aujourd'hui")
    exhibition = ("• Exposition : les châteaux de la Loire en BD — Bibliothèque Abbé-Grégoire "
                  "(jusqu'au 9 janvier)")
    assert noon == f"📅 Aujourd'hui :\n{exhibition}"
    assert morning == ("📅 Aujourd'hui :\n• 10 h 30 · L'heure du conte — "
                       f"Bibliothèque Abbé-Grégoire\n{exhibition}")


def test_agenda_answer_fits_a_small_limit(civicbot_make_bot: Callable[..., Bot],
                                          civicbot_sandbox: Any) -> None:
    civicbot_sandbox.max_characters = 200
    bot = make(civicbot_make_bot, commands={"max_events": 10})
    with time_machine.travel(datetime(2026, 12, 8, 19, 0, tzinfo=PARIS), tick=False):
        text = ask(bot, "agenda", sender="bob")
    assert text == ("📅 Prochainement :\n"
                    "• mer. 9 déc., 10 h 30 · L'heure du conte — Bibliothèque Abbé-Grégoire\n"
                    "… et 10 autres.")
    assert len("@bob " + str(text)) <= 200


def test_empty_and_failed_answers(civicbot_make_bot: Callable[..., Bot], tmp_path: Any) -> None:
    empty = tmp_path / "empty.ics"
    empty.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    bot = make(civicbot_make_bot, sources=[{"name": "Ville", "ics": str(empty)},
                                           {"name": "Musée", "ics": str(tmp_path / "no.ics")}])
    failed = make(civicbot_make_bot, sources=[{"name": "Musée", "ics": str(tmp_path / "no.ics")}])
    with time_machine.travel(datetime(2026, 12, 11, 12, 0, tzinfo=PARIS), tick=False):
        assert ask(bot, "weekend") == ("Aucun événement annoncé ce week-end pour l'instant.\n"
                                       "(Une partie de l'agenda n'a pas pu être chargée.)")
        assert ask(failed, "agenda") == "Désolé, l'agenda n'a pas pu être chargé pour le moment."


def test_commands_can_be_switched_off(civicbot_make_bot: Callable[..., Bot]) -> None:
    bot = make(civicbot_make_bot, commands={"enabled": False})
    assert bot.commands == []
