"""The ``news`` configuration section, validated by pydantic (unknown keys are errors)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, TypeAdapter, ValidationInfo, field_validator, model_validator

from civicbot import ChannelNames, ConfigPath, Duration, PluginConfig, camel_hashtag

LANGUAGES = ("fr", "en")
Visibility = Literal["public", "unlisted", "private", "direct"]
_PATH = TypeAdapter(ConfigPath)
#: Polls faster than this are accepted (tests, demos) with a warning at start.
FAST_POLL = timedelta(minutes=1)


def _location(value: str, info: ValidationInfo) -> str:
    """An http(s) URL stays as it is; a file path is resolved against the config's folder."""
    value = value.strip()
    if not value:
        raise ValueError("expected a feed URL (https://...) or a file path")
    if value.startswith(("http://", "https://")):
        return value
    if "://" in value or value.startswith("www."):
        raise ValueError(f"expected an http(s) URL such as https://{value.split('://')[-1]} "
                         "or a file path")
    return str(_PATH.validate_python(value, context=info.context))


class Filters(PluginConfig):
    """Which items of a feed are posted. Category names and keywords are compared without
    case or accents; keywords are looked for in the title and summary, as whole words."""

    #: Post only items having at least one of these categories (empty: every category).
    include_categories: list[str] = Field(default_factory=list)
    #: Never post items having one of these categories.
    exclude_categories: list[str] = Field(default_factory=list)
    #: Post only items whose title or summary names one of these words (empty: any).
    include_keywords: list[str] = Field(default_factory=list)
    #: Never post items whose title or summary names one of these words.
    exclude_keywords: list[str] = Field(default_factory=list)


class FeedTemplates(PluginConfig):
    """Override the post template (sandboxed Jinja2; variables: ``title``, ``summary``,
    ``link``, ``author``, ``published`` (a date), ``categories``, ``feed``)."""

    post: str | None = None


class FeedConfig(PluginConfig):
    """One feed (RSS, Atom or JSON Feed); its ``id`` is its job id."""

    #: The job id (``civicbot preview ID``) and the feed's name in logs.
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    #: The feed's URL (``https://...``) or a file path (relative to the config file).
    url: str
    #: How often the feed is read (``30s``, ``10m``, ``1h``); under 1m is meant for tests.
    every: Duration = timedelta(minutes=10)
    #: On the first read of a feed, how many of its newest items are posted (the rest is
    #: only remembered, so that adding a feed does not flood the timeline).
    backfill: int = Field(default=0, ge=0, le=20)
    #: At most this many posts per read; the others wait for the next reads, oldest first.
    max_per_run: int = Field(default=3, ge=1, le=20)
    #: Hashtags added to every post of the feed (written in CamelCase).
    hashtags: list[str] = Field(default_factory=list)
    #: Also turn the item's categories into hashtags (at most ``max_category_hashtags``).
    category_hashtags: bool = False
    max_category_hashtags: int = Field(default=3, ge=0, le=10)
    filters: Filters = Field(default_factory=Filters)
    visibility: Visibility = "public"
    #: Where this job's posts go (``[mastodon, bluesky]``); default: the top-level ``channels``.
    channels: ChannelNames | None = None
    #: Language of the posts (default: the plugin's, else the account's).
    language: str | None = None
    #: Images of the items: ``feed_alt`` attaches an item's image only when the feed gives its
    #: description; ``title`` also uses the item's title after ``image_alt_prefix``; ``none``
    #: never attaches images. An image without alt text is never posted.
    images: Literal["feed_alt", "title", "none"] = "title"
    image_alt_prefix: str = "Illustration : "
    #: Length of the summary in the default template (characters, cut at a word).
    summary_length: int = Field(default=200, ge=0, le=2000)
    templates: FeedTemplates = Field(default_factory=FeedTemplates)
    #: Headers sent with the request (e.g. an API key: write ``${NEWS_KEY}``).
    headers: dict[str, str] = Field(default_factory=dict)

    _url = field_validator("url")(_location)

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            camel_hashtag(tag)  # raises ValueError("no letters in hashtag ...")
        return tags

    @field_validator("every")
    @classmethod
    def _every(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=5):
            raise ValueError("a feed is read at most every 5s (write e.g. 10m)")
        return value

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: FeedTemplates) -> FeedTemplates:
        if value.post is not None:
            from civicbot_news.render import check_template

            check_template(value.post)
        return value


class NewsConfig(PluginConfig):
    """Relay the news of websites (RSS, Atom, JSON Feed) as posts, once each."""

    feeds: list[FeedConfig] = Field(default_factory=list)
    #: Language of the posts and default templates (``fr`` or ``en``; default: the account's).
    language: str | None = None
    #: Total time one read of a feed may take.
    timeout: Duration = timedelta(seconds=20)
    #: Largest feed accepted (bytes, counted decompressed).
    max_feed_bytes: int = Field(default=10_000_000, ge=1000)
    #: Largest image downloaded for a post (bytes).
    max_image_bytes: int = Field(default=8_000_000, ge=1000)
    user_agent: str = "civicbot news relay (+https://github.com/civicbot)"
    #: A read returning fewer than this share of the items the feed usually holds is taken for
    #: a broken feed: logged, nothing posted, nothing forgotten.
    min_items_ratio: float = Field(default=0.3, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _unique_ids(self) -> NewsConfig:
        seen: set[str] = set()
        for feed in self.feeds:
            if feed.id in seen:
                raise ValueError(f"two feeds have the id {feed.id!r}; each id must be unique")
            seen.add(feed.id)
        return self

    def describe(self) -> dict[str, Any]:
        return {"feeds": [f.id for f in self.feeds]}
