"""civicbot plugin ``scheduled_posts``: a content calendar that survives restarts.

Posts are declared in the config (``plugins.scheduled_posts.posts``) and/or as Markdown files
with YAML front matter in ``posts_dir``. Each post is a job whose id is the post id: listed by
``civicbot jobs``, run by ``civicbot run-job ID``, shown by ``civicbot preview ID --at ...``.
See docs/plugins/scheduled_posts.md.

For tests and tools: :func:`reload` rescans ``posts_dir`` of a bot now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from civicbot import Job, hookimpl

if TYPE_CHECKING:  # imported on first use: an unconfigured plugin costs no memory
    from pydantic import BaseModel

    from civicbot import Bot
    from civicbot_scheduled_posts.config import MediaSpec, PostSpec, ScheduledPostsConfig
    from civicbot_scheduled_posts.content_calendar import (
        RELOAD_JOB_ID,
        ContentCalendar,
        ReloadReport,
        calendar_for,
    )

__all__ = [
    "RELOAD_JOB_ID",
    "ContentCalendar",
    "MediaSpec",
    "PostSpec",
    "ReloadReport",
    "ScheduledPostsConfig",
    "calendar_for",
    "civicbot_check_config",
    "civicbot_config_schema",
    "civicbot_register_jobs",
    "civicbot_shutdown",
    "civicbot_startup",
    "reload",
]

SECTION = "scheduled_posts"
_LAZY = {"MediaSpec": "config", "PostSpec": "config", "ScheduledPostsConfig": "config",
         "RELOAD_JOB_ID": "content_calendar", "ContentCalendar": "content_calendar",
         "ReloadReport": "content_calendar", "calendar_for": "content_calendar",
         "forget": "content_calendar"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _config(bot: Bot) -> ScheduledPostsConfig | None:
    config = bot.plugin_config(SECTION)
    if config is None:  # not configured: nothing imported
        return None
    from civicbot_scheduled_posts.config import ScheduledPostsConfig

    return config if isinstance(config, ScheduledPostsConfig) else None


@hookimpl
def civicbot_config_schema(register: Callable[[str, type[BaseModel] | str], None]) -> None:
    register(SECTION, "civicbot_scheduled_posts.config:ScheduledPostsConfig")


@hookimpl
def civicbot_register_jobs(register: Callable[[Job], None], bot: Bot) -> None:
    config = _config(bot)
    if config is None:
        return
    from civicbot_scheduled_posts.content_calendar import ContentCalendar

    for job in ContentCalendar(bot, config).load():
        register(job)


@hookimpl
def civicbot_check_config(report: Callable[..., None], bot: Bot) -> None:
    """Post files the bot would skip, missing folder or images (``civicbot check-config``)."""
    if bot.plugin_config(SECTION) is None:
        return
    from civicbot_scheduled_posts.content_calendar import calendar_for

    calendar = calendar_for(bot)
    if calendar is not None:
        from civicbot_scheduled_posts.checks import check_calendar

        check_calendar(calendar, report)


@hookimpl
def civicbot_startup(bot: Bot) -> None:
    """Native posts are submitted to the server at start (not at their time)."""
    if bot.plugin_config(SECTION) is None:
        return
    from civicbot_scheduled_posts.content_calendar import calendar_for

    calendar = calendar_for(bot)
    if calendar is not None:
        calendar.sync_native()


@hookimpl
def civicbot_shutdown(bot: Bot) -> None:
    if bot.plugin_config(SECTION) is None:
        return  # no calendar was built
    from civicbot_scheduled_posts.content_calendar import forget

    forget(bot)


def reload(bot: Bot) -> ReloadReport:
    """Rescan ``posts_dir`` now (what the ``scheduled_posts.reload`` job does every 10 s)."""
    from civicbot_scheduled_posts.content_calendar import ReloadReport, calendar_for

    calendar = calendar_for(bot)
    if calendar is None:
        return ReloadReport()
    return calendar.reload()
