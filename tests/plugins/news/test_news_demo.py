"""The news plugin's demo section (used by ``bench/footprint.py`` to configure every plugin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from news_support import poll, sent_texts

import civicbot_news
from civicbot.testing.webserver import FakeWebServer
from civicbot_news.demo import demo_section


def test_the_demo_section_posts_the_latest_news_without_procurement_notices(
        civicbot_make_bot: Any, civicbot_sandbox: Any, web: FakeWebServer,
        tmp_path: Path) -> None:
    section = demo_section(web, tmp_path)
    bot = civicbot_make_bot(plugins=[civicbot_news], config={
        "timezone": "Europe/Paris", "language": "fr", "plugins": {"news": section}})
    bot.start()
    poll(bot)
    texts = sent_texts(civicbot_sandbox)
    # backfill 3: the three newest items, of which one is a procurement notice (left out)
    assert [t.splitlines()[0] for t in texts] == [
        "📰 Patinoire éphémère : ouverture le 12 décembre",
        "📰 Collecte des sapins de Noël du 4 au 15 janvier"]
    assert all(text.startswith("📰 ") and "#Vendome" in text for text in texts)
    assert not any("appel public à la concurrence" in text for text in texts)
    assert web.requests_to("/demo/actus.xml")
