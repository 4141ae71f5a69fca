"""How long the news relay takes to read a 5,000-item feed (target: under a second).

Builds an RSS 2.0 feed of 5,000 items (French titles, categories, summaries with HTML), serves
it from a file, and times two reads through the plugin's job function: the first read (every
item remembered, nothing posted) and a second read with 3 new items (every item looked up among
those seen, 3 posts built). Wall and CPU time are printed: on a loaded machine the CPU time
is the figure to compare. Run: ``python bench/bench_news.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import civicbot_news
from civicbot import Bot, JobContext
from civicbot_news.poll import build_feed_posts
from civicbot_news.runtime import runtime_for


def feed(count: int, newest: int) -> bytes:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = []
    for n in range(newest, newest - count, -1):
        when = format_datetime(start + timedelta(hours=n))
        items.append(
            f"<item><title>Actualité n° {n} : travaux, fêtes &amp; marchés</title>"
            f"<link>https://www.ville-exemple.fr/actualites/{n}/?utm_source=rss</link>"
            f"<guid isPermaLink=\"false\">actu-{n}</guid><pubDate>{when}</pubDate>"
            f"<category>Vie municipale</category><category>Quartier {n % 12}</category>"
            f"<description><![CDATA[<p>Résumé de l&rsquo;actualité {n}, avec des "
            f"<strong>détails</strong> pour les habitants du quartier.</p>]]></description></item>")
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>"
            "<title>Ville</title><link>https://www.ville-exemple.fr/</link><description>x"
            "</description>" + "".join(items) + "</channel></rss>").encode()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feed.xml"
        path.write_bytes(feed(5000, 5000))
        config = {"timezone": "Europe/Paris", "plugins": {"news": {"feeds": [
            {"id": "actus", "url": str(path), "images": "none"}]}}}
        bot = Bot(plugins=[civicbot_news], config=config, state=Path(tmp) / "state.sqlite3")
        runtime = runtime_for(bot)
        assert runtime is not None
        feed_config = runtime.config.feeds[0]
        job = bot.jobs["actus"]
        now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
        print(f"feed: 5,000 items, {path.stat().st_size / 1e6:.1f} MB")
        for label, newest in (("first read (remember 5,000 items)", 5000),
                              ("next read (3 new items among 5,000)", 5003)):
            path.write_bytes(feed(5000, newest))
            ctx = JobContext(bot=bot, job=job, scheduled_time=now, now=now)
            began, cpu = time.perf_counter(), time.process_time()
            drafts = build_feed_posts(runtime, feed_config, ctx)
            elapsed, used = time.perf_counter() - began, time.process_time() - cpu
            print(f"{label}: {elapsed:.3f} s wall, {used:.3f} s CPU, {len(drafts)} posts built")
            now += timedelta(minutes=10)
        bot.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
