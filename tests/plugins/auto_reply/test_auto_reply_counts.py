"""The plugin counts, per day, what answered each mention (command, rule, fallback), and
never who asked."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

from auto_reply_support import CommandPlugin, faq

import civicbot_auto_reply
from civicbot import Command
from civicbot_auto_reply.responder import ANSWERS_CATEGORY


def test_answers_are_counted_per_day_without_names(civicbot_sandbox: Any,
                                                   civicbot_make_bot: Any,
                                                   tmp_path: Path) -> None:
    agenda = Command(names=("agenda",), help="l'agenda", handler=lambda ctx: "Voici l'agenda.")
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply, CommandPlugin(agenda)], config=faq(),
                            state=tmp_path / "state.sqlite3")
    bot.start()
    questions = [("Quels sont vos horaires ?", "zoe"), ("horaires samedi ?", "yann"),
                 ("agenda", "xavier"), ("Démarches d'état civil ?", "wanda"),
                 ("Où jeter mes encombrants ?", "victor"), ("Bonne journée !", "ursule"),
                 # an admin's command is not a resident's question: not counted
                 ("statut", "comm@sandbox.example")]
    for text, who in questions:
        acct = who if "@" in who else f"{who}@ville.example"
        civicbot_sandbox.inject_mention(text, acct=acct, display_name=f"Habitante {who}")
    civicbot_sandbox.wait_for_statuses(len(questions))
    assert bot.stream is not None
    assert bot.stream.dispatcher.wait_idle(10)
    today = bot.now().date()
    counts = bot.state.store.daily_counts(bot.name, ANSWERS_CATEGORY, date(2000, 1, 1))
    assert counts == [(today, "command:agenda", 1), (today, "fallback", 2),
                      (today, "rule:(?i)[ée]tat[- ]civil", 1), (today, "rule:horaires", 2)]
    bot.stop()
    # nothing in the counters names a resident
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    dumped = " ".join(str(cell) for row in db.execute("SELECT * FROM daily_counts")
                      for cell in row)
    db.close()
    for _text, who in questions[:-1]:
        assert who not in dumped
    assert "Habitante" not in dumped
