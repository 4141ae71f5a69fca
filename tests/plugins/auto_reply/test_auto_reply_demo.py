"""The demo section is valid and its questions get the expected kinds of answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auto_reply_support import text_of

import civicbot_auto_reply
from civicbot.testing.webserver import FakeWebServer
from civicbot_auto_reply.config import AutoReplyConfig
from civicbot_auto_reply.demo import DEMO_MENTIONS, demo_section, inject_demo_mentions


def test_demo_answers_every_resident_but_the_bot(civicbot_make_bot: Any,
                                                 civicbot_sandbox: Any,
                                                 tmp_path: Path) -> None:
    with FakeWebServer() as web:
        section = demo_section(web, tmp_path)
    AutoReplyConfig.model_validate(section)
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply],
                            config={"plugins": {"auto_reply": section}})
    bot.start()
    notifications = inject_demo_mentions(civicbot_sandbox)
    expected = [n for n, m in zip(notifications, DEMO_MENTIONS, strict=True) if not m.get("bot")]
    statuses = civicbot_sandbox.wait_for_statuses(len(expected))
    assert [s["in_reply_to_id"] for s in statuses] == [n["status"]["id"] for n in expected]
    assert text_of(statuses[0]).startswith("@camille Bonjour Camille 🌻 ! L'hôtel de ville")
    assert statuses[1]["language"] == "en"
    assert text_of(statuses[-1]).startswith("@comm État : en service")
    assert statuses[-1]["visibility"] == "direct"
