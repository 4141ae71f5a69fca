"""civicbot plugin ``news``: the website's news (RSS, Atom, JSON Feed) posted as it appears.

Each feed is a job (its ``id``) that reads the feed every ``every``: items never seen are posted
once (at most ``max_per_run`` per read, oldest first), known by their guid and their normalised
link, so that an edited item or a rebuilt feed is not posted again; the first read of a feed
only remembers its items (``backfill`` newest ones excepted); a feed that fails, is empty or
suddenly much shorter changes nothing. See docs/plugins/news.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from civicbot import Bot, Job, JobContext, PostDraft, every, hookimpl

if TYPE_CHECKING:  # imported on first use: an unconfigured plugin costs no memory
    from pydantic import BaseModel

    from civicbot_news.config import FeedConfig
    from civicbot_news.runtime import Runtime

NAME = "news"

__all__ = ["NewsConfig", "civicbot_config_schema", "civicbot_register_jobs",
           "civicbot_shutdown"]


@hookimpl
def civicbot_config_schema(register: Callable[[str, type[BaseModel] | str], None]) -> None:
    register(NAME, "civicbot_news.config:NewsConfig")


#: Names this module exported before they were imported on first use.
_LAZY = {
    "FAST_POLL": "config", "FeedConfig": "config", "NewsConfig": "config",
    "Runtime": "runtime", "drop_runtime": "runtime", "runtime_for": "runtime"
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _feed_job(runtime: Runtime, feed: FeedConfig) -> Job:
    def build(ctx: JobContext) -> list[PostDraft]:
        from civicbot_news.poll import build_feed_posts

        return build_feed_posts(runtime, feed, ctx)

    return Job(id=feed.id, schedule=every(feed.every), func=build,
               description=f"news feed {feed.url.split('?', 1)[0]}", channels=feed.channels)


@hookimpl
def civicbot_register_jobs(register: Callable[[Job], None], bot: Bot) -> None:
    if bot.plugin_config(NAME) is None:  # not configured: nothing imported
        return
    from civicbot_news.config import FAST_POLL
    from civicbot_news.runtime import runtime_for

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
    if bot.plugin_config(NAME) is None:
        return  # no runtime was built
    from civicbot_news.runtime import drop_runtime

    drop_runtime(bot)
