"""Issue 13: one resident's mention must never hold the daemon (catastrophic regular
expressions, 100,000-character mentions), over real HTTP against the sandbox."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from ops_support import http_get, make_daemon, wait_until, write_config

import civicbot_auto_reply
import civicbot_auto_reply.config as auto_reply_config
from civicbot import html_to_text
from civicbot.testing import SandboxInstance

HOURS = "La mairie est ouverte de 8h30 à 17h."
#: One of the issue's patterns; the config check refuses it, these tests switch the check off
#: to show that the time limit holds on its own (a pattern the analysis would not recognise).
EVIL = r"(a|a)+$"
ATTACK = "a" * 60 + "!"


def _config(tmp_path: Path, sandbox: SandboxInstance, regex: str) -> Path:
    return write_config(tmp_path / "cfg.yaml", single=sandbox, http="127.0.0.1:0", plugins={
        "auto_reply": {"cooldown": "0s", "fallback": None, "rules": [
            {"regex": regex, "reply": "Vous avez écrit une phrase."},
            {"keywords": ["horaires"], "reply": HOURS},
        ]}})


def _replies(sandbox: SandboxInstance) -> list[str]:
    return [html_to_text(s["content"]) for s in list(sandbox.statuses)
            if s.get("in_reply_to_id")]


@pytest.fixture
def no_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auto_reply_config, "check_regex_safety", lambda source: None)


def test_a_catastrophic_regex_does_not_hold_the_dispatcher(
        tmp_path: Path, no_analysis: None) -> None:
    with SandboxInstance(heartbeat_interval=0.2) as sandbox:
        daemon = make_daemon(_config(tmp_path, sandbox, EVIL), [civicbot_auto_reply])
        daemon.start()
        try:
            assert daemon.wait_ready(10)
            bot = daemon.bots[0]
            health: list[tuple[int, float]] = []
            done = threading.Event()

            def probe() -> None:
                while not done.is_set():
                    started = time.monotonic()
                    status = http_get(f"{daemon.http.url}/healthz")[0]
                    health.append((status, time.monotonic() - started))
                    time.sleep(0.05)

            prober = threading.Thread(target=probe, daemon=True)
            prober.start()
            attack = sandbox.inject_mention(ATTACK, acct="troll@ailleurs.example")
            sandbox.inject_mention("Vos horaires ?", acct="habitante@ville.example")
            # the resident behind the attack is answered: the dispatcher moved on
            wait_until(lambda: any(HOURS in r for r in _replies(sandbox)), timeout=15,
                       what="the answer to the resident after the attack")
            done.set()
            prober.join(5)
            assert bot.events["auto_reply.mention_too_slow"] == 1
            assert not any("phrase" in r for r in _replies(sandbox))
            assert health and all(status == 200 for status, _ in health)
            # recorded as handled: the next start's catch-up does not replay it
            store = bot.state.store
            assert store.notification_seen(bot.name, str(attack["id"]))
            metrics = http_get(f"{daemon.http.url}/metrics")[1]
            assert ('civicbot_events_total{account="default",event="auto_reply.mention_too_slow"}'
                    ' 1.0') in metrics
        finally:
            daemon.stop()


def test_a_100000_character_mention_is_cut_before_any_work(
        civicbot_sandbox: Any, civicbot_make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import civicbot_auto_reply.sanitize as sanitize

    seen: list[int] = []
    real = sanitize.html_to_text

    def spy(html: str, *args: Any, **kwargs: Any) -> str:
        seen.append(len(html))
        return real(html, *args, **kwargs)

    monkeypatch.setattr(sanitize, "html_to_text", spy)
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config={"plugins": {"auto_reply": {
        "cooldown": "0s", "fallback": "Merci !",
        "rules": [{"regex": r"(?i)signaler\s+(.{3,60})", "reply": "Signalé : {{ groups[0] }}"}],
    }}})
    bot.start()
    civicbot_sandbox.inject_mention("a." * 50_000, acct="long@ailleurs.example")
    civicbot_sandbox.inject_mention("signaler un trou", acct="court@ville.example")
    first, second = civicbot_sandbox.wait_for_statuses(2, timeout=20)
    assert html_to_text(first["content"]) == "@long@ailleurs.example Merci !" or \
        html_to_text(first["content"]).endswith("Merci !")
    assert html_to_text(second["content"]).endswith("Signalé : un trou")
    assert seen and max(seen) <= sanitize.MAX_HTML


def test_fullwidth_at_mentions_are_not_echoed(civicbot_sandbox: Any,
                                             civicbot_make_bot: Any) -> None:
    bot = civicbot_make_bot(plugins=[civicbot_auto_reply], config={"plugins": {"auto_reply": {
        "cooldown": "0s", "fallback": None,
        "rules": [{"regex": r"(?i)signaler\s+(.{3,60})", "reply": "{{ sender }} : {{ groups[0] }}"}],
    }}})
    bot.start()
    civicbot_sandbox.inject_mention("signaler ＠maire＠ville.example la fuite",
                                    acct="r@ville.example", display_name="Léa ＠adjoint")
    (status,) = civicbot_sandbox.wait_for_statuses(1)
    text = html_to_text(status["content"])
    assert "＠" not in text and "maire" not in text and "adjoint" not in text
    assert text.endswith("Léa : la fuite")
    assert [m["acct"] for m in status["mentions"]] == ["r@ville.example"]
