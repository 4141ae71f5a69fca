"""civicbot plugin ``event_digest``: "this week in town" from the agendas venues publish.

Sources (iCalendar feeds or files, OpenAgenda v2, schema.org JSON-LD in web pages) are merged
into digests posted on a schedule (one post or a numbered thread, grouped by day), optional
"new event" and reminder posts, and the mention commands "agenda", "ce week-end" and
"aujourd'hui". See docs/plugins/event_digest.md.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from civicbot import Bot, Command, Job, JobContext, PostDraft, cron, every, hookimpl

if TYPE_CHECKING:  # imported on first use: an unconfigured plugin costs no memory
    from pydantic import BaseModel

    from civicbot_event_digest.config import DigestConfig, EventDigestConfig
    from civicbot_event_digest.runtime import Runtime

NAME = "event_digest"
#: Seconds between start-up and the background load of the sources for the commands.
WARM_UP_DELAY = 2.0

__all__ = [
    "EventDigestConfig",
    "civicbot_check_config",
    "civicbot_config_schema",
    "civicbot_register_commands",
    "civicbot_register_jobs",
    "civicbot_shutdown",
    "civicbot_startup",
]


#: Names this module exported before they were imported on first use.
_LAZY = {
    "build_new_events": "announce", "build_reminders": "announce",
    "register_commands": "commands", "DigestConfig": "config", "EventDigestConfig": "config",
    "build_digest": "digest", "Runtime": "runtime", "drop_runtime": "runtime",
    "runtime_for": "runtime"
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def civicbot_config_schema(register: Callable[[str, type[BaseModel] | str], None]) -> None:
    register(NAME, "civicbot_event_digest.config:EventDigestConfig")


def _digest_job(runtime: Runtime, digest: DigestConfig) -> Job:
    def build(ctx: JobContext) -> list[PostDraft]:
        from civicbot_event_digest.digest import build_digest

        return build_digest(runtime, digest, ctx)

    schedule = cron(digest.cron) if digest.cron else every(digest.every)  # type: ignore[arg-type]
    window = digest.window if isinstance(digest.window, str) else \
        f"next {digest.window.next_days} days"
    return Job(id=digest.id, schedule=schedule, func=build, misfire_grace=digest.misfire_grace,
               description=f"event digest ({window})", approval=digest.approval,
               channels=digest.channels)


@hookimpl
def civicbot_register_jobs(register: Callable[[Job], None], bot: Bot) -> None:
    if bot.plugin_config(NAME) is None:  # not configured: nothing imported
        return
    from civicbot_event_digest.announce import build_new_events, build_reminders
    from civicbot_event_digest.runtime import runtime_for

    runtime = runtime_for(bot)
    if runtime is None:
        return
    for digest in runtime.config.digests:
        register(_digest_job(runtime, digest))
    new_events, reminders = runtime.config.new_events, runtime.config.reminders
    if new_events.enabled:
        register(Job(id=new_events.id, schedule=every(new_events.every),
                     func=lambda ctx: build_new_events(runtime, ctx),
                     description="announce new events", channels=new_events.channels))
    if reminders.enabled:
        register(Job(id=reminders.id, schedule=every(reminders.every),
                     func=lambda ctx: build_reminders(runtime, ctx),
                     description="remind events before they start",
                     channels=reminders.channels))


@hookimpl
def civicbot_register_commands(register: Callable[[Command], None], bot: Bot) -> None:
    if bot.plugin_config(NAME) is None:
        return
    from civicbot_event_digest.commands import register_commands

    register_commands(register, bot)


@hookimpl
def civicbot_check_config(report: Callable[..., None], bot: Bot) -> None:
    """Agenda files that do not exist (``civicbot check-config``): the source would fail."""
    config = bot.plugin_config(NAME)
    if config is None:  # not configured: nothing imported
        return
    from pathlib import Path

    from civicbot_event_digest.config import EventDigestConfig

    if not isinstance(config, EventDigestConfig):
        return

    from civicbot_event_digest.config import is_url

    for i, source in enumerate(config.sources):
        for kind in ("ics", "jsonld"):
            where = getattr(source, kind)
            if where is not None and not is_url(where) and not Path(where).is_file():
                report(f"source {source.name!r}: file {where} not found: fix the path (relative "
                       "to the config file's folder) or give its https:// URL",
                       key=("plugins", NAME, "sources", i, kind))


@hookimpl
def civicbot_startup(bot: Bot) -> None:
    if bot.plugin_config(NAME) is None:  # not configured: nothing imported
        return
    from civicbot_event_digest.runtime import runtime_for

    runtime = runtime_for(bot)
    if runtime is not None and runtime.config.commands.enabled:
        # In the background, a moment after start: the first "agenda" is answered from memory,
        # and the mentions caught up at a restart are answered before the calendars are parsed
        # (an "agenda" asked before then loads them itself, waiting at most a second).
        warm_up = threading.Timer(WARM_UP_DELAY, runtime.agenda.refresh)
        warm_up.name, warm_up.daemon = f"event-digest-warm-up-{bot.name}", True
        warm_up.start()


@hookimpl
def civicbot_shutdown(bot: Bot) -> None:
    if bot.plugin_config(NAME) is None:
        return  # no runtime was built
    from civicbot_event_digest.runtime import drop_runtime

    drop_runtime(bot)


