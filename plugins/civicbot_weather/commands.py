"""The "météo" and "vigilance" commands answered by the auto-reply plugin."""

from __future__ import annotations

from civicbot import Bot, CommandContext
from civicbot_weather.alerts_job import load_states, texts_for
from civicbot_weather.config import WeatherConfig
from civicbot_weather.forecast_job import ForecastService
from civicbot_weather.model import level_rank


class WeatherCommands:
    def __init__(self, bot: Bot, config: WeatherConfig,
                 service: ForecastService | None) -> None:
        self.bot = bot
        self.config = config
        self.service = service

    def meteo(self, ctx: CommandContext) -> str | None:
        texts = texts_for(ctx.bot, self.config)
        assert self.service is not None
        service = self.service
        forecast = service.cached(ctx.bot.now())
        if forecast is not None:
            return texts.forecast_short(self.config.place, forecast)
        if service.last.loading:  # answered when the forecast is there, not holding others
            ctx.bot.log.info("forecast still loading; the command is answered when it is",
                             status_id=ctx.status.get("id"))
            service.last.when_loaded(lambda _value, _error: self._answer_later(ctx))
            return None
        ctx.bot.log.warning("forecast unavailable for a command", error=str(service.last.error))
        return texts.t["unavailable"]

    def _answer_later(self, ctx: CommandContext) -> None:
        assert self.service is not None
        day = self.service.day_of(ctx.bot.now())
        value = self.service.last.value
        forecast = value[1] if value is not None and value[0] == day else None
        texts = texts_for(ctx.bot, self.config)
        text = (texts.forecast_short(self.config.place, forecast) if forecast is not None
                else texts.t["unavailable"])
        try:
            ctx.bot.reply(ctx.status, text, language=texts.language)
        except Exception as exc:
            ctx.bot.log.error("late weather answer failed", exc_info=exc)

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
