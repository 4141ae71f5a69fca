"""Issue 13: a bot without the bot flag that opens a new thread each time is not answered
for ever: a cap of replies per account across threads."""

from __future__ import annotations

import time
from typing import Any

import civicbot_auto_reply
from civicbot_auto_reply.etiquette import LOOP_MAX_REPLIES


def test_replies_to_one_account_across_threads_are_capped(civicbot_sandbox: Any,
                                                         civicbot_make_bot: Any) -> None:
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config={"plugins": {"auto_reply": {
        "cooldown": "0s", "fallback": "Merci pour votre message !"}}})
    bot.start()
    for i in range(LOOP_MAX_REPLIES + 4):  # every one a new thread
        civicbot_sandbox.inject_mention(f"Bonjour, message automatique {i}",
                                        acct="robot@ailleurs.example")
    civicbot_sandbox.inject_mention("Bonjour !", acct="habitant@ville.example")
    civicbot_sandbox.wait_for_statuses(LOOP_MAX_REPLIES + 1, timeout=20)
    deadline = time.monotonic() + 20
    while bot.stream.dispatcher.handled < LOOP_MAX_REPLIES + 5:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    replies = [s for s in civicbot_sandbox.statuses if s.get("in_reply_to_id")]
    to_robot = [s for s in replies if s["mentions"][0]["acct"] == "robot@ailleurs.example"]
    assert len(to_robot) == LOOP_MAX_REPLIES
    assert any(s["mentions"][0]["acct"] == "habitant@ville.example" for s in replies)
    assert bot.events["auto_reply.loop_suspected"] == 4
