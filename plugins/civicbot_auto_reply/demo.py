"""``civicbot demo`` support: a town-hall FAQ, and residents' questions to ask it.

The plugin has no job: it only answers mentions. ``demo_section`` returns its config section;
the demo runner then calls :func:`inject_demo_mentions` with the sandbox once the bot has
started (or injects :data:`DEMO_MENTIONS` itself, each as ``sandbox.inject_mention(**m)``).
Expected replies: the opening hours (French, then English), the civil-status link, the
thanks for a report quoting the resident, the list of commands ("aide"), nothing for the bot
account, the fallback, and the admin's "statut" (sent privately).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civicbot.testing.sandbox import SandboxInstance
    from civicbot.testing.webserver import FakeWebServer

#: The demo sandbox's own domain: "comm" is a local account there.
ADMIN = "comm@sandbox.example"

DEMO_MENTIONS: list[dict[str, Any]] = [
    {"text": "Bonjour ! Quels sont les horaires de la mairie samedi ?",
     "acct": "camille@piaille.example", "display_name": "Camille 🌻"},
    {"text": "Hi! What are the town hall's opening hours?", "acct": "emma@mastodon.example",
     "display_name": "Emma", "language": "en"},
    {"text": "Comment obtenir un acte de naissance ?", "acct": "lucas@framapiaf.example",
     "display_name": "Lucas"},
    {"text": "Je voudrais signaler un lampadaire éteint rue Denis-Papin",
     "acct": "ines@mamot.example", "display_name": "Inès"},
    {"text": "aide", "acct": "jules@piaille.example", "display_name": "Jules"},
    {"text": "horaires", "acct": "relay@bots.example", "display_name": "Relay bot",
     "bot": True},
    {"text": "Merci pour le feu d'artifice d'hier soir !", "acct": "nora@piaille.example",
     "display_name": "Nora", "visibility": "unlisted"},
    {"text": "statut", "acct": "comm", "display_name": "Service communication"},
]


def demo_section(web: FakeWebServer, data_dir: Path) -> dict[str, Any]:
    """The ``plugins.auto_reply`` section of the demo (no remote data, no file)."""
    return {
        "admins": [ADMIN],
        "cooldown": "0s",
        "max_replies_per_thread": 3,
        "fallback": {
            "fr": "Merci pour votre message, {{ sender }} ! Écrivez « aide » pour voir ce "
                  "que je sais faire.",
            "en": "Thank you for your message, {{ sender }}! Write “help” to see what I can do.",
        },
        "rules": [
            {"keywords": ["horaires", "horaire", "ouverture", "opening hours"],
             "help": "« horaires » : quand la mairie est ouverte",
             "reply": {
                 "fr": "Bonjour {{ sender }} ! L'hôtel de ville est ouvert du lundi au "
                       "vendredi de 8h30 à 17h, le samedi de 9h à 12h (état civil seulement).",
                 "en": "Hello {{ sender }}! The town hall is open Monday to Friday "
                       "8:30am–5pm, Saturday 9am–12pm (civil status only).",
             }},
            {"regex": "(?i)[ée]tat[- ]civil|acte de (naissance|mariage|d[ée]c[èe]s)",
             "help": "« état civil » : actes, passeports, cartes d'identité",
             "reply": "Actes de naissance, de mariage ou de décès : demande en ligne sur "
                      "https://mairie.example/etat-civil"},
            {"regex": r"(?i)signaler\s+(.{3,60})",
             "help": "« signaler … » : un problème dans l'espace public",
             "reply": "Merci {{ sender }} ! Nous transmettons « {{ groups[0] }} » aux "
                      "services techniques. Suivi : https://mairie.example/signalement"},
        ],
    }


def inject_demo_mentions(sandbox: SandboxInstance) -> list[dict[str, Any]]:
    """Ask the demo questions; returns the notifications."""
    return [sandbox.inject_mention(**mention) for mention in DEMO_MENTIONS]
