"""The ``event_digest`` configuration section, validated by pydantic (unknown keys are errors)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import (
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from civicbot import (
    ChannelNames,
    ConfigPath,
    CronExpression,
    Duration,
    PluginConfig,
    TimeZoneName,
    WebUrl,
    camel_hashtag,
)

LANGUAGES = ("fr", "en")
Visibility = Literal["public", "unlisted", "private", "direct"]
_PATH = TypeAdapter(ConfigPath)
_URL = TypeAdapter(WebUrl)


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _location(value: str, info: ValidationInfo) -> str:
    """A URL stays as it is; a file path is resolved against the config file's folder."""
    value = value.strip()
    if not value:
        raise ValueError("expected a URL (https://...) or a file path")
    if is_url(value):
        return value
    if "://" in value or value.lower().startswith("www."):
        try:  # refused with the fix: "write https://..."
            _URL.validate_python(value)
        except ValidationError as exc:
            raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    return str(_PATH.validate_python(value, context=info.context))


def _check_hashtags(tags: list[str] | None) -> list[str] | None:
    if tags is not None:
        for tag in tags:
            camel_hashtag(tag)  # raises ValueError("no letters in hashtag ...")
    return tags


class OpenAgendaSource(PluginConfig):
    """An agenda on OpenAgenda (API v2)."""

    #: The agenda's numeric uid (in the agenda's URL on openagenda.com, or its settings).
    agenda: str
    #: The API key (write ``${OPENAGENDA_KEY}`` or use ``key_file``); sent in the ``key`` header.
    key: SecretStr
    base_url: str = "https://api.openagenda.com/v2"
    #: Link of each event; ``{agenda}``, ``{uid}`` and ``{slug}`` are replaced.
    event_url: str = "https://openagenda.com/agendas/{agenda}/events/{uid}"
    page_size: int = Field(default=100, ge=1, le=300)
    max_pages: int = Field(default=20, ge=1, le=200)

    @field_validator("agenda", mode="before")
    @classmethod
    def _agenda(cls, value: Any) -> str:
        text = str(value).strip()
        if not text.isdigit():
            raise ValueError(f"expected the agenda's numeric uid, got {value!r}")
        return text

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not is_url(value):
            raise ValueError("expected an http(s) URL such as https://api.openagenda.com/v2")
        return value.rstrip("/")


class SourceConfig(PluginConfig):
    """One agenda: exactly one of ``ics``, ``openagenda`` or ``jsonld``."""

    name: str = Field(min_length=1)
    #: How the source is named in sentences ("de la Bibliothèque"); default « name ».
    label: str | None = None
    #: An iCalendar feed: URL or file path (relative to the config file).
    ics: str | None = None
    openagenda: OpenAgendaSource | None = None
    #: A web page holding schema.org ``Event`` JSON-LD: URL or file path.
    jsonld: str | None = None
    #: Time zone of floating times (default: the calendar's X-WR-TIMEZONE, then the bot's).
    timezone: TimeZoneName | None = None
    #: Overrides the plugin's ``timeout`` for this source.
    timeout: Duration | None = None

    @field_validator("ics", "jsonld")
    @classmethod
    def _where(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else _location(value, info)

    @model_validator(mode="after")
    def _one_kind(self) -> SourceConfig:
        kinds = [k for k in ("ics", "openagenda", "jsonld") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"source {self.name!r}: give exactly one of ics, openagenda or "
                             f"jsonld (got {', '.join(kinds) or 'none'})")
        return self

    @property
    def kind(self) -> str:
        return "ics" if self.ics else "openagenda" if self.openagenda else "jsonld"


class EmptyText(PluginConfig):
    """Post this text when the window holds no event (a template: ``{{ period }}``...)."""

    text: str = Field(min_length=1)


Empty = Literal["skip"] | EmptyText


class NextDays(PluginConfig):
    next_days: int = Field(ge=1, le=62)


Window = Literal["this_week", "weekend", "today"] | NextDays


class Templates(PluginConfig):
    """Jinja2 templates (sandboxed) replacing the default French or English ones."""

    header: str | None = None
    day: str | None = None
    event: str | None = None
    failure: str | None = None
    footer: str | None = None
    new_event: str | None = None
    reminder: str | None = None

    @field_validator("*")
    @classmethod
    def _compiles(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            try:
                SandboxedEnvironment().parse(value)
            except TemplateSyntaxError as exc:
                raise ValueError(f"template {info.field_name}: line {exc.lineno}: "
                                 f"{exc.message}") from exc
        return value


class DigestConfig(PluginConfig):
    """A digest job: its id is the job id (``civicbot preview <id>``)."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    #: Standard 5-field crontab in the bot's time zone ("0 8 * * 1": Mondays at 08:00).
    cron: CronExpression | None = None
    #: Or a fixed interval ("1d"); give cron or every.
    every: Duration | None = None
    window: Window = "this_week"
    hashtags: list[str] | None = None
    language: Literal["fr", "en"] | None = None
    visibility: Visibility = "public"
    empty: Empty | None = None
    templates: Templates | None = None
    misfire_grace: Duration | None = None
    #: Where this job's posts go (``[mastodon, bluesky]``); default: the top-level ``channels``.
    channels: ChannelNames | None = None
    #: At most this many events (the earliest); a last line says how many more there are.
    max_events: int = Field(default=40, ge=1, le=500)
    #: ``required``: the digest waits on the desk for an approver before it goes out.
    approval: Literal["required", "never"] = "never"

    _hashtags = field_validator("hashtags")(_check_hashtags)

    @model_validator(mode="after")
    def _when(self) -> DigestConfig:
        if (self.cron is None) == (self.every is None):
            raise ValueError(f"digest {self.id!r}: give either cron or every")
        return self


class NewEventsConfig(PluginConfig):
    """A post when a new event appears in a source (off by default)."""

    enabled: bool = False
    id: str = "event_digest_new_events"
    every: Duration = timedelta(hours=1)
    #: How far ahead events are watched.
    horizon: Duration = timedelta(days=60)
    #: At most this many announcements per check (the others wait for the next check).
    max_per_run: int = Field(default=5, ge=1)
    hashtags: list[str] | None = None
    visibility: Visibility = "public"
    #: Where this job's posts go (``[mastodon, bluesky]``); default: the top-level ``channels``.
    channels: ChannelNames | None = None

    _hashtags = field_validator("hashtags")(_check_hashtags)


class RemindersConfig(PluginConfig):
    """A reminder some hours before each event (off by default)."""

    enabled: bool = False
    id: str = "event_digest_reminders"
    before: Duration = timedelta(hours=24)
    every: Duration = timedelta(minutes=15)
    max_per_run: int = Field(default=5, ge=1)
    hashtags: list[str] | None = None
    visibility: Visibility = "public"
    #: Where this job's posts go (``[mastodon, bluesky]``); default: the top-level ``channels``.
    channels: ChannelNames | None = None

    _hashtags = field_validator("hashtags")(_check_hashtags)


class CommandsConfig(PluginConfig):
    """Mention commands "agenda", "ce week-end", "aujourd'hui" (answered by auto_reply)."""

    enabled: bool = True
    #: How many days ahead "agenda" looks.
    agenda_days: int = Field(default=7, ge=1, le=62)
    max_events: int = Field(default=5, ge=1, le=20)


class EventDigestConfig(PluginConfig):
    """``plugins.event_digest``."""

    sources: list[SourceConfig] = Field(min_length=1)
    digests: list[DigestConfig] = Field(default_factory=list)
    empty: Empty = "skip"
    hashtags: list[str] = Field(default_factory=list)
    language: Literal["fr", "en"] | None = None
    #: The whole fetch of one source (redirects included) must end within it, however slowly
    #: the server sends.
    timeout: Duration = timedelta(seconds=15)
    #: Feeds larger than this many bytes (counted decompressed) are refused (the source counts
    #: as failed).
    max_feed_bytes: int = Field(default=20_000_000, ge=1000)
    user_agent: str = "civicbot-event-digest"
    #: A page with the full agenda, linked from command replies.
    agenda_url: WebUrl | None = None
    templates: Templates = Templates()
    new_events: NewEventsConfig = NewEventsConfig()
    reminders: RemindersConfig = RemindersConfig()
    commands: CommandsConfig = CommandsConfig()

    _hashtags = field_validator("hashtags")(_check_hashtags)

    @model_validator(mode="after")
    def _unique(self) -> EventDigestConfig:
        names = [s.name for s in self.sources]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"two sources are named {name!r}")
        ids = [d.id for d in self.digests]
        ids += [j.id for j in (self.new_events, self.reminders) if j.enabled]
        for job_id in ids:
            if ids.count(job_id) > 1:
                raise ValueError(f"job id {job_id!r} is used twice")
        return self
