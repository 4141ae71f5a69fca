"""Helpers for the operations tests: small test plugins, multi-account configs, HTTP probes.

(Not a conftest: imported explicitly, e.g. ``from ops_support import EchoPlugin``.)
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from civicbot import JobContext, PostDraft, cron, hookimpl, html_to_text
from civicbot.daemon import Daemon
from civicbot.jobs import Job
from civicbot.testing import SandboxInstance

#: Fast reconnects, as civicbot_make_bot uses.
FAST_STREAM: dict[str, Any] = {
    "watchdog": "2s",
    "backoff_initial": "0.02s",
    "backoff_max": "0.2s",
    "poll_interval": "0.1s",
    "shutdown_grace": "2s",
}


class EchoPlugin:
    """Answers every mention with ``Bien reçu (<account>) : <text>``."""

    @hookimpl
    def civicbot_on_mention(self, bot: Any, status: dict[str, Any],
                            notification: dict[str, Any]) -> None:
        text = html_to_text(status["content"], drop_mentions=True)
        bot.reply(status, f"Bien reçu ({bot.name}) : {text}")


class FailingPlugin:
    """Raises on every notification (its failures are counted, others go on)."""

    @hookimpl
    def civicbot_on_notification(self, bot: Any, notification: dict[str, Any]) -> None:
        raise RuntimeError("boom")


class BulletinPlugin:
    """Jobs of a simulated day: an hourly bulletin, an 08:00 digest thread (2 posts) and an
    alert every 6 hours with a content warning."""

    @hookimpl
    def civicbot_register_jobs(self, register: Callable[[Job], None], bot: Any) -> None:
        register(Job(id="bulletin", schedule=cron("0 * * * *"), func=_bulletin,
                     description="hourly bulletin"))
        register(Job(id="digest", schedule=cron("0 8 * * *"), func=_digest,
                     description="morning digest"))
        register(Job(id="alert", schedule=cron("30 */6 * * *"), func=_alert,
                     description="alerts"))


def _bulletin(ctx: JobContext) -> list[PostDraft]:
    when = ctx.scheduled_time
    return [PostDraft(text=f"Bulletin {ctx.bot.name} de {when:%Hh}",
                      dedup_key=f"bulletin:{when.isoformat()}")]


def _digest(ctx: JobContext) -> list[PostDraft]:
    from civicbot import PREVIOUS

    day = ctx.scheduled_time.date().isoformat()
    return [PostDraft(text=f"Agenda {ctx.bot.name} du {day} (1/2)", dedup_key=f"digest:{day}:1"),
            PostDraft(text=f"Agenda {ctx.bot.name} du {day} (2/2)", dedup_key=f"digest:{day}:2",
                      in_reply_to=PREVIOUS)]


def _alert(ctx: JobContext) -> list[PostDraft]:
    when = ctx.scheduled_time
    return [PostDraft(text=f"Vigilance {ctx.bot.name} {when:%Hh%M}", spoiler_text="Alerte météo",
                      dedup_key=f"alert:{when.isoformat()}")]


def account_block(name: str, sandbox: SandboxInstance, **extra: Any) -> dict[str, Any]:
    return {"name": name, "mastodon": {"api_base_url": sandbox.url,
                                       "access_token": sandbox.access_token}, **extra}


def write_config(path: Path, accounts: Iterable[dict[str, Any]] | None = None, *,
                 single: SandboxInstance | None = None, **core: Any) -> Path:
    """Write a YAML config: ``accounts:`` form, or the single-account form with ``single``."""
    data: dict[str, Any] = {"state": str(path.parent / "state.sqlite3"), "stream": FAST_STREAM,
                            "log": {"format": "json"}}
    if single is not None:
        data["mastodon"] = {"api_base_url": single.url, "access_token": single.access_token}
    else:
        data["accounts"] = list(accounts or [])
    data.update(core)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def make_daemon(config: Path, plugins: Iterable[Any] = (), **kwargs: Any) -> Daemon:
    """A daemon without entry-point plugins, with fast publisher retries."""
    daemon = Daemon.from_config(config, plugins=list(plugins), load_entry_points=False, **kwargs)
    for bot in daemon.bots:
        bot.publisher.backoff_initial = 0.01
        bot.publisher.backoff_max = 0.05
    return daemon


def replies_to(sandbox: SandboxInstance) -> dict[str, int]:
    """How many statuses answer each status id."""
    counts: dict[str, int] = {}
    for status in list(sandbox.statuses):
        parent = status.get("in_reply_to_id")
        if parent:
            counts[str(parent)] = counts.get(str(parent), 0) + 1
    return counts


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        time.sleep(0.01)


def http_get(url: str) -> tuple[int, str, Mapping[str, str]]:
    """A real HTTP GET (urllib): status, body, headers; 4xx/5xx are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def http_json(url: str) -> tuple[int, Any]:
    status, body, _ = http_get(url)
    return status, json.loads(body)
