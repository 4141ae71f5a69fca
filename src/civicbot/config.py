"""The YAML configuration: load, substitute ``${ENV}``, validate, and report errors by line.

``load_config(path)`` returns a :class:`Config` or raises :class:`~civicbot.errors.ConfigError`
whose lines read ``config.yaml:12: plugins.weather.latitude: expected a number``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pluggy
from pydantic import (
    BaseModel,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from civicbot.cluster_config import ClusterConfig
from civicbot.config_types import (
    ChannelNames,
    ConfigPath,
    Duration,
    PluginConfig,
    StateLocation,
    StrictModel,
    TimeZoneName,
    secrets_from_files,
)
from civicbot.desk.config import DeskConfig
from civicbot.errors import ConfigError, PluginError
from civicbot.yaml_source import Path_, dotted, line_of, load_yaml_text

SANDBOX = "sandbox"

__all__ = [
    "SANDBOX",
    "AccountSettings",
    "Config",
    "ConfigPath",
    "Duration",
    "MastodonConfig",
    "PluginConfig",
    "config_from_mapping",
    "load_config",
    "load_config_text",
]


class MastodonConfig(StrictModel):
    """How to reach the account."""

    #: The instance, e.g. ``https://mastodon.example``, or ``sandbox`` for the embedded instance.
    api_base_url: str
    #: The access token (write ``${CIVICBOT_ACCESS_TOKEN}``), or use ``access_token_file``.
    access_token: SecretStr | None = None
    #: How long one request to the instance may take.
    request_timeout: Duration = timedelta(seconds=30)
    #: Attempts for a post that meets 5xx or network errors, before it is left pending.
    max_attempts: int = 5
    #: The User-Agent header sent to the instance.
    user_agent: str = "civicbot"
    #: The instance's post length limit; by default read from the instance (500 if unknown).
    max_characters: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _token_file(cls, data: Any, info: ValidationInfo) -> Any:
        return secrets_from_files(cls, data, info)

    @model_validator(mode="after")
    def _need_token(self) -> MastodonConfig:
        if self.api_base_url != SANDBOX:
            if not self.api_base_url.startswith(("http://", "https://")):
                raise ValueError("api_base_url: expected https://your.instance or 'sandbox'")
            scheme, _, rest = self.api_base_url.partition("://")
            host, _, page = rest.partition("/")
            if page.startswith("@") or "/@" in f"/{page}":
                raise ValueError(f"api_base_url: {self.api_base_url} is a profile page; write "
                                 f"only the instance, {scheme}://{host} (the account is the "
                                 "token's)")
            if self.access_token is None or not self.access_token.get_secret_value():
                raise ValueError("access_token (or access_token_file) is required")
        return self


class StreamConfig(StrictModel):
    """How notifications are received."""

    #: ``auto`` tries HTTP streaming, then WebSocket, then polling.
    transport: Literal["auto", "sse", "websocket", "poll"] = "auto"
    #: Reconnect when nothing (event or heartbeat) arrived for this long.
    watchdog: Duration = timedelta(seconds=45)
    #: First wait before reconnecting; it doubles (with jitter) after each failure...
    backoff_initial: Duration = timedelta(seconds=1)
    #: ...up to this cap, and starts again after a healthy connection.
    backoff_max: Duration = timedelta(seconds=60)
    #: With ``transport: poll`` (or when the server has no streaming), how often to ask.
    poll_interval: Duration = timedelta(seconds=30)
    #: While residents are talking (a mention in the last round), poll this often, backing
    #: off to ``poll_interval`` when idle (never faster than the rate limit allows).
    poll_interval_busy: Duration = timedelta(seconds=5)
    #: Streaming failing this long (3 times at least) while REST answers: poll instead...
    fallback_after: Duration = timedelta(seconds=30)
    #: ...and try streaming again this often.
    stream_retry: Duration = timedelta(minutes=10)
    #: Mentions older than this (first start, long outage) are recorded as seen, not answered.
    max_mention_age: Duration = timedelta(hours=24)
    #: Notifications waiting for the plugins; when full, the stream reader waits.
    queue_size: int = 1000
    #: How long shutdown waits for in-flight handlers.
    shutdown_grace: Duration = timedelta(seconds=10)


class SchedulerConfig(StrictModel):
    """Defaults for scheduled jobs."""

    #: A run missed by less than this (downtime) still happens at start; older ones are skipped.
    misfire_grace: Duration = timedelta(hours=1)
    #: How often drafts left pending by errors are retried.
    retry_pending: Duration = timedelta(minutes=5)


class LogConfig(StrictModel):
    """How civicbot logs (the CLI's ``--log-format`` and ``--log-level`` override it)."""

    #: ``console`` is for people, ``json`` (one object per line) for journald and log tools;
    #: ``auto`` picks console on a terminal.
    format: Literal["auto", "console", "json"] = "auto"
    #: The least important level written.
    level: Literal["debug", "info", "warning", "error"] = "info"


class AccountConfig(StrictModel):
    """One account of a multi-account daemon (``accounts:``)."""

    #: The account's name in logs, metrics and the state store (``ville``, ``musee``...).
    name: str
    #: How to reach this account.
    mastodon: MastodonConfig
    #: Overrides the top-level ``language`` for this account.
    language: str | None = None
    #: Overrides the top-level ``timezone`` for this account.
    timezone: TimeZoneName | None = None
    #: Plugins not to load for this account, on top of the top-level list.
    disable_plugins: list[str] = []
    #: Overrides the top-level ``channels`` for this account.
    channels: ChannelNames | None = None
    #: Plugin sections of this account (they override top-level sections of the same name).
    plugins: dict[str, Any] = {}


class CoreConfig(StrictModel):
    """The top level of the YAML file."""

    mastodon: MastodonConfig | None = None
    accounts: list[AccountConfig] | None = None
    #: The account's name in logs and in the state store (single-account form).
    name: str = "default"
    #: The time zone of schedules and of the dates residents read.
    timezone: TimeZoneName = "Europe/Paris"
    #: Language of posts and replies (``fr`` or ``en``), sent as each post's language tag.
    language: str = "fr"
    #: The state store: an SQLite file (one daemon), or a ``postgresql://`` URL shared by
    #: several daemons (see ``cluster``).
    state: StateLocation = Path("civicbot.sqlite3")
    #: The PostgreSQL password, when not in the URL (better: ``state_password_file``).
    state_password: SecretStr | None = None
    #: How daemons sharing a PostgreSQL state split the accounts.
    cluster: ClusterConfig = ClusterConfig()
    #: Log posts instead of sending them (like ``civicbot run --dry-run``).
    dry_run: bool = False
    #: Where posts go when neither the post nor its job says: ``mastodon`` and the channels
    #: that plugins add (``bluesky``). Replies to residents always stay on Mastodon.
    channels: ChannelNames = ("mastodon",)
    #: Plugins never to load, by name (``weather``, ``core.pending``...).
    disable_plugins: list[str] = []
    stream: StreamConfig = StreamConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    log: LogConfig = LogConfig()
    #: ``host:port`` of the health and metrics endpoint (``civicbot run --http`` overrides it).
    http: str | None = None
    #: The editorial desk (a web page served with ``--http``); see the desk guide.
    desk: DeskConfig | None = None
    plugins: dict[str, Any] = {}

    @field_validator("plugins", "disable_plugins", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return {} if info.field_name == "plugins" else []
        return value

    @model_validator(mode="before")
    @classmethod
    def _password_file(cls, data: Any, info: ValidationInfo) -> Any:
        return secrets_from_files(cls, data, info)

    @model_validator(mode="after")
    def _one_form(self) -> CoreConfig:
        if self.mastodon is None and not self.accounts:
            raise ValueError("either mastodon (one account) or accounts (several) is required")
        if self.mastodon is not None and self.accounts:
            raise ValueError("give mastodon (one account) or accounts (several), not both")
        if self.accounts:
            names = [a.name for a in self.accounts]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"account names must be unique: {', '.join(dupes)}")
        return self


@dataclass
class AccountSettings:
    """Everything one :class:`civicbot.Bot` needs: the core settings merged for one account."""

    name: str
    mastodon: MastodonConfig
    language: str
    timezone: ZoneInfo
    disable_plugins: list[str]
    plugins: dict[str, BaseModel]
    core: CoreConfig
    yaml_path: Path_ = ()
    channels: tuple[str, ...] = ("mastodon",)


@dataclass
class Config:
    """A validated configuration."""

    core: CoreConfig
    accounts: list[AccountSettings]
    path: Path | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    raw: Any = None
    lines: dict[Path_, int] = field(default_factory=dict)
    #: Mistakes that do not stop the bot (a token written in the file...), as
    #: ``file:line: key: warning: ...``; ``check-config`` prints them, ``run`` logs them.
    warnings: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return str(self.path) if self.path else "<config>"

    def account(self, name: str | None = None) -> AccountSettings:
        if name is None:
            if len(self.accounts) != 1:
                names = ", ".join(a.name for a in self.accounts)
                raise ConfigError(f"{self.filename}: several accounts ({names}): name one")
            return self.accounts[0]
        for account in self.accounts:
            if account.name == name:
                return account
        raise ConfigError(f"{self.filename}: no account named {name!r}")

    def line_of(self, path: Path_) -> int:
        return line_of(self.lines, path)


def load_config(
    path: str | Path,
    pm: pluggy.PluginManager | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Load and validate a config file. ``pm`` supplies plugin schemas (default: every plugin)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    return load_config_text(text, filename=str(path), base_dir=path.resolve().parent, pm=pm,
                            env=env, path=path)


def load_config_text(
    text: str,
    *,
    filename: str = "<config>",
    base_dir: Path | None = None,
    pm: pluggy.PluginManager | None = None,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> Config:
    env = os.environ if env is None else env
    substituted: set[Path_] = set()
    data, lines = load_yaml_text(text, filename, env, substituted)
    return config_from_mapping(data, lines=lines, filename=filename, base_dir=base_dir, pm=pm,
                               path=path, substituted=substituted)


def config_from_mapping(
    data: Any,
    *,
    lines: dict[Path_, int] | None = None,
    filename: str = "<config>",
    base_dir: Path | None = None,
    pm: pluggy.PluginManager | None = None,
    path: Path | None = None,
    substituted: set[Path_] | None = None,
) -> Config:
    """Validate already-loaded data (what :class:`civicbot.Bot`'s constructor uses).
    ``substituted``: the paths of values read from ``${ENV}`` (a secret elsewhere is warned
    about; ``None``: data not read from a file, no warning)."""
    lines = lines if lines is not None else {}
    base_dir = base_dir or Path.cwd()
    if not isinstance(data, dict):
        raise ConfigError(f"{filename}:1: the file must be a mapping of keys (mastodon:, ...)")
    warnings: list[str] = []
    context: dict[str, Any] = {"base_dir": base_dir, "warnings": warnings}
    problems: list[str] = []
    try:
        core = CoreConfig.model_validate(data, context=context)
    except ValidationError as exc:
        problems.extend(_format_errors(exc, (), lines, filename, CoreConfig))
        raise ConfigError(problems) from None

    if pm is None:
        from civicbot.plugins import make_plugin_manager

        pm = make_plugin_manager()
    from civicbot.hooks import Hooks

    schemas = Hooks(pm).config_schema_refs()
    accounts: list[AccountSettings] = []
    if core.accounts:
        for i, acc in enumerate(core.accounts):
            prefix: Path_ = ("accounts", i)
            disabled = [*core.disable_plugins, *acc.disable_plugins]
            sections = {**core.plugins, **acc.plugins}
            plugin_models = _validate_plugins(
                sections, schemas, disabled, prefix, lines, filename, context, problems,
                own=set(acc.plugins),
            )
            accounts.append(AccountSettings(
                name=acc.name, mastodon=acc.mastodon, language=acc.language or core.language,
                timezone=ZoneInfo(acc.timezone or core.timezone), disable_plugins=disabled,
                plugins=plugin_models, core=core, yaml_path=prefix,
                channels=tuple(acc.channels if acc.channels is not None else core.channels),
            ))
    else:
        assert core.mastodon is not None
        plugin_models = _validate_plugins(
            core.plugins, schemas, core.disable_plugins, (), lines, filename, context, problems,
            own=set(core.plugins),
        )
        accounts.append(AccountSettings(
            name=core.name, mastodon=core.mastodon, language=core.language,
            timezone=ZoneInfo(core.timezone), disable_plugins=list(core.disable_plugins),
            plugins=plugin_models, core=core, channels=tuple(core.channels),
        ))
    if problems:
        raise ConfigError(problems)
    clear: list[str] = []
    if substituted is not None:
        clear = secrets_in_clear(data, lines, substituted, filename, schemas)
    return Config(core=core, accounts=accounts, path=path, base_dir=base_dir, raw=data,
                  lines=lines, warnings=[*clear, *(f"{filename}: warning: {w}" for w in warnings)])


def _validate_plugins(
    sections: Mapping[str, Any],
    schemas: Mapping[str, tuple[str, type[BaseModel] | str]],
    disabled: list[str],
    prefix: Path_,
    lines: dict[Path_, int],
    filename: str,
    context: dict[str, Any],
    problems: list[str],
    own: set[str],
) -> dict[str, BaseModel]:
    out: dict[str, BaseModel] = {}
    for section, raw in sections.items():
        ypath: Path_ = (*prefix, "plugins", section) if section in own else ("plugins", section)
        if section not in schemas:
            if section in disabled:
                continue
            import difflib

            known = ", ".join(sorted(schemas)) or "none"
            close = difflib.get_close_matches(section, list(schemas), n=1, cutoff=0.7)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            problems.append(
                f"{filename}:{line_of(lines, ypath)}: {dotted(ypath)}: unknown plugin section "
                f"(known: {known}){hint}"
            )
            continue
        plugin_name, ref = schemas[section]
        if section in disabled or plugin_name in disabled:
            continue
        from civicbot.hooks import resolve_model

        model = resolve_model(plugin_name, section, ref)  # imported only when configured
        try:
            out[section] = model.model_validate({} if raw is None else raw, context=context)
        except ValidationError as exc:
            problems.extend(_format_errors(exc, ypath, lines, filename, model))
    return out


_FRIENDLY = {
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected text",
    "extra_forbidden": "unknown key (check its spelling)",
    "missing": "required key is missing",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "list_type": "expected a list",
    "datetime_parsing": "expected a date and time such as 2026-12-20T09:00:00+01:00",
    "datetime_from_date_parsing": "expected a date and time such as 2026-12-20T09:00:00+01:00",
}


def _format_errors(
    exc: ValidationError, prefix: Path_, lines: dict[Path_, int], filename: str,
    model: type[BaseModel] | None = None,
) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        inner: Path_ = tuple(p for p in err["loc"] if not _is_union_tag(p))
        loc: Path_ = (*prefix, *inner)
        message = _FRIENDLY.get(err["type"])
        if message is None:
            message = str(err["msg"])
            if message.startswith("Value error, "):
                message = message[len("Value error, "):]
            elif message.startswith("Assertion failed, "):
                message = message[len("Assertion failed, "):]
        elif err["type"] in {"literal_error", "enum"}:
            message = str(err["msg"])
        if err["type"] == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            message = f"expected one of {expected}"
        if err["type"] == "extra_forbidden":
            message += _did_you_mean(inner, model)
        out.append(f"{filename}:{line_of(lines, loc)}: {dotted(loc)}: {message}")
    return out


def _did_you_mean(loc: Path_, model: type[BaseModel] | None) -> str:
    """``; did you mean `hashtags`?`` when a known key of the same model is close."""
    import difflib

    if not loc or not isinstance(loc[-1], str):
        return ""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field_info = current.model_fields.get(part)
        current = None if field_info is None else _model_in(field_info.annotation)
    if current is None:
        return ""
    close = difflib.get_close_matches(loc[-1], list(current.model_fields), n=1, cutoff=0.7)
    return f"; did you mean `{close[0]}`?" if close else ""


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside ``X``, ``X | None``, ``list[X]``."""
    from typing import get_args

    from pydantic import BaseModel as _Base

    if isinstance(annotation, type) and issubclass(annotation, _Base):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _is_secret(annotation: Any) -> bool:
    from typing import get_args

    return annotation is SecretStr or any(_is_secret(a) for a in get_args(annotation))


def secrets_in_clear(data: Any, lines: Mapping[Path_, int], substituted: set[Path_],
                     filename: str,
                     schemas: Mapping[str, tuple[str, type[BaseModel] | str]] | None = None
                     ) -> list[str]:
    """Warnings for secrets (``SecretStr`` fields of the core's and the plugins' models)
    written in the file instead of ``${ENV}`` or ``*_file``."""
    out: list[str] = []

    def walk(node: Any, model: Any, path: Path_) -> None:
        if isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, model, (*path, i))
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            child = (*path, key)
            if model is None:
                continue
            if key == "plugins" and model in (CoreConfig, AccountConfig):
                for section, raw in (value or {}).items() if isinstance(value, dict) else ():
                    found = (schemas or {}).get(section)
                    if found is None:
                        walk(raw, None, (*child, section))
                        continue
                    from civicbot.hooks import resolve_model  # configured: already imported

                    try:
                        model_of_section: Any = resolve_model(found[0], section, found[1])
                    except PluginError:  # a disabled plugin's broken reference
                        model_of_section = None
                    walk(raw, model_of_section, (*child, section))
                continue
            field_info = model.model_fields.get(key)
            if field_info is None:
                continue
            if _is_secret(field_info.annotation):
                if isinstance(value, str) and value.strip() and child not in substituted:
                    variable = "CIVICBOT_ACCESS_TOKEN" if key == "access_token" else \
                        f"CIVICBOT_{str(path[-1] if path else key).upper()}_{key.upper()}"
                    out.append(
                        f"{filename}:{line_of(lines, child)}: {dotted(child)}: warning: a "
                        f"secret is written in the config file; put it in an environment "
                        f"variable ({key}: ${{{variable}}}) or in a file readable only by the "
                        f"bot ({key}_file: /etc/civicbot/{key})")
                continue
            walk(value, _model_in(field_info.annotation), child)

    walk(data, CoreConfig, ())
    return out


def _is_union_tag(part: Any) -> bool:
    # pydantic puts the union member's type name in the location (e.g. "function-after[...]")
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float"})


__all__ += ["CoreConfig", "LogConfig", "SchedulerConfig", "StreamConfig", "StrictModel"]
