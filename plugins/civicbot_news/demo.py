"""A demo section of the news plugin (used by ``bench/footprint.py`` to configure every plugin).

The demo web server serves a sample of a town website's RSS feed (``demo_data/actus.xml``, the
synthetic feed of ``examples/news``); the relay reads it every minute and, on its first read
(``backfill: 3``), posts the news among the three latest items, leaving out the
public-procurement notices.
Images are not fetched (the sample's image addresses point at an example site).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civicbot.testing.webserver import FakeWebServer

DATA = Path(__file__).with_name("demo_data")
FEED_PATH = "/demo/actus.xml"


def demo_section(web: FakeWebServer, data_dir: Path) -> dict[str, Any]:
    """The ``news`` section: one feed on the demo web server."""
    web.add(FEED_PATH, (DATA / "actus.xml").read_text(encoding="utf-8"), "application/rss+xml")
    return {"feeds": [{
        "id": "actus",
        "url": f"{web.url}{FEED_PATH}",
        "every": "1m",
        "backfill": 3,
        "max_per_run": 3,
        "hashtags": ["Vendome"],
        "images": "none",
        "filters": {"exclude_categories": ["Marchés publics"]},
    }]}
