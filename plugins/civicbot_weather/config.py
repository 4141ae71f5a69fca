"""The ``plugins.weather`` config section."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from civicbot import ChannelNames, CronExpression, Duration, PluginConfig, TimeZoneName
from civicbot_weather.departements import DEPARTEMENTS, normalize_departement

DEFAULT_VIGILANCE_URL = "https://public-api.meteofrance.fr/public/DPVigilance/v1"


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _check_url(value: str) -> str:
    if not _is_url(value):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


class ForecastConfig(PluginConfig):
    """The morning forecast post (Open-Meteo)."""

    id: str = "meteo-matin"
    cron: CronExpression = "0 7 * * *"
    #: ``required``: the forecast waits on the desk for an approver before it goes out.
    approval: Literal["required", "never"] = "never"
    base_url: str = "https://api.open-meteo.com"
    timezone: TimeZoneName | None = None
    #: The whole fetch (redirects included) must end within it, however slowly the server sends.
    timeout: Duration = timedelta(seconds=15)
    hashtags: list[str] = Field(default_factory=list)
    #: Where this job's posts go (``[mastodon, bluesky]``); default: the top-level ``channels``.
    channels: ChannelNames | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value)


class VigilanceConfig(PluginConfig):
    """Météo-France's official vigilance API for one département."""

    departement: str
    api_key: SecretStr
    base_url: str = DEFAULT_VIGILANCE_URL

    @field_validator("departement", mode="before")
    @classmethod
    def _dep(cls, value: Any) -> str:
        number = normalize_departement(str(value))
        coastal = len(number) == 4 and number[:2] in DEPARTEMENTS and number.endswith("10")
        if number not in DEPARTEMENTS and not coastal:
            raise ValueError(f"unknown département {value!r} (e.g. \"41\" for Loir-et-Cher)")
        return number

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value)


class SourceConfig(PluginConfig):
    """One alert source: exactly one of ``meteoalarm``, ``cap`` or ``vigilance``."""

    meteoalarm: str | None = None
    cap: str | None = None
    vigilance: VigilanceConfig | None = None
    #: NUTS3 geocodes (FRB05) or area names (Loir-et-Cher) to keep.
    areas: list[str] = Field(default_factory=list)
    #: The area's name in posts (default: the source's own area name).
    label: str | None = None
    #: A short name for logs (default: the URL or the département).
    name: str | None = None

    @field_validator("meteoalarm")
    @classmethod
    def _feed_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @field_validator("cap")
    @classmethod
    def _cap(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or _is_url(value):
            return value
        path = Path(value).expanduser()
        base = (info.context or {}).get("base_dir")
        if base is not None and not path.is_absolute():
            path = Path(base) / path
        return str(path)

    @model_validator(mode="after")
    def _one_kind(self) -> SourceConfig:
        kinds = [k for k in ("meteoalarm", "cap", "vigilance") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("each source needs exactly one of meteoalarm, cap or vigilance"
                             + (f" (got {', '.join(kinds)})" if kinds else ""))
        if self.meteoalarm is not None and not self.areas:
            raise ValueError("a meteoalarm source needs areas (NUTS3 codes such as FRB05, "
                             "or area names): a country feed covers the whole country")
        if self.vigilance is not None and self.areas:
            raise ValueError("a vigilance source takes no areas: set vigilance.departement")
        return self

    @property
    def kind(self) -> Literal["meteoalarm", "cap", "vigilance"]:
        if self.meteoalarm is not None:
            return "meteoalarm"
        return "cap" if self.cap is not None else "vigilance"

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        if self.vigilance is not None:
            return f"vigilance:{self.vigilance.departement}"
        return str(self.meteoalarm or self.cap)

    @property
    def area_label(self) -> str | None:
        """The label, or the département's name for a vigilance source."""
        if self.label:
            return self.label
        if self.vigilance is not None:
            return DEPARTEMENTS.get(self.vigilance.departement, self.vigilance.departement)
        return None


class AlertsConfig(PluginConfig):
    """Official weather warnings, polled."""

    id: str = "weather-alerts"
    poll: Duration = timedelta(minutes=10)
    #: Warnings are urgent: they go out without approval unless this says ``required``.
    approval: Literal["required", "never"] = "never"
    min_level: Literal["yellow", "orange", "red"] = "yellow"
    #: The whole fetch of one source (redirects included) must end within it.
    timeout: Duration = timedelta(seconds=20)
    hashtags: list[str] = Field(default_factory=list)
    sources: list[SourceConfig]
    #: Where this job's posts go (``[mastodon, bluesky]``); default: the top-level ``channels``.
    channels: ChannelNames | None = None

    @field_validator("poll")
    @classmethod
    def _poll(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("poll must be at least 1s")
        return value

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: list[SourceConfig]) -> list[SourceConfig]:
        if not value:
            raise ValueError("give at least one source (meteoalarm, cap or vigilance)")
        names = [s.display_name for s in value]
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ValueError(f"two sources with the same name: {', '.join(doubles)} "
                             "(set name: on one of them)")
        return value


class WeatherConfig(PluginConfig):
    """``plugins.weather``: the morning forecast and official weather warnings."""

    place: str
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    #: Language of the posts (default: the bot's ``language``).
    language: Literal["fr", "en"] | None = None
    forecast: ForecastConfig | None = None
    alerts: AlertsConfig | None = None

    @model_validator(mode="after")
    def _coordinates(self) -> WeatherConfig:
        if self.forecast is not None and (self.latitude is None or self.longitude is None):
            raise ValueError("the forecast needs latitude and longitude (e.g. 47.5861, 1.3359)")
        if self.forecast is not None and self.alerts is not None \
                and self.forecast.id == self.alerts.id:
            raise ValueError(f"forecast.id and alerts.id are both {self.forecast.id!r}")
        return self

    def area_names(self) -> list[str]:
        """The names of the watched areas, for "no warning for X" (default: ``place``)."""
        names: list[str] = []
        for source in self.alerts.sources if self.alerts else []:
            label = source.area_label
            if label and label not in names:
                names.append(label)
        return names or [self.place]
