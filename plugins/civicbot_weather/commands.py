"""The "météo" and "vigilance" commands answered by the auto-reply plugin."""

from __future__ import annotations

from civicbot import Bot, CommandContext
from civicbot_weather.alerts_job import load_states, texts_for
from civicbot_weather.config import WeatherConfig
from civicbot_weather.forecast_job import ForecastService
from civicbot_weather.model import SourceError, level_rank


class WeatherCommands:
    def __init__(self, bot: Bot, config: WeatherConfig,
                 service: ForecastService | None) -> None:
        self.bot = bot
        self.config = config
        self.service = service

    def meteo(self, ctx: CommandContext) -> str:
        texts = texts_for(ctx.bot, self.config)
        assert self.service is not None
        try:
            forecast = self.service.cached(ctx.bot.now())
        except SourceError as exc:
            ctx.bot.log.warning("forecast unavailable for a command", error=str(exc))
            return texts.t["unavailable"]
        return texts.forecast_short(self.config.place, forecast)

    def vigilance(self, ctx: CommandContext) -> str:
        texts = texts_for(ctx.bot, self.config)
        now = ctx.bot.now()
        states, _, health = load_states(ctx.bot)
        current = sorted(
            (t.alert for t in states.values() if t.alert.expires is None
             or t.alert.expires > now),
            key=lambda a: (-level_rank(a.level), a.area, a.phenomenon))
        if current:
            text = "\n".join(texts.current(alert, now) for alert in current)
        else:
            text = texts.no_warning(self.config.area_names())
        assert self.config.alerts is not None
        checks = [health.get(s.display_name) for s in self.config.alerts.sources]
        if any(check is None for check in checks):
            text += texts.t["unchecked"]
        elif not all(check.get("ok") for check in checks if check is not None):
            text += texts.t["stale"]
        return text
