"""What the bot answers, against the sandbox: rules, commands, languages, visibility, safety."""

from __future__ import annotations

from typing import Any

import pytest
from auto_reply_support import (
    CIVIL,
    FALLBACK,
    CommandPlugin,
    faq,
    mentioned,
    posted_texts,
    text_of,
)

import civicbot_auto_reply
from civicbot import Command, CommandContext
from civicbot.testing import every_server

HOURS_FR = "Bonjour {} ! La mairie est ouverte du lundi au vendredi, 8h30–17h."


@pytest.fixture
def start(civicbot_make_bot: Any) -> Any:
    def make(config: dict[str, Any] | None = None, plugins: tuple[Any, ...] = ()) -> Any:
        bot = civicbot_make_bot(plugins=[civicbot_auto_reply, *plugins],
                                config=config or faq())
        bot.start()
        return bot
    return make


@every_server
def test_keyword_rule_any_case_and_accents(civicbot_sandbox: Any, start: Any) -> None:
    start()
    questions = ["Quels sont vos HORAIRES ?", "horaire de la mairie", "Heure d'Ouverture ?"]
    mentions = [civicbot_sandbox.inject_mention(q, acct=f"r{i}@ville.example",
                                                display_name=f"Résident {i}")
                for i, q in enumerate(questions)]
    statuses = civicbot_sandbox.wait_for_statuses(3)
    for i, (status, mention) in enumerate(zip(statuses, mentions, strict=True)):
        assert text_of(status) == f"@r{i} " + HOURS_FR.format(f"Résident {i}")
        assert status["in_reply_to_id"] == mention["status"]["id"]
        assert mentioned(status) == [f"r{i}@ville.example"]
        assert status["language"] == (civicbot_sandbox.profile.forced_language or "fr")
        assert status["visibility"] == "public"


def test_regex_rule_groups_and_fallback(civicbot_sandbox: Any, start: Any) -> None:
    start()
    civicbot_sandbox.inject_mention("Démarches d'État-civil ?", acct="a@x.example")
    civicbot_sandbox.inject_mention("Je veux signaler un lampadaire éteint", acct="b@x.example",
                                    display_name="Bruno")
    civicbot_sandbox.inject_mention("Bonne journée !", acct="c@x.example")
    first, second, third = civicbot_sandbox.wait_for_statuses(3)
    assert text_of(first) == f"@a {CIVIL}"
    assert text_of(second) == ("@b Merci Bruno, nous transmettons « un lampadaire éteint » "
                               "au service concerné.")
    assert text_of(third) == f"@c {FALLBACK}"


def test_resident_language_picks_the_template(civicbot_sandbox: Any, start: Any) -> None:
    start()
    civicbot_sandbox.inject_mention("Opening hours? horaires", acct="en@x.example",
                                    display_name="Emma", language="en")
    civicbot_sandbox.inject_mention("Öffnungszeiten? horaires", acct="de@x.example",
                                    display_name="Dora", language="de")
    english, german = civicbot_sandbox.wait_for_statuses(2)
    assert text_of(english) == ("@en Hello Emma! The town hall is open Monday to Friday, "
                                "8:30am–5pm.")
    assert english["language"] == "en"
    # no German template: the config's language (French)
    assert text_of(german) == "@de " + HOURS_FR.format("Dora")
    assert german["language"] == "fr"


def test_built_in_fallback_is_french_with_an_english_variant(civicbot_sandbox: Any,
                                                             start: Any) -> None:
    config = faq()
    del config["plugins"]["auto_reply"]["fallback"]
    start(config)
    civicbot_sandbox.inject_mention("Coucou", acct="a@x.example")
    civicbot_sandbox.inject_mention("Hi there", acct="b@x.example", language="en")
    french, english = civicbot_sandbox.wait_for_statuses(2)
    assert text_of(french) == ("@a Merci pour votre message ! Écrivez « aide » pour voir ce "
                               "que je sais faire.")
    assert text_of(english) == "@b Thank you for your message! Write “help” to see what I can do."


def test_null_fallback_stays_silent(civicbot_sandbox: Any, start: Any) -> None:
    start(faq(fallback=None))
    civicbot_sandbox.inject_mention("Bonne journée !", acct="a@x.example")
    control = civicbot_sandbox.inject_mention("horaires", acct="b@x.example", display_name="Bea")
    [status] = civicbot_sandbox.wait_for_statuses(1)
    assert status["in_reply_to_id"] == control["status"]["id"]
    assert text_of(status) == "@b " + HOURS_FR.format("Bea")


def test_direct_and_private_mentions_get_replies_as_narrow(civicbot_sandbox: Any,
                                                           start: Any) -> None:
    start()
    civicbot_sandbox.inject_mention("horaires", acct="a@x.example", visibility="direct")
    civicbot_sandbox.inject_mention("horaires", acct="b@x.example", visibility="private")
    civicbot_sandbox.inject_mention("horaires", acct="c@x.example", visibility="unlisted")
    direct, private, unlisted = civicbot_sandbox.wait_for_statuses(3)
    assert direct["visibility"] == "direct"
    assert private["visibility"] == "private"
    assert unlisted["visibility"] == "unlisted"
    assert [mentioned(s) for s in (direct, private, unlisted)] == [
        ["a@x.example"], ["b@x.example"], ["c@x.example"]]


def test_only_the_sender_is_mentioned_in_a_crowded_thread(civicbot_sandbox: Any,
                                                         start: Any) -> None:
    start()
    civicbot_sandbox.inject_mention("@bob@x.example @carol@y.example horaires ?",
                                    acct="alice@other.example")
    [status] = civicbot_sandbox.wait_for_statuses(1)
    assert mentioned(status) == ["alice@other.example"]
    assert posted_texts(civicbot_sandbox)[0].count("@") == 2  # "@alice@other.example"


def test_commands_come_before_rules_and_get_their_arguments(civicbot_sandbox: Any,
                                                            start: Any) -> None:
    seen: list[CommandContext] = []

    def agenda(ctx: CommandContext) -> str:
        seen.append(ctx)
        return f"Agenda ({ctx.args or 'tout'}) : concert au Château samedi à 20h."

    plugin = CommandPlugin(Command(names=("agenda", "ce week-end"), help="les sorties",
                                   handler=agenda))
    start(faq(rules=[{"keywords": ["agenda", "horaires"], "reply": "Règle agenda"}]),
          plugins=(plugin,))
    civicbot_sandbox.inject_mention("AGENDA du mois ?", acct="a@x.example")
    civicbot_sandbox.inject_mention("Ce week-end", acct="b@x.example", language="en")
    civicbot_sandbox.inject_mention("Où trouver l'agenda ?", acct="c@x.example")
    first, second, third = civicbot_sandbox.wait_for_statuses(3)
    assert text_of(first) == "@a Agenda (du mois) : concert au Château samedi à 20h."
    assert text_of(second) == "@b Agenda (tout) : concert au Château samedi à 20h."
    # not at the start: not a command, the rule answers
    assert text_of(third) == "@c Règle agenda"
    assert [c.sender for c in seen] == ["a@x.example", "b@x.example"]
    assert [c.language for c in seen] == ["fr", "en"]
    assert [c.is_admin for c in seen] == [False, False]


def test_command_failure_or_silence_sends_nothing(civicbot_sandbox: Any, start: Any) -> None:
    def broken(ctx: CommandContext) -> str:
        raise RuntimeError("service down")

    plugin = CommandPlugin(Command(names=("piscine",), help="la piscine", handler=broken),
                           Command(names=("rien",), help="rien", handler=lambda ctx: None))
    start(plugins=(plugin,))
    civicbot_sandbox.inject_mention("piscine", acct="a@x.example")
    civicbot_sandbox.inject_mention("rien", acct="b@x.example")
    control = civicbot_sandbox.inject_mention("horaires", acct="c@x.example")
    [status] = civicbot_sandbox.wait_for_statuses(1)
    assert status["in_reply_to_id"] == control["status"]["id"]


def test_html_injection_is_neither_echoed_nor_mentioning(civicbot_sandbox: Any,
                                                         start: Any) -> None:
    start()
    bot_url = civicbot_sandbox.account["url"]
    html = (f'<p><span class="h-card"><a href="{bot_url}" class="u-url mention">@<span>ville'
            '</span></a></span> <script>alert(1)</script>je veux <b>signaler</b> '
            '<img src=x onerror=alert(2)>un trou &lt;i&gt;énorme&lt;/i&gt; @victim@x.example '
            '<a href="https://evil.example/p"><span class="invisible">https://</span>'
            'evil.example/p</a></p>')
    civicbot_sandbox.inject_mention("", html=html, acct="z@x.example",
                                    display_name="<b>Zoé</b> @mallory@evil.example #spam")
    [status] = civicbot_sandbox.wait_for_statuses(1)
    assert text_of(status) == ("@z Merci Zoé spam, nous transmettons « un trou énorme » "
                               "au service concerné.")
    [raw] = posted_texts(civicbot_sandbox)
    assert "<" not in raw and "evil.example" not in raw and "#" not in raw
    assert mentioned(status) == ["z@x.example"]


def test_huge_mention_and_huge_answer_stay_in_one_post(civicbot_sandbox: Any,
                                                       start: Any) -> None:
    plugin = CommandPlugin(Command(names=("liste",), help="une longue liste",
                                   handler=lambda ctx: "événement " * 300))
    start(plugins=(plugin,))
    civicbot_sandbox.inject_mention("signaler " + "un problème très long " * 230,
                                    acct="a@x.example", display_name="N" * 5000)
    civicbot_sandbox.inject_mention("liste", acct="b@x.example")
    first, second = civicbot_sandbox.wait_for_statuses(2)
    raw_first, raw_second = posted_texts(civicbot_sandbox)
    assert raw_first == ("@a@x.example Merci " + "N" * 39 + "…, nous transmettons « "
                         + "un problème très long " * 2 + "un problème… » au service concerné.")
    assert len(raw_second) <= 500 and raw_second.endswith("événement…")
    assert second["in_reply_to_id"] != first["id"]  # no thread: each answer is one post
