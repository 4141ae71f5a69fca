"""Who is never answered, and how often the others are: no bot war, no loop, no double reply.

Absence is proven with a later "control" mention that is answered: mentions are handled in
order, so once the control's reply is there, the earlier mentions were handled (silently).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auto_reply_support import CIVIL, faq, text_of

import civicbot_auto_reply
from civicbot.testing import every_server

PARIS = ZoneInfo("Europe/Paris")
HOURS_FR = "Bonjour {} ! La mairie est ouverte du lundi au vendredi, 8h30–17h."


@pytest.fixture
def start(civicbot_make_bot: Any) -> Any:
    def make(config: dict[str, Any] | None = None) -> Any:
        bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config=config or faq())
        bot.start()
        return bot
    return make


@every_server  # snac writes the bot's own name ville@host:port
def test_bots_nobot_profiles_and_itself_are_never_answered(civicbot_sandbox: Any,
                                                           start: Any) -> None:
    start()
    nobot_note = ('<p>Pas de robots ici <a href="https://x.example/tags/nobot" '
                  'class="mention hashtag" rel="tag">#<span>NoBot</span></a></p>')
    civicbot_sandbox.inject_mention("horaires", acct="meteo_bot@bots.example", bot=True)
    civicbot_sandbox.inject_mention("horaires", acct="lea@x.example", note=nobot_note)
    civicbot_sandbox.inject_mention("horaires", acct="max@x.example",
                                    display_name="Max #NoReply")
    civicbot_sandbox.inject_mention("horaires", acct="ville")  # the bot's own account
    control = civicbot_sandbox.inject_mention("horaires", acct="ana@x.example",
                                              display_name="Ana")
    [status] = civicbot_sandbox.wait_for_statuses(1)
    assert status["in_reply_to_id"] == control["status"]["id"]
    assert text_of(status) == "@ana " + HOURS_FR.format("Ana")


def test_allow_listed_bots_are_answered(civicbot_sandbox: Any, start: Any) -> None:
    start(faq(allow_bots=["Relais@Bots.example"]))
    civicbot_sandbox.inject_mention("état civil", acct="relais@bots.example", bot=True)
    [status] = civicbot_sandbox.wait_for_statuses(1)
    assert text_of(status) == f"@relais {CIVIL}"


def test_cooldown_per_account(civicbot_sandbox: Any, start: Any) -> None:
    t0 = datetime(2025, 3, 10, 9, 0, tzinfo=PARIS)
    with time_machine.travel(t0, tick=False) as clock:
        start(faq(cooldown="2m"))
        first = civicbot_sandbox.inject_mention("horaires", created_at=t0)
        civicbot_sandbox.wait_for_statuses(1)
        clock.move_to(t0 + timedelta(seconds=90))
        civicbot_sandbox.inject_mention("état civil ?", created_at=t0 + timedelta(seconds=90))
        control = civicbot_sandbox.inject_mention("état civil", acct="bob@x.example",
                                                  created_at=t0 + timedelta(seconds=90))
        statuses = civicbot_sandbox.wait_for_statuses(2)
        assert len(statuses) == 2
        assert statuses[1]["in_reply_to_id"] == control["status"]["id"]
        clock.move_to(t0 + timedelta(minutes=2, seconds=1))
        again = civicbot_sandbox.inject_mention("état civil ?",
                                                created_at=t0 + timedelta(minutes=2, seconds=1))
        statuses = civicbot_sandbox.wait_for_statuses(3)
    assert [s["in_reply_to_id"] for s in statuses] == [
        first["status"]["id"], control["status"]["id"], again["status"]["id"]]
    assert text_of(statuses[2]) == f"@alice {CIVIL}"


def test_cap_of_replies_per_conversation(civicbot_sandbox: Any, start: Any) -> None:
    start(faq(max_replies_per_thread=3))
    parent = None
    for n in range(1, 4):
        civicbot_sandbox.inject_mention("horaires ?", in_reply_to_id=parent)
        parent = civicbot_sandbox.wait_for_statuses(n)[-1]["id"]
    # the fourth question in the same conversation (replying to the bot's 3rd answer)
    civicbot_sandbox.inject_mention("horaires ?", in_reply_to_id=parent)
    control = civicbot_sandbox.inject_mention("horaires ?", acct="bob@x.example")
    statuses = civicbot_sandbox.wait_for_statuses(4)
    assert len(statuses) == 4
    assert statuses[3]["in_reply_to_id"] == control["status"]["id"]


def test_conversations_follow_conversation_id_then_the_reply_chain(
        civicbot_make_bot: Any) -> None:
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config=faq(max_replies_per_thread=2))
    responder = civicbot_auto_reply.responder_for(bot)
    assert responder is not None
    limits = responder.limits
    a = {"id": "10", "conversation_id": "7", "in_reply_to_id": None}
    b = {"id": "20", "conversation_id": "7", "in_reply_to_id": "999"}
    assert limits.conversation(a) == limits.conversation(b) == "c7"
    limits.record("alice@x.example", a, "c7", ["11"], bot.now())
    assert not limits.thread_full("c7")
    limits.record("bob@x.example", b, "c7", ["21"], bot.now())
    assert limits.thread_full("c7")
    # no conversation_id: answering the bot's reply 11 is still a's conversation
    assert limits.conversation({"id": "30", "in_reply_to_id": "11"}) == "c7"
    # an unknown parent starts a conversation of its own
    assert limits.conversation({"id": "31", "in_reply_to_id": "500"}) == "s500"
    assert limits.conversation({"id": "32", "in_reply_to_id": None}) == "s32"


def test_edited_mention_is_not_answered_twice(civicbot_make_bot: Any,
                                              civicbot_sandbox: Any) -> None:
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config=faq())
    bot.start()
    notification = civicbot_sandbox.inject_mention("horaires ?")
    civicbot_sandbox.wait_for_statuses(1)
    edited = civicbot_sandbox.edit_status(notification["status"]["id"], "état civil ?")
    # the edited mention is delivered again (as after a crash, or a new notification)
    again = dict(notification, id=str(int(notification["id"]) + 1), status=edited)
    assert bot.stream.dispatcher.submit(again)
    control = civicbot_sandbox.inject_mention("état civil ?", acct="bob@x.example")
    statuses = civicbot_sandbox.wait_for_statuses(2)
    assert len(statuses) == 2
    assert statuses[1]["in_reply_to_id"] == control["status"]["id"]
    assert text_of(statuses[0]) == "@alice " + HOURS_FR.format("Alice")
