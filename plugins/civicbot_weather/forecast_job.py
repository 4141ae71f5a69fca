"""The morning forecast post, and the short forecast of the "météo" command."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from civicbot import Bot, JobContext, JobError, PostDraft
from civicbot_weather.config import ForecastConfig, WeatherConfig
from civicbot_weather.fetch import fetcher_for
from civicbot_weather.model import SourceError
from civicbot_weather.openmeteo import DayForecast, fetch_forecast

#: How long the "météo" command reuses a forecast it fetched.
CACHE_TTL = timedelta(minutes=30)


class ForecastService:
    """Fetches a day's forecast for the configured place (with a small cache for commands)."""

    def __init__(self, bot: Bot, config: WeatherConfig) -> None:
        assert config.forecast is not None
        self.bot = bot
        self.config = config
        self.forecast: ForecastConfig = config.forecast
        self._lock = threading.Lock()
        self._cache: dict[date, tuple[datetime, DayForecast]] = {}

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

    def cached(self, now: datetime) -> DayForecast:
        day = self.day_of(now)
        with self._lock:
            hit = self._cache.get(day)
            if hit is not None and now - hit[0] < CACHE_TTL:
                return hit[1]
        result = self.fetch(day)
        with self._lock:
            self._cache = {day: (now, result)}
        return result


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
