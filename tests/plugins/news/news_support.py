"""Feeds, a web server and bots shared by the news tests (not a test module)."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from civicbot import Bot, html_to_text

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "news"
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" + b"\xc8\x1e\x28" * 2) * 1)
            + chunk(b"IEND", b""))


def fixture(name: str, image_base: str = "") -> bytes:
    return (FIXTURES / name).read_text(encoding="utf-8").replace("IMAGE_BASE", image_base) \
        .encode("utf-8")


def rss(items: list[dict[str, Any]]) -> bytes:
    """An RSS 2.0 document; each item: n (number), and optional title, guid, link, date."""
    parts = []
    for item in items:
        n = item["n"]
        when = item.get("date") or (datetime(2026, 12, 1, 8, 0, tzinfo=UTC) + timedelta(hours=n))
        guid = item.get("guid", f"actu-{n}")
        link = item.get("link", f"https://www.vendome-exemple.fr/actualites/{n}/")
        parts.append(
            "<item>"
            f"<title>{escape(item.get('title', f'Actualité n° {n}'))}</title>"
            f"<link>{escape(link)}</link>"
            + (f"<guid isPermaLink=\"false\">{escape(guid)}</guid>" if guid else "")
            + f"<pubDate>{format_datetime(when)}</pubDate>"
            + f"<description>{escape(item.get('summary', f'Résumé de l’actualité {n}.'))}"
              "</description>"
            + "".join(f"<category>{escape(c)}</category>" for c in item.get("categories", []))
            + "</item>")
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>"
            "<title>Ville</title><link>https://www.vendome-exemple.fr/</link>"
            "<description>Actualités</description>" + "".join(parts)
            + "</channel></rss>").encode("utf-8")


def news_config(url: str, **feed: Any) -> dict[str, Any]:
    return {"timezone": "Europe/Paris", "language": "fr",
            "plugins": {"news": {"feeds": [{"id": "actus", "url": url, **feed}]}}}


def sent(sandbox: Any) -> list[dict[str, Any]]:
    return [r.body for r in sandbox.requests
            if r.method == "POST" and r.path == "/api/v1/statuses" and r.status == 200]


def sent_texts(sandbox: Any) -> list[str]:
    return [html_to_text(str(b["status"])) for b in sent(sandbox)]


def poll(bot: Bot, job_id: str = "actus", at: datetime | None = None) -> None:
    bot.scheduler.run(bot.jobs[job_id], at or NOW)


def last_outcome(bot: Bot, job_id: str = "actus") -> str | None:
    run = bot.state.store.get_job_run(bot.name, job_id)
    return run[1] if run else None
