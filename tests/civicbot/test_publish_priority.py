"""Issue 13, item 4: alerts before scheduled posts before replies, and a rate budget kept back
for alerts, so that a storm of mentions never delays a weather warning."""

from __future__ import annotations

import threading
import time
from typing import Any

import civicbot_auto_reply
from civicbot import PostDraft, html_to_text
from civicbot.publish_priority import PRIORITIES, PriorityLock
from civicbot.testing import SandboxInstance


def test_the_lock_goes_to_the_most_urgent_waiter() -> None:
    lock = PriorityLock()
    order: list[str] = []
    release = threading.Event()

    def holder() -> None:
        with lock.hold(PRIORITIES["reply"]):
            release.wait(5)

    def waiter(name: str) -> None:
        with lock.hold(PRIORITIES[name]):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    while lock.holder_rank is None:
        time.sleep(0.001)
    threads = []
    for name in ("reply", "scheduled", "reply", "alert"):
        thread = threading.Thread(target=waiter, args=(name,))
        thread.start()
        threads.append(thread)
        while len(lock._waiting) < len(threads):
            time.sleep(0.001)
    release.set()
    for thread in (first, *threads):
        thread.join(5)
    assert order == ["alert", "scheduled", "reply", "reply"]


def test_an_alert_goes_out_within_5_s_during_a_reply_storm(civicbot_make_bot: Any) -> None:
    """The issue's storm, scaled down: a budget of 60 requests per 5 minutes (enforced by the
    sandbox, 429 beyond), 150 mentions from 50 accounts; the alert comes in the middle."""
    with SandboxInstance(heartbeat_interval=0.2, rate_limit=60, rate_limit_window=300,
                         enforce_rate_limit=True) as sandbox:
        bot = civicbot_make_bot(sandbox=sandbox, plugins=[civicbot_auto_reply], config={
            "plugins": {"auto_reply": {"cooldown": "0s", "max_replies_per_thread": None,
                                       "fallback": "Merci pour votre message !"}}})
        bot.start()
        assert bot.stream is not None and bot.stream.wait_state({"connected"})
        mentions: list[dict[str, Any]] = []

        def storm() -> None:
            for i in range(150):
                mentions.append(sandbox.inject_mention(f"question {i}",
                                                       acct=f"r{i % 50}@ville.example"))
                time.sleep(0.01)

        storming = threading.Thread(target=storm)
        storming.start()
        # the alert is detected once the replies have used the budget up (the instance
        # answered 429) or down to what is kept for alerts
        while not (bot.events["publisher.delayed_for_alerts"]
                   or any(r.status == 429 for r in list(sandbox.requests))):
            assert storming.is_alive(), "the storm ended before the budget ran low"
            time.sleep(0.01)
        detected = time.monotonic()
        results: list[Any] = []
        alert = threading.Thread(target=lambda: results.extend(bot.publish(PostDraft(
            text="Vigilance orange orages", dedup_key="alert:orages", spoiler_text="Alerte météo",
            priority="alert"))))
        alert.start()
        alert.join(5.0)
        posted_after = time.monotonic() - detected
        assert results and results[0].status_id is not None, "the alert waited for the storm"
        assert posted_after < 5.0
        assert storming.is_alive() or len(mentions) == 150
        storming.join(30)
        assert bot.stream.dispatcher.wait_idle(30)
        # nothing lost: every mention is answered, or its reply waits pending for the budget
        store = bot.state.store
        for mention in mentions:
            record = bot.state.post(f"auto_reply:{mention['status']['id']}")
            assert record is not None and record.state in ("sent", "pending")
        assert store.count_posts(bot.name, "pending") > 0
        assert bot.events["publisher.delayed_for_alerts"] > 0
        assert any(html_to_text(s["content"]) == "Vigilance orange orages"
                   for s in sandbox.statuses)
