"""Open-Meteo's ``/v1/forecast`` (no key; CC BY 4.0): one day's forecast."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from civicbot import Fetcher
from civicbot_weather.fetch import fetch
from civicbot_weather.model import SourceError

#: The daily variables asked for, current names.
DAILY = ("weather_code", "temperature_2m_max", "temperature_2m_min", "precipitation_sum",
         "wind_speed_10m_max")
#: Older spellings still found in recorded responses.
LEGACY = {"weather_code": "weathercode", "wind_speed_10m_max": "windspeed_10m_max"}


@dataclass(frozen=True)
class DayForecast:
    day: date
    weather_code: int | None
    temperature_min: float | None
    temperature_max: float | None
    precipitation: float | None
    wind_max: float | None
    temperature_unit: str = "°C"
    precipitation_unit: str = "mm"
    wind_unit: str = "km/h"


def _series(block: dict[str, Any], name: str) -> list[Any] | None:
    for key in (name, LEGACY.get(name, name)):
        values = block.get(key)
        if isinstance(values, list):
            return values
    return None


def _number(values: list[Any] | None, index: int) -> float | None:
    if values is None or index >= len(values) or values[index] is None:
        return None
    try:
        return float(values[index])
    except (TypeError, ValueError):
        return None


def parse_forecast(data: bytes, day: date) -> DayForecast:
    """The forecast of ``day`` in an Open-Meteo response (current or legacy variable names).

    Raises :class:`SourceError` when the response is malformed or does not cover ``day``.
    """
    try:
        doc = json.loads(data)
        daily = doc["daily"]
        days = [str(t)[:10] for t in daily["time"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"Open-Meteo: malformed response: {exc!r}") from exc
    if not isinstance(daily, dict):
        raise SourceError("Open-Meteo: malformed response: daily is not an object")
    try:
        index = days.index(day.isoformat())
    except ValueError:
        raise SourceError(f"Open-Meteo: no forecast for {day.isoformat()} "
                          f"(days: {', '.join(days) or 'none'})") from None
    units = doc.get("daily_units") or {}
    code = _number(_series(daily, "weather_code"), index)
    forecast = DayForecast(
        day=day,
        weather_code=int(code) if code is not None else None,
        temperature_min=_number(_series(daily, "temperature_2m_min"), index),
        temperature_max=_number(_series(daily, "temperature_2m_max"), index),
        precipitation=_number(_series(daily, "precipitation_sum"), index),
        wind_max=_number(_series(daily, "wind_speed_10m_max"), index),
        temperature_unit=str(units.get("temperature_2m_max") or "°C"),
        precipitation_unit=str(units.get("precipitation_sum") or "mm"),
        wind_unit=str(units.get("wind_speed_10m_max") or units.get("windspeed_10m_max")
                      or "km/h"),
    )
    if forecast.temperature_max is None and forecast.weather_code is None:
        raise SourceError(f"Open-Meteo: no daily values for {day.isoformat()}")
    return forecast


def fetch_forecast(fetcher: Fetcher, base_url: str, *, latitude: float, longitude: float, timezone: str,
                   day: date, timeout: float) -> DayForecast:
    """Ask Open-Meteo for a few days and keep ``day``."""
    data = fetch(fetcher, f"{base_url}/v1/forecast", timeout=timeout, params={
        "latitude": f"{latitude:g}",
        "longitude": f"{longitude:g}",
        "timezone": timezone,
        "daily": ",".join(DAILY),
        "forecast_days": "3",
    })
    return parse_forecast(data, day)
