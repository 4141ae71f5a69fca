"""Matching, sanitising, admin detection and config validation, without a Mastodon instance."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from civicbot import Command, mastodon_length
from civicbot_auto_reply.config import AutoReplyConfig
from civicbot_auto_reply.etiquette import is_admin, opted_out
from civicbot_auto_reply.matching import KeywordMatcher, RegexMatcher, match_command
from civicbot_auto_reply.sanitize import mention_text, plain, truncate
from civicbot_auto_reply.texts import FALLBACK

ROOT = Path(__file__).resolve().parents[3]


def _cmd(*names: str, admin_only: bool = False) -> Command:
    return Command(names=names, help="…", handler=lambda ctx: None, admin_only=admin_only)


@pytest.mark.parametrize("text", ["Horaires ?", "horaire", "HORAIRES de la mairie",
                                  "les hôraires", "Quelle est l'OUVERTURE ?"])
def test_keywords_ignore_case_and_accents(text: str) -> None:
    matcher = KeywordMatcher(["horaires", "horaire", "ouverture"])
    assert matcher.search(text) is not None


@pytest.mark.parametrize("text", ["horairesque", "lhoraires", "ouvertures", "heures"])
def test_keywords_are_whole_words(text: str) -> None:
    assert KeywordMatcher(["horaires", "horaire", "ouverture"]).search(text) is None


def test_keyword_match_gives_the_words_as_written() -> None:
    found = KeywordMatcher(["état civil"]).search("Bonjour, l'ÉTAT-CIVIL est ouvert ?")
    assert found is not None
    assert found.match == "ÉTAT-CIVIL"


def test_regex_groups_are_plain_and_capped() -> None:
    found = RegexMatcher(r"(?i)signaler (.+)").search(
        "Signaler un nid-de-poule @voisin@ailleurs.example #urgent " + "x" * 200)
    assert found is not None
    # the mention of a third party and the hashtag marker are gone, the length is capped
    assert found.groups[0] == "un nid-de-poule urgent " + "x" * 36 + "…"
    assert len(found.groups[0]) == 60


def test_commands_match_at_the_start_longest_name_first() -> None:
    agenda, weekend, meteo = _cmd("agenda"), _cmd("ce week-end"), _cmd("météo", "meteo")
    commands = [agenda, weekend, meteo, _cmd("ce")]
    found = match_command("Agenda de la semaine ?", commands)
    assert found is not None and found.command is agenda
    assert found.args == "de la semaine"
    found = match_command("« Ce WEEK END » à Blois", commands)
    assert found is not None and found.command is weekend and found.args == "à Blois"
    found = match_command("METEO", commands)
    assert found is not None and found.command is meteo and found.args == ""
    assert match_command("agendas", commands) is None
    assert match_command("quel agenda ?", commands) is None


def test_mention_text_drops_mentions_links_and_html() -> None:
    html = ('<p><span class="h-card"><a href="https://x.example/@ville" class="u-url mention">'
            '@<span>ville</span></a></span> agenda <a href="https://spam.example/x" '
            'rel="nofollow"><span class="invisible">https://</span>spam.example/x</a></p>'
            '<p>&lt;b&gt;merci&lt;/b&gt; @ville@x.example</p>')
    assert mention_text(html) == "agenda\n<b>merci</b>"
    assert len(mention_text("<p>" + "a " * 5000 + "</p>")) == 1000
    # snac writes local names with the host and port, in plain text too
    assert mention_text("<p>@ville@127.0.0.1:8080 agenda</p>") == "agenda"


def test_plain_values_cannot_mention_link_or_tag() -> None:
    value = plain("<img src=x onerror=alert(1)>Zoé @mallory@evil.example #spam "
                  "https://evil.example/x <b>gras</b>", 40)
    assert value == "Zoé spam gras"
    assert truncate("un deux trois quatre", 12) == "un deux…"
    assert len(truncate("x" * 50, 10)) == 10


def test_opt_out_tags_in_note_name_and_fields() -> None:
    note = ('<p>Compte perso <a href="https://x.example/tags/NoBot" class="mention hashtag" '
            'rel="tag">#<span>NoBot</span></a></p>')
    assert opted_out({"note": note})
    assert opted_out({"display_name": "Léa #NOREPLY"})
    assert opted_out({"fields": [{"name": "bots", "value": "#nobot"}]})
    assert not opted_out({"display_name": "Léa", "note": "<p>#nobotanique</p>"})


def test_admins_compare_case_insensitively_and_local_accounts() -> None:
    admins = ["Comm@Mastodon.Example", "maire"]
    local = {"mastodon.example"}
    assert is_admin("comm@mastodon.example", admins, local)
    assert is_admin("COMM", admins, local)  # local account, no domain in its acct
    assert is_admin("maire", admins, local)
    assert is_admin("maire@mastodon.example", admins, local)
    assert not is_admin("comm@evil.example", admins, local)
    assert not is_admin("maire@evil.example", admins, local)
    assert not is_admin("comm", admins, {"other.example"})


def test_config_defaults() -> None:
    config = AutoReplyConfig()
    assert config.cooldown == timedelta(minutes=2)
    assert config.max_replies_per_thread == 3
    assert config.fallback == FALLBACK
    assert AutoReplyConfig.model_validate({"fallback": None, "cooldown": "0s"}).cooldown == (
        timedelta(0))


@pytest.mark.parametrize(("section", "message"), [
    ({"rules": [{"reply": "x"}]}, "either 'keywords'"),
    ({"rules": [{"keywords": ["a"], "regex": "a", "reply": "x"}]}, "either 'keywords'"),
    ({"rules": [{"regex": "(", "reply": "x"}]}, "invalid regular expression"),
    ({"rules": [{"keywords": ["a"], "reply": "{{ sender"}]}, "invalid reply template"),
    ({"rules": [{"keywords": ["a"], "reply": "{{ nom }}"}]}, "'nom' is undefined"),
    ({"rules": [{"regex": "(a)", "reply": "{{ groups[1] }}"}]}, "invalid reply template"),
    ({"rules": [{"keywords": ["a"], "reply": "x" * 450}]}, "keep it under 400"),
    ({"rules": [{"keywords": ["a"], "reply": {"français": "x"}}]}, "not a language code"),
    ({"rules": [{"keywords": ["!!"], "reply": "x"}]}, "no letter nor digit"),
    ({"rules": [{"keywords": ["a"], "reply": "{{ ''.__class__ }}"}]}, "invalid reply"),
    ({"admins": ["https://mastodon.example/@comm"]}, "is not an account"),
    ({"cooldown": "-1m"}, "cooldown"),
    ({"max_replies_per_thread": 0}, "greater than or equal to 1"),
    ({"fallback": "{% if %}"}, "invalid reply template"),
])
def test_config_errors_are_clear(section: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        AutoReplyConfig.model_validate(section)


def _example_block() -> dict[str, object]:
    text = (ROOT / "config.example.yaml").read_text(encoding="utf-8")
    block = text.split("  # >>> auto_reply\n", 1)[1].split("  # <<< auto_reply", 1)[0]
    loaded = yaml.safe_load("plugins:\n" + block)
    assert isinstance(loaded, dict)
    section = loaded["plugins"]["auto_reply"]
    assert isinstance(section, dict)
    return section


def test_config_example_is_a_french_town_hall_faq() -> None:
    config = AutoReplyConfig.model_validate(_example_block())
    topics = {"horaires": "Quels sont les horaires de la mairie ?",
              "état civil": "Comment faire un acte d'état civil ?",
              "signaler": "Je voudrais signaler un lampadaire en panne rue Denis-Papin",
              "agenda": "Quel est l'agenda du week-end ?",
              "météo": "Quel temps fera-t-il demain ?"}
    for topic, question in topics.items():
        matching = [r for r in config.rules
                    if (r.regex and re.search(r.regex, question))
                    or (r.keywords and KeywordMatcher(r.keywords).search(question))]
        assert matching, f"no rule of config.example.yaml answers the {topic} question"
    assert config.admins and config.fallback is not None
    for rule in config.rules:
        replies = rule.reply.values() if isinstance(rule.reply, dict) else [rule.reply]
        assert all(mastodon_length(reply) < 400 for reply in replies)


DOCS = ["docs/plugins/auto_reply.md", "docs/guides/fr/auto_reply.md",
        "docs/guides/en/auto_reply.md"]


@pytest.mark.parametrize("doc", DOCS)
def test_yaml_examples_of_the_docs_validate(doc: str) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / doc).read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        section = yaml.safe_load(block)["plugins"]["auto_reply"]
        config = AutoReplyConfig.model_validate(section)
        assert config.rules
