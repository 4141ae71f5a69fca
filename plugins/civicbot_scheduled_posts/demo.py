"""``civicbot demo`` section: a small content calendar that posts within seconds.

What the demo shows (no job needs to be run by hand):

* ``demo-bienvenue`` (config, ``at`` = start + 3 s): a post with an image and its alt text;
* ``visite-chateau`` (a Markdown file in ``posts_dir``, start + 8 s): a post and its thread;
* ``demo-rappel`` (config, ``every: 10s``): a recurring reminder with the time in French;
* ``demo-voeux`` (config, ``native: true``, start + 1 h): scheduled on the sandbox's own
  scheduled statuses at start, never posted during the demo.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civicbot.testing.webserver import FakeWebServer

DEMO_DATA = Path(__file__).parent / "demo_data"
IMAGE = "affiche-fete-musique.png"


def demo_section(web: FakeWebServer, data_dir: Path) -> dict[str, Any]:
    """Write the demo's post file and image into ``data_dir``; return the config section."""
    start = datetime.now(UTC).replace(microsecond=0)
    posts_dir = data_dir / "scheduled_posts" / "posts"
    posts_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEMO_DATA / IMAGE, posts_dir / IMAGE)
    template = (DEMO_DATA / "visite-chateau.md").read_text(encoding="utf-8")
    (posts_dir / "visite-chateau.md").write_text(
        template.replace("{at}", (start + timedelta(seconds=8)).isoformat()), encoding="utf-8")
    return {
        "misfire_grace": "1h",
        "posts_dir": str(posts_dir),
        "reload_interval": "5s",
        "vars": {"site": "https://www.blois.fr"},
        "posts": [
            {
                "id": "demo-bienvenue",
                "at": (start + timedelta(seconds=3)).isoformat(),
                "text": "Bienvenue sur le compte de la Ville ! Nous sommes le {{ date }} : "
                        "retrouvez ici les horaires, l'agenda et les alertes. {{ site }}",
                "media": [{"path": str(posts_dir / IMAGE),
                           "description": "Affiche de la Fête de la musique, une guitare "
                                          "sombre sur fond orange"}],
            },
            {
                "id": "demo-rappel",
                "every": "10s",
                "start": (start + timedelta(seconds=5)).isoformat(),
                "visibility": "unlisted",
                "text": "Rappel de {{ time }} : la médiathèque est ouverte jusqu'à 19 h.",
            },
            {
                "id": "demo-voeux",
                "at": (start + timedelta(hours=1)).isoformat(),
                "native": True,
                "text": "Ce message est programmé sur le serveur Mastodon lui-même.",
            },
        ],
    }
