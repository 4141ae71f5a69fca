"""The most specific answer wins (issue 12): all words of a keyword beat one word, a command
named anywhere in a short question is found, ties go to the order of the file. Through the
sandbox, and with ``civicbot ask`` on the example config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from auto_reply_support import CommandPlugin, text_of

import civicbot_auto_reply
from civicbot import Command
from civicbot.cli import main

ROOT = Path(__file__).resolve().parents[3]
TOWN_HALL = "La mairie est ouverte de 8h30 à 17h."
DUMP = "La déchèterie est ouverte le dimanche matin."
LIBRARY = "La bibliothèque ouvre à 10h."


def rules(*extra: dict[str, Any]) -> dict[str, Any]:
    return {"plugins": {"auto_reply": {"cooldown": "0s", "fallback": None, "rules": [
        {"keywords": ["horaires", "ouverte", "ouverture"], "reply": TOWN_HALL},
        *extra]}}}


def ask_bot(civicbot_sandbox: Any, civicbot_make_bot: Any, config: dict[str, Any],
            question: str, plugins: tuple[Any, ...] = ()) -> str:
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply, *plugins], config=config)
    bot.start()
    civicbot_sandbox.inject_mention(question, acct="habitante@ville.example")
    [status] = civicbot_sandbox.wait_for_statuses(1)
    return text_of(status)


def test_all_words_of_a_keyword_beat_one_word(civicbot_sandbox, civicbot_make_bot):
    config = rules({"keywords": ["déchèterie ouverte", "déchèterie"], "reply": DUMP})
    reply = ask_bot(civicbot_sandbox, civicbot_make_bot, config,
                    "La déchèterie est ouverte dimanche ?")
    assert DUMP in reply


def test_ties_go_to_the_first_rule_of_the_file(civicbot_sandbox, civicbot_make_bot):
    config = rules({"keywords": ["déchèterie"], "reply": DUMP})
    reply = ask_bot(civicbot_sandbox, civicbot_make_bot, config,
                    "La déchèterie est ouverte dimanche ?")
    assert TOWN_HALL in reply


def test_a_command_named_in_a_short_question_is_found(civicbot_sandbox, civicbot_make_bot):
    library = CommandPlugin(Command(names=("horaires bibliothèque",), help="la bibliothèque",
                                    handler=lambda ctx: LIBRARY))
    reply = ask_bot(civicbot_sandbox, civicbot_make_bot, rules(),
                    "Quels sont les horaires de la bibliothèque ?", plugins=(library,))
    assert LIBRARY in reply


def test_a_command_is_not_looked_for_in_a_long_message(civicbot_sandbox, civicbot_make_bot):
    library = CommandPlugin(Command(names=("horaires bibliothèque",), help="la bibliothèque",
                                    handler=lambda ctx: LIBRARY))
    question = ("Bonjour, je voulais savoir, parce que mon fils doit rendre des livres avant "
                "les vacances et que nous partons tôt, les horaires de la bibliothèque ?")
    reply = ask_bot(civicbot_sandbox, civicbot_make_bot, rules(), question, plugins=(library,))
    assert TOWN_HALL in reply


# -- civicbot ask ------------------------------------------------------------------------------
EXAMPLE = ROOT / "config.example.yaml"


def ask(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["ask", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(("question", "expected", "wrong"), [
    ("La déchèterie est ouverte dimanche ?", "La déchèterie des Grouëts est ouverte",
     "L'hôtel de ville"),
    ("Quels sont les horaires de la bibliothèque ?", "La bibliothèque est ouverte",
     "L'hôtel de ville"),
    ("Quels sont les horaires de la mairie ?", "L'hôtel de ville est ouvert", "bibliothèque"),
])
def test_the_example_config_answers_right(capsys, question, expected, wrong):
    code, out, _ = ask(capsys, question, "--config", str(EXAMPLE))
    assert code == 0
    assert out.startswith("@habitant@example.org ")
    assert expected in out and wrong not in out


def test_ask_json(capsys):
    code, out, _ = ask(capsys, "La déchèterie est ouverte dimanche ?", "--config", str(EXAMPLE),
                       "--json")
    assert code == 0
    data = json.loads(out)
    assert data["answered_by"] == "rule 2"
    assert data["language"] == "fr" and data["reason"] is None
    assert data["reply"].startswith("La déchèterie des Grouëts")


def write_config(tmp_path: Path, **section: Any) -> Path:
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text(yaml.safe_dump({
        "mastodon": {"api_base_url": "sandbox"}, "state": "state.sqlite3",
        "plugins": {"auto_reply": {"rules": [{"keywords": ["horaires"], "reply": TOWN_HALL}],
                                   **section}}}, allow_unicode=True), encoding="utf-8")
    return cfg


def test_ask_says_why_there_is_no_reply(tmp_path, capsys):
    cfg = write_config(tmp_path, fallback=None)
    assert ask(capsys, "Bonjour !", "--config", str(cfg))[1] == \
        "no reply: no rule matched and the fallback is disabled (fallback: null)\n"
    assert ask(capsys, "horaires ?", "--config", str(cfg), "--profile", "Pas de robots #nobot"
               )[1] == "no reply: #nobot in profile\n"
    assert ask(capsys, "horaires ?", "--config", str(cfg), "--bot-account")[1] == \
        "no reply: bot account\n"
    _code, out, _ = ask(capsys, "Bonjour !", "--config", str(cfg), "--json")
    assert json.loads(out) == {"question": "Bonjour !", "reply": None, "language": None,
                               "answered_by": "fallback", "reason": "no rule matched and the "
                               "fallback is disabled (fallback: null)"}


def test_ask_reads_the_cooldown_from_the_state(tmp_path, capsys, civicbot_sandbox,
                                               civicbot_make_bot):
    cfg = write_config(tmp_path, cooldown="1h")
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply], state=tmp_path / "state.sqlite3",
                            config={"plugins": {"auto_reply": {"cooldown": "1h", "rules": [
                                {"keywords": ["horaires"], "reply": TOWN_HALL}]}}})
    bot.start()
    civicbot_sandbox.inject_mention("horaires ?", acct="habitante@ville.example")
    civicbot_sandbox.wait_for_statuses(1)
    bot.stop()
    assert ask(capsys, "horaires ?", "--config", str(cfg), "--from", "habitante@ville.example"
               )[1] == "no reply: cooldown\n"
    assert ask(capsys, "horaires ?", "--config", str(cfg), "--from", "autre@ville.example"
               )[1].endswith(TOWN_HALL + "\n")


def test_ask_without_an_auto_reply_section_is_a_config_error(tmp_path, capsys):
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text("mastodon:\n  api_base_url: sandbox\n")
    code, _, err = ask(capsys, "horaires ?", "--config", str(cfg))
    assert code == 2
    assert "no plugins.auto_reply section" in err
