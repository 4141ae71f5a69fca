"""civicbot plugin ``weather``: the morning forecast (Open-Meteo) and official weather warnings
(Météo-France vigilance, MeteoAlarm, any CAP 1.2 feed), never with a false all-clear.

See docs/plugins/weather.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from civicbot import Bot, Command, Job, cron, every, hookimpl

if TYPE_CHECKING:  # imported on first use: an unconfigured plugin costs no memory
    from civicbot_weather.config import WeatherConfig

SECTION = "weather"
#: Names this module exported before they were imported on first use.
_LAZY = {
    "AlertsJob": "alerts_job", "WeatherCommands": "commands", "WeatherConfig": "config",
    "close_fetcher": "fetch", "ForecastJob": "forecast_job", "ForecastService": "forecast_job",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _config(bot: Bot) -> WeatherConfig | None:
    config = bot.plugin_config(SECTION)
    if config is None:  # not configured: nothing imported
        return None
    from civicbot_weather.config import WeatherConfig

    return config if isinstance(config, WeatherConfig) else None


@hookimpl
def civicbot_config_schema(register: Callable[[str, Any], None]) -> None:
    register(SECTION, "civicbot_weather.config:WeatherConfig")


@hookimpl
def civicbot_register_jobs(register: Callable[[Job], None], bot: Bot) -> None:
    config = _config(bot)
    if config is None:
        return
    from civicbot_weather.alerts_job import AlertsJob
    from civicbot_weather.forecast_job import ForecastJob, ForecastService

    if config.forecast is not None:
        register(Job(
            id=config.forecast.id, schedule=cron(config.forecast.cron),
            func=ForecastJob(ForecastService(bot, config)),
            description=f"weather forecast for {config.place} (Open-Meteo)",
            approval=config.forecast.approval,
            channels=config.forecast.channels,
        ))
    if config.alerts is not None:
        register(Job(
            id=config.alerts.id, schedule=every(config.alerts.poll),
            func=AlertsJob(bot, config),
            description="official weather warnings (poll every "
                        f"{int(config.alerts.poll.total_seconds())}s)",
            # a poll missed while the bot was down is worth running at start
            misfire_grace=max(timedelta(days=1), config.alerts.poll),
            approval=config.alerts.approval,
            channels=config.alerts.channels,
        ))


@hookimpl
def civicbot_register_commands(register: Callable[[Command], None], bot: Bot) -> None:
    config = _config(bot)
    if config is None:
        return
    from civicbot_weather.commands import WeatherCommands
    from civicbot_weather.forecast_job import ForecastService

    service = ForecastService(bot, config) if config.forecast is not None else None
    commands = WeatherCommands(bot, config, service)
    english = (config.language or bot.language) == "en"
    if service is not None:
        # names are matched without accents: "météo" also answers "meteo" (and the core
        # refuses two names of one command that only differ by accents)
        register(Command(names=("météo",),
                         help="today's forecast" if english else "la météo du jour",
                         handler=commands.meteo))
    if config.alerts is not None:
        register(Command(names=("vigilance",),
                         help="official weather warnings in force" if english
                         else "les vigilances météo en cours",
                         handler=commands.vigilance))


@hookimpl
def civicbot_shutdown(bot: Bot) -> None:
    if bot.plugin_config(SECTION) is None:
        return  # no fetcher was made
    from civicbot_weather.fetch import close_fetcher

    close_fetcher(bot)
