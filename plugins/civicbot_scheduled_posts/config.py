"""The ``plugins.scheduled_posts`` config section and the shape of one post.

The same :class:`PostSpec` model validates posts written in the YAML config (errors come with
the file's line numbers) and posts written as Markdown files in ``posts_dir`` (errors name the
file; see :mod:`civicbot_scheduled_posts.post_files`).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from civicbot import ChannelNames, ConfigPath, CronExpression, Duration, PluginConfig
from civicbot_scheduled_posts.templates import (
    RESERVED_NAMES,
    check_template,
    unknown_names,
)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
MAX_MEDIA = 4
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MediaSpec(_Strict):
    """An image attached to a post; ``description`` is its alt text, mandatory."""

    path: ConfigPath
    description: str

    @field_validator("path")
    @classmethod
    def _normalise(cls, value: Path) -> Path:
        return Path(os.path.normpath(value))

    @field_validator("description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the description (alt text) cannot be empty")
        return value.strip()


class PostSpec(_Strict):
    """One planned post: an id, when (``at``, ``cron`` or ``every``) and what."""

    id: str
    at: datetime | None = None
    cron: CronExpression | None = None
    every: Duration | None = None
    start: datetime | None = None
    until: datetime | None = None
    text: str = ""
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    spoiler_text: str = ""
    language: str | None = None
    media: list[MediaSpec] = []
    thread: list[str] = []
    pin: bool = False
    native: bool = False
    #: ``required``: the post waits on the desk for an approver before it goes out.
    approval: Literal["required", "never"] = "never"
    #: Where the post (and its thread) go (``[mastodon, bluesky]``); default: the top-level
    #: ``channels``.
    channels: ChannelNames | None = None

    @model_validator(mode="before")
    @classmethod
    def _alt_text_first(cls, data: Any) -> Any:
        """A missing alt text is an error that names the post (not just ``media.0``)."""
        if not isinstance(data, dict):
            return data
        media = data.get("media")
        if isinstance(media, list):
            for item in media:
                if isinstance(item, dict) and not str(item.get("description") or "").strip():
                    raise ValueError(
                        f"post {data.get('id')!r}: media {item.get('path')!r} has no "
                        "description (alt text); write what the image shows, for people "
                        "who cannot see it")
        for key in ("thread", "media"):
            if data.get(key) is None and key in data:
                data = {**data, key: []}
        return data

    @field_validator("at", "start", "until", mode="before")
    @classmethod
    def _need_a_time(cls, value: Any) -> Any:
        if (isinstance(value, date) and not isinstance(value, datetime)) or (
                isinstance(value, str) and _DATE_ONLY.match(value.strip())):
            raise ValueError(f"a time is needed too, e.g. {value}T09:00:00 "
                             "(a date alone would mean midnight)")
        return value

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"invalid id {value!r}: use letters, digits, '-' and '_' "
                             "(e.g. horaires-noel), at most 80 characters")
        return value

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str | None) -> str | None:
        if value is not None and not _LANGUAGE.match(value):
            raise ValueError(f"expected a language code such as fr or en, got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_post(self) -> PostSpec:
        name = f"post {self.id!r}"
        kinds = [k for k in ("at", "cron", "every") if getattr(self, k) is not None]
        if len(kinds) != 1:
            found = ", ".join(kinds) if kinds else "none"
            raise ValueError(f"{name}: give exactly one of at, cron or every (found: {found})")
        if self.at is not None and (self.start is not None or self.until is not None):
            raise ValueError(f"{name}: start and until only apply to cron and every posts")
        if self.every is not None and self.every <= timedelta(0):
            raise ValueError(f"{name}: every must be a positive duration such as 2h or 1d")
        if (self.start is not None and self.until is not None
                and (self.start.tzinfo is None) == (self.until.tzinfo is None)
                and self.until <= self.start):
            raise ValueError(f"{name}: until must come after start")
        if len(self.media) > MAX_MEDIA:
            raise ValueError(f"{name}: at most {MAX_MEDIA} images per post")
        if not self.text.strip() and not self.media:
            raise ValueError(f"{name}: the text is empty")
        if self.native:
            if self.at is None:
                raise ValueError(f"{name}: native scheduling is only for one-off posts (at)")
            if self.thread:
                raise ValueError(f"{name}: a native post cannot have a thread (Mastodon "
                                 "cannot schedule replies to a post not yet published)")
            if self.pin:
                raise ValueError(f"{name}: a native post cannot be pinned")
        for label, source in [("text", self.text)] + [
                (f"thread[{i}]", t) for i, t in enumerate(self.thread)]:
            if not source.strip():
                raise ValueError(f"{name}: {label} is empty")
            try:
                check_template(source)
            except ValueError as exc:
                raise ValueError(f"{name}: {label}: {exc}") from None
        return self

    @property
    def kind(self) -> Literal["at", "cron", "every"]:
        if self.at is not None:
            return "at"
        return "cron" if self.cron is not None else "every"


class ScheduledPostsConfig(PluginConfig):
    """``plugins.scheduled_posts``."""

    #: A post missed by less than this (downtime) still goes out at start; default: the core's
    #: ``scheduler.misfire_grace`` (1h).
    misfire_grace: Duration | None = None
    #: A folder of Markdown files with YAML front matter, one post per file.
    posts_dir: ConfigPath | None = None
    #: How often ``posts_dir`` is rescanned for new, changed and deleted files.
    reload_interval: Duration = timedelta(seconds=10)
    #: Posts written in the config.
    posts: list[PostSpec] = Field(default_factory=list)
    #: Values available in every post's template (``{{ vars.site }}`` or ``{{ site }}``).
    vars: dict[str, Any] = Field(default_factory=dict)

    @field_validator("posts", "vars", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any, info: Any) -> Any:
        if value is None:
            return [] if info.field_name == "posts" else {}
        return value

    @field_validator("vars")
    @classmethod
    def _vars_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        taken = sorted(RESERVED_NAMES & set(value))
        if taken:
            raise ValueError(f"these names are reserved in templates: {', '.join(taken)}")
        return value

    @field_validator("reload_interval")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("reload_interval must be at least 1s")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> ScheduledPostsConfig:
        counts = Counter(p.id for p in self.posts)
        dupes = sorted(i for i, n in counts.items() if n > 1)
        if dupes:
            raise ValueError(f"post ids must be unique; used more than once: {', '.join(dupes)}")
        # a typo such as {{ stie }} is found now, not when the post is due
        for index, post in enumerate(self.posts):
            for label, source in [("text", post.text)] + [
                    (f"thread[{i}]", t) for i, t in enumerate(post.thread)]:
                unknown = unknown_names(source, self.vars)
                if unknown:
                    raise ValueError(
                        f"posts[{index}] (post {post.id!r}): {label}: unknown name"
                        f"{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} in the template "
                        f"(known: now, date, time, vars and the keys of vars: "
                        f"{', '.join(sorted(self.vars)) or 'none'})")
        return self
