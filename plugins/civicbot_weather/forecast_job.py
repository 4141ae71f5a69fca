"""The morning forecast post, and the short forecast of the "météo" command."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from civicbot import Bot, JobContext, JobError, LastGood, PostDraft
from civicbot_weather.config import ForecastConfig, WeatherConfig
from civicbot_weather.fetch import fetcher_for
from civicbot_weather.model import SourceError
from civicbot_weather.openmeteo import DayForecast, fetch_forecast

#: How long the "météo" command reuses a forecast (a refresh starts in the background then).
CACHE_TTL = timedelta(minutes=30)
#: How long the "météo" command waits for a forecast it does not have (never longer).
COLD_WAIT = 1.0


class ForecastService:
    """Fetches a day's forecast for the configured place; the command's forecast is loaded in
    the background (a slow Open-Meteo never holds the other residents' mentions)."""

    def __init__(self, bot: Bot, config: WeatherConfig) -> None:
        assert config.forecast is not None
        self.bot = bot
        self.config = config
        self.forecast: ForecastConfig = config.forecast
        self.last: LastGood[tuple[date, DayForecast]] = LastGood(
            self._load_today, max_age=CACHE_TTL, name="weather forecast", log=bot.log)

    @property
    def zone(self) -> ZoneInfo:
        name = self.forecast.timezone
        return ZoneInfo(name) if name else self.bot.timezone

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def fetch(self, day: date) -> DayForecast:
        assert self.config.latitude is not None and self.config.longitude is not None
        return fetch_forecast(fetcher_for(self.bot), self.forecast.base_url,
                              latitude=self.config.latitude, longitude=self.config.longitude,
                              timezone=str(self.zone), day=day, timeout=self.forecast.timeout.total_seconds())

    def _load_today(self) -> tuple[date, DayForecast]:
        day = self.day_of(self.bot.now())
        return day, self.fetch(day)

    def cached(self, now: datetime, wait: float | None = None) -> DayForecast | None:
        """Today's forecast from memory (refreshed in the background when older than
        :data:`CACHE_TTL`); None when it is not there within ``wait`` seconds (default
        :data:`COLD_WAIT`): see ``self.last.loading`` and ``self.last.error``."""
        day = self.day_of(now)
        hit = self.last.current(usable=lambda value: value[0] == day,
                                wait=COLD_WAIT if wait is None else wait)
        return hit[1] if hit is not None else None


class ForecastJob:
    """``func`` of the forecast job: one post for the day of the run."""

    def __init__(self, service: ForecastService) -> None:
        self.service = service

    def __call__(self, ctx: JobContext) -> list[PostDraft]:
        from civicbot_weather.alerts_job import texts_for

        service = self.service
        day = service.day_of(ctx.scheduled_time)
        try:
            forecast = service.fetch(day)
        except SourceError as exc:
            ctx.bot.log.warning("forecast unavailable", job=ctx.job.id, error=str(exc))
            raise JobError(f"forecast unavailable: {exc}") from exc
        texts = texts_for(ctx.bot, service.config)
        text = texts.forecast(service.config.place, forecast, service.forecast.hashtags)
        return [PostDraft(text=text, dedup_key=f"weather:forecast:{ctx.job.id}:{day.isoformat()}",
                          visibility="public", language=texts.language)]
