"""civicbot plugin ``news``: the website's news (RSS, Atom, JSON Feed) posted as it appears.

Each feed is a job (its ``id``) that reads the feed every ``every``: items never seen are posted
once (at most ``max_per_run`` per read, oldest first), known by their guid and their normalised
link, so that an edited item or a rebuilt feed is not posted again; the first read of a feed
only remembers its items (``backfill`` newest ones excepted); a feed that fails, is empty or
suddenly much shorter changes nothing. See docs/plugins/news.md.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from civicbot import Bot, Job, JobContext, PostDraft, every, hookimpl
from civicbot_news.config import FAST_POLL, FeedConfig, NewsConfig
from civicbot_news.runtime import NAME, Runtime, drop_runtime, runtime_for

__all__ = ["NewsConfig", "civicbot_config_schema", "civicbot_register_jobs",
           "civicbot_shutdown"]


@hookimpl
def civicbot_config_schema(register: Callable[[str, type[BaseModel]], None]) -> None:
    register(NAME, NewsConfig)


def _feed_job(runtime: Runtime, feed: FeedConfig) -> Job:
    def build(ctx: JobContext) -> list[PostDraft]:
        from civicbot_news.poll import build_feed_posts

        return build_feed_posts(runtime, feed, ctx)

    return Job(id=feed.id, schedule=every(feed.every), func=build,
               description=f"news feed {feed.url.split('?', 1)[0]}")


@hookimpl
def civicbot_register_jobs(register: Callable[[Job], None], bot: Bot) -> None:
    runtime = runtime_for(bot)
    if runtime is None:
        return
    for feed in runtime.config.feeds:
        if feed.every < FAST_POLL:
            runtime.log.warning("news feed read more often than every minute (meant for tests "
                                "and demos)", feed=feed.id, every=str(feed.every))
        register(_feed_job(runtime, feed))


@hookimpl
def civicbot_shutdown(bot: Bot) -> None:
    drop_runtime(bot)
