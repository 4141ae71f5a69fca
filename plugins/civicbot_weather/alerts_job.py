"""The alerts poll job: read the sources, run the state machine, persist it, return the posts."""

from __future__ import annotations

from typing import Any

from civicbot import Bot, JobContext, JobError, PostDraft
from civicbot_weather.config import WeatherConfig
from civicbot_weather.fetch import fetcher_for
from civicbot_weather.sources import read_source
from civicbot_weather.texts import Texts
from civicbot_weather.tracker import ENDED_PREFIX, STATE_PREFIX, Machine, Tracked

NAMESPACE = "weather"
HEALTH_PREFIX = "health:"


def load_states(bot: Bot) -> tuple[dict[str, Tracked], dict[str, dict[str, Any]],
                                   dict[str, dict[str, Any]]]:
    """(tracked warnings, ended warnings, source health) from the state store."""
    states: dict[str, Tracked] = {}
    ended: dict[str, dict[str, Any]] = {}
    health: dict[str, dict[str, Any]] = {}
    for key, value in bot.state.namespace(NAMESPACE).items().items():
        if key.startswith(STATE_PREFIX):
            try:
                states[key.removeprefix(STATE_PREFIX)] = Tracked.from_json(value)
            except (KeyError, TypeError, ValueError) as exc:
                bot.log.error("unreadable weather state; ignored", key=key, error=str(exc))
        elif key.startswith(ENDED_PREFIX):
            ended[key.removeprefix(ENDED_PREFIX)] = value
        elif key.startswith(HEALTH_PREFIX):
            health[key.removeprefix(HEALTH_PREFIX)] = value
    return states, ended, health


def texts_for(bot: Bot, config: WeatherConfig) -> Texts:
    return Texts(config.language or bot.language, bot.timezone)


class AlertsJob:
    """``func`` of the alerts job."""

    def __init__(self, bot: Bot, config: WeatherConfig) -> None:
        assert config.alerts is not None
        self.bot = bot
        self.config = config
        self.alerts = config.alerts

    def __call__(self, ctx: JobContext) -> list[PostDraft]:
        bot, now = ctx.bot, ctx.now
        texts = texts_for(bot, self.config)
        reports = [read_source(source, fetcher=fetcher_for(bot), language=texts.language,
                               timeout=self.alerts.timeout.total_seconds(), log=bot.log)
                   for source in self.alerts.sources]
        states, ended, health = load_states(bot)
        machine = Machine(texts=texts, min_level=self.alerts.min_level,
                          hashtags=self.alerts.hashtags)
        outcome = machine.step(
            states, ended,
            [(r.name, obs) for r in reports for obs in r.observations],
            {r.name: r.ok for r in reports}, now)
        for message, fields in outcome.notes:
            bot.log.info(message, job=ctx.job.id, preview=ctx.preview, **fields)
        if not ctx.preview:
            ns = bot.state.namespace(NAMESPACE)
            for report in reports:
                previous = health.get(report.name) or {}
                ns.set(HEALTH_PREFIX + report.name, {
                    "ok": report.ok, "at": now.isoformat(), "error": report.error,
                    "last_ok": now.isoformat() if report.ok else previous.get("last_ok"),
                })
        if not outcome.drafts and not any(r.ok for r in reports):
            # nothing can be said: report it (civicbot preview exits 1), the state is kept
            raise JobError("every weather alert source failed: "
                           + "; ".join(f"{r.name}: {r.error}" for r in reports))
        if ctx.preview:
            return outcome.drafts
        ns = bot.state.namespace(NAMESPACE)
        # the publisher records the drafts as pending before sending them and resends them
        # after a crash, so the state can move on now
        for key, value in outcome.writes.items():
            ns.set(key, value)
        for key in outcome.deletes:
            ns.delete(key)
        return outcome.drafts
