"""Field types shared by the core's and the plugins' config models."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    SecretStr,
    ValidationInfo,
    model_validator,
)

from civicbot.crontab import check_cron
from civicbot.durations import format_duration, parse_duration


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    if str(value) == ":memory:":  # SQLite's in-memory database, not a file
        return value
    base = (info.context or {}).get("base_dir")
    if base is not None and not value.is_absolute() and not str(value).startswith("~"):
        return Path(base) / value
    return value.expanduser()


def check_web_url(value: object) -> str:
    """An ``http://`` or ``https://`` URL with a host; other forms are refused with the fix."""
    if not isinstance(value, str):
        raise ValueError("expected a URL such as https://www.example.fr/agenda")
    text = value.strip()
    lowered = text.lower()
    if lowered.startswith(("http://", "https://")):
        host = text.split("://", 1)[1].split("/", 1)[0]
        if not host or any(c.isspace() for c in text):
            raise ValueError(f"{text!r} is not a complete URL: write it as "
                             "https://www.example.fr/page, without spaces")
        return text
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise ValueError(f"{text!r}: unknown scheme {scheme!r}; write "
                         f"https://{text.split('://', 1)[1]}")
    if lowered.startswith("www.") or "." in text.split("/", 1)[0]:
        raise ValueError(f"{text!r} has no scheme: write https://{text}")
    raise ValueError(f"expected a URL starting with https://, got {text!r}")


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Paris)") from exc
    return value


#: A duration written ``30s``, ``10m``, ``2h``, ``1d`` (or a number of seconds).
Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]
#: A 5-field crontab expression (``"0 8 * * 1"``: Mondays at 08:00), checked when the config is
#: read; French and English day and month names are accepted (``lun``, ``lundi``, ``mon``) and
#: normalised to the English three-letter names.
CronExpression = Annotated[str, BeforeValidator(check_cron)]
#: An ``http(s)://`` URL; ``www.example.fr`` or ``htps://...`` are refused with the fix.
WebUrl = Annotated[str, BeforeValidator(check_web_url)]
#: A path; relative paths are resolved against the config file's folder.
ConfigPath = Annotated[Path, AfterValidator(_resolve_path)]


def _state_location(value: Any, info: ValidationInfo) -> Path | str:
    if isinstance(value, str) and value.startswith(("postgresql://", "postgres://")):
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if not parts.hostname and "host=" not in parts.query:
            raise ValueError("a postgresql:// URL needs a host: postgresql://user@host/db")
        return value
    if not isinstance(value, str | Path):
        raise ValueError("expected a file path or a postgresql:// URL")
    return _resolve_path(Path(value), info)


#: The state store: an SQLite file path, or a ``postgresql://user@host:port/db`` URL.
StateLocation = Annotated[Path | str, PlainValidator(_state_location), PlainSerializer(str)]
#: An IANA time zone name such as ``Europe/Paris``.
TimeZoneName = Annotated[str, AfterValidator(_check_zone)]


def _check_channels(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError("give at least one channel, e.g. [mastodon, bluesky] "
                         "(leave the key out for the config's top-level channels)")
    for name in value:
        if not name.strip() or name != name.strip().lower():
            raise ValueError(f"invalid channel name {name!r}: use lowercase names such as "
                             "mastodon or bluesky")
    return tuple(dict.fromkeys(value))


#: The channels a job publishes on (``[mastodon, bluesky]``): a non-empty list of names; the
#: names are checked against the channels the plugins add by ``civicbot check-config``.
ChannelNames = Annotated[tuple[str, ...], AfterValidator(_check_channels)]


class StrictModel(BaseModel):
    """A config model where unknown keys are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class PluginConfig(StrictModel):
    """Base class of a plugin's config section.

    Unknown keys are errors, and every :class:`pydantic.SecretStr` field ``x`` may instead be
    given as ``x_file: path/to/file`` (the file's content, stripped, is the secret), so that
    tokens and API keys never have to be written in the YAML file.
    """

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any, info: ValidationInfo) -> Any:
        return secrets_from_files(cls, data, info)


def secrets_from_files(model: type[BaseModel], data: Any, info: ValidationInfo) -> Any:
    """Replace ``<field>_file`` keys by the content of the file, for secret fields."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, field in model.model_fields.items():
        key = f"{name}_file"
        if key not in out or key in model.model_fields:
            continue
        annotation = str(field.annotation)
        if "SecretStr" not in annotation:
            continue
        if name in out and out[name] is not None:
            raise ValueError(f"give either {name} or {key}, not both")
        raw = Path(str(out.pop(key)))
        path = _resolve_path(raw, info)
        try:
            out[name] = SecretStr(path.read_text(encoding="utf-8").strip())
            mode = path.stat().st_mode
        except OSError as exc:
            raise ValueError(f"{key}: cannot read {path}: {exc.strerror or exc}") from exc
        warnings = (info.context or {}).get("warnings")
        if mode & 0o077 and isinstance(warnings, list):
            warnings.append(f"{key}: {path} can be read by other users of this machine; "
                            f"make it private: chmod 600 {path}")
    return out
