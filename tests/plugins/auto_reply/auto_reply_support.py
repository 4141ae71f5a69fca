"""Shared bits of the auto_reply tests: a town-hall FAQ config and helpers to read replies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from civicbot import Command, hookimpl, html_to_text

HOURS = "Bonjour {{ sender }} ! La mairie est ouverte du lundi au vendredi, 8h30–17h."
HOURS_EN = "Hello {{ sender }}! The town hall is open Monday to Friday, 8:30am–5pm."
CIVIL = "Les démarches d'état civil : https://example.org/etat-civil"
REPORT = "Merci {{ sender }}, nous transmettons « {{ groups[0] }} » au service concerné."
FALLBACK = "Merci pour votre message ! Écrivez « aide » pour voir ce que je sais faire."


def faq(**extra: Any) -> dict[str, Any]:
    """The ``config`` argument of civicbot_make_bot with a small town-hall FAQ."""
    section: dict[str, Any] = {
        "admins": ["comm@sandbox.example"],
        "cooldown": "0s",
        "fallback": FALLBACK,
        "rules": [
            {"keywords": ["horaires", "horaire", "ouverture"],
             "reply": {"fr": HOURS, "en": HOURS_EN},
             "help": "« horaires » : les horaires de la mairie"},
            {"regex": "(?i)[ée]tat[- ]civil", "reply": CIVIL},
            {"regex": r"(?i)signaler (.+)", "reply": REPORT},
        ],
    }
    section.update(extra)
    return {"plugins": {"auto_reply": section}}


def text_of(status: dict[str, Any]) -> str:
    """The plain text of a posted status."""
    return html_to_text(status["content"])


def mentioned(status: dict[str, Any]) -> list[str]:
    return [m["acct"] for m in status["mentions"]]


def posted_texts(sandbox: Any) -> list[str]:
    """The raw ``status`` texts the bot sent (as on the wire)."""
    return [r.body["status"] for r in sandbox.requests
            if r.method == "POST" and r.path == "/api/v1/statuses" and r.status == 200]


class CommandPlugin:
    """A small inline plugin registering commands, as another plugin would."""

    def __init__(self, *commands: Command) -> None:
        self.commands = commands

    @hookimpl
    def civicbot_register_commands(self, register: Callable[[Command], None]) -> None:
        for command in self.commands:
            register(command)
