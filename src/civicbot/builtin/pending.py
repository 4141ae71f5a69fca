"""Built-in plugin ``core.pending``: resend posts left pending by errors, every few minutes.

A post that met a 5xx or network error more than ``mastodon.max_attempts`` times stays pending
in the state store; this job sends it again (with the same ``Idempotency-Key``) until it goes
through, so nothing is lost during an outage of the instance.
"""

from __future__ import annotations

from collections.abc import Callable

from civicbot.bot import Bot
from civicbot.hookspecs import hookimpl
from civicbot.jobs import Job, JobContext, every

JOB_ID = "core.retry-pending"


@hookimpl
def civicbot_register_jobs(register: Callable[[Job], None], bot: Bot) -> None:
    def retry(ctx: JobContext) -> None:
        if not ctx.preview and not ctx.bot.dry_run:
            ctx.bot.publisher.resend_pending()

    interval = bot.settings.core.scheduler.retry_pending
    register(Job(id=JOB_ID, schedule=every(interval), func=retry,
                 description="resend posts left pending by instance errors",
                 misfire_grace=interval))
