"""The "aide" command and the admin commands ("pause", "reprendre", "statut")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from auto_reply_support import CommandPlugin, faq, text_of

import civicbot_auto_reply
from civicbot import Command, Job, PostDraft, cron, hookimpl

HOURS_FR = "Bonjour {} ! La mairie est ouverte du lundi au vendredi, 8h30–17h."
PISCINE = Command(names=("piscine",), help="les horaires de la piscine",
                  handler=lambda ctx: "La piscine ouvre à 9 h.")


def test_help_lists_commands_of_every_plugin(civicbot_make_bot: Any,
                                             civicbot_sandbox: Any) -> None:
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply, CommandPlugin(PISCINE)],
                            config=faq())
    bot.start()
    civicbot_sandbox.inject_mention("Aide", acct="a@x.example")
    civicbot_sandbox.inject_mention("help", acct="b@x.example", language="en")
    civicbot_sandbox.inject_mention("aide", acct="comm")  # a local admin
    french, english, admin = civicbot_sandbox.wait_for_statuses(3)
    assert text_of(french) == (
        "@a Voici ce que je sais faire (mentionnez-moi avec le mot-clé) :\n"
        "• piscine : les horaires de la piscine\n"
        "• aide : la liste de ce que je sais faire\n"
        "• « horaires » : les horaires de la mairie")
    assert text_of(english) == (
        "@b Here is what I can do (mention me with the keyword):\n"
        "• piscine: les horaires de la piscine\n"
        "• aide: la liste de ce que je sais faire\n"
        "• « horaires » : les horaires de la mairie")
    assert english["language"] == "en"
    assert text_of(admin) == (
        "@comm Voici ce que je sais faire (mentionnez-moi avec le mot-clé) :\n"
        "• piscine : les horaires de la piscine\n"
        "• aide : la liste de ce que je sais faire\n"
        "• « horaires » : les horaires de la mairie\n"
        "• pause (admin) : suspendre toutes les publications et réponses automatiques\n"
        "• reprendre (admin) : reprendre les publications et réponses automatiques\n"
        "• statut (admin) : l'état du robot et ses prochaines tâches")


def test_pause_persists_across_a_restart(civicbot_make_bot: Any,
                                         civicbot_sandbox: Any) -> None:
    first = civicbot_make_bot(plugins=[civicbot_auto_reply], config=faq())
    first.start()
    civicbot_sandbox.inject_mention("pause", acct="Comm@Sandbox.example")
    [paused] = civicbot_sandbox.wait_for_statuses(1)
    assert text_of(paused) == ("@Comm C'est noté : je suspends toutes mes publications et "
                               "réponses automatiques. Écrivez « reprendre » pour me relancer.")
    assert paused["visibility"] == "direct"
    assert first.paused
    first.stop()

    # a restart on the same state file: still paused
    second = civicbot_make_bot(plugins=[civicbot_auto_reply], config=faq())
    second.start()
    assert second.paused
    civicbot_sandbox.inject_mention("horaires", acct="ana@x.example")
    civicbot_sandbox.inject_mention("reprendre", acct="comm")
    [_, resumed] = civicbot_sandbox.wait_for_statuses(2)
    assert text_of(resumed) == ("@comm C'est reparti : mes publications et réponses "
                                "automatiques reprennent.")
    assert not second.paused
    control = civicbot_sandbox.inject_mention("horaires", acct="bob@x.example",
                                              display_name="Bob")
    statuses = civicbot_sandbox.wait_for_statuses(3)
    assert len(statuses) == 3
    assert statuses[2]["in_reply_to_id"] == control["status"]["id"]
    assert text_of(statuses[2]) == "@bob " + HOURS_FR.format("Bob")


def test_paused_bot_drops_other_plugins_posts_and_answers_admins(
        civicbot_make_bot: Any, civicbot_sandbox: Any) -> None:
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config=faq())
    bot.start()
    civicbot_sandbox.inject_mention("pause", acct="comm", language="en")
    [paused] = civicbot_sandbox.wait_for_statuses(1)
    assert text_of(paused) == ("@comm Done: every automatic post and reply is paused. "
                               "Write “resume” to start again.")
    [result] = bot.publish(PostDraft(text="Bonne journée à Blois !", dedup_key="test:post"))
    assert result.skipped == "paused"
    civicbot_sandbox.inject_mention("pause", acct="comm")
    [_, again] = civicbot_sandbox.wait_for_statuses(2)
    assert text_of(again) == ("@comm Je suis déjà en pause. Écrivez « reprendre » pour me "
                              "relancer.")


def test_admin_words_from_residents_are_ordinary_text(civicbot_make_bot: Any,
                                                      civicbot_sandbox: Any) -> None:
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config=faq())
    bot.start()
    # same user name as the admin, on another instance: not an admin
    civicbot_sandbox.inject_mention("pause", acct="comm@evil.example")
    civicbot_sandbox.inject_mention("statut de ma demande d'état civil ?", acct="a@x.example")
    fallback, civil = civicbot_sandbox.wait_for_statuses(2)
    assert text_of(fallback) == ("@comm Merci pour votre message ! Écrivez « aide » pour voir "
                                 "ce que je sais faire.")
    assert fallback["visibility"] == "public"
    assert text_of(civil).startswith("@a Les démarches d'état civil")
    assert not bot.paused


class BulletinPlugin:
    """A plugin with a weekly job, to be listed by "statut"."""

    @hookimpl
    def civicbot_register_jobs(self, register: Callable[[Job], None]) -> None:
        register(Job(id="bulletin", schedule=cron("0 8 * * 1"), func=lambda ctx: []))


def test_status_tells_uptime_queue_last_posts_and_next_jobs(civicbot_make_bot: Any,
                                                           civicbot_sandbox: Any) -> None:
    now = datetime(2025, 3, 12, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    with time_machine.travel(now, tick=False):
        bot = civicbot_make_bot(plugins=[civicbot_auto_reply, BulletinPlugin()],
                                config=faq(admins=["maire", "comm@sandbox.example"]))
        bot.start()
        civicbot_sandbox.inject_mention("horaires", acct="ana@x.example", display_name="Ana")
        civicbot_sandbox.inject_mention("statut", acct="maire")
        _, status = civicbot_sandbox.wait_for_statuses(2)
    lines = text_of(status).split("\n")
    assert lines[0] == "@maire État : en service"
    assert lines[1] == "En service depuis 0 min"
    # in French throughout: "connecté", never the English "connected"
    assert lines[2] in {"Flux : connecté (file d'attente : 0)",
                        "Flux : consultation régulière (file d'attente : 0)"}, lines[2]
    assert lines[3:] == [
        "Derniers messages :",
        "– 12/03 à 10:00 « Bonjour Ana ! La mairie est ouverte du lundi au… »",
        "Prochaines tâches :",
        "– bulletin : 17/03 à 08:00",
    ]
    assert status["visibility"] == "direct"


def test_a_long_help_list_becomes_a_numbered_thread_not_a_cut(civicbot_make_bot: Any,
                                                              civicbot_sandbox: Any) -> None:
    many = [Command(names=(f"service{i}",), help=f"les horaires et l'adresse du service {i}",
                    handler=lambda ctx: "ok") for i in range(20)]
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply, CommandPlugin(*many)], config=faq())
    bot.start()
    civicbot_sandbox.inject_mention("aide", acct="a@x.example")
    assert _wait(lambda: len(civicbot_sandbox.statuses) >= 2)
    bot.stream.dispatcher.wait_idle()
    parts = [text_of(s) for s in civicbot_sandbox.statuses]
    total = len(parts)
    assert total >= 2
    for i, (part, status) in enumerate(zip(parts, civicbot_sandbox.statuses, strict=True), 1):
        assert part.endswith(f"{i}/{total}") and len(part) <= 500
        if i > 1:
            assert status["in_reply_to_id"] == civicbot_sandbox.statuses[i - 2]["id"]
    listed = "\n".join(parts)
    for i in range(20):
        assert f"• service{i} : les horaires et l'adresse du service {i}" in listed
    assert "…" not in listed


def _wait(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
