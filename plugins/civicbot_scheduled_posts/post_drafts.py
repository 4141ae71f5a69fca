"""Turn a :class:`PostSpec` into the :class:`civicbot.PostDraft` list the core publishes.

Dedup keys are ``scheduled_posts:<id>:<scheduled time in UTC>`` (thread parts add
``:thread<n>``), so a run is posted once whatever happens: restart, ``kill -9``, coalesced runs.
Native posts add a hash of their content (``:native:<hash>``), so an edited native post is a new
server-side scheduled status.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from civicbot import PREVIOUS, JobError, Media, PostDraft
from civicbot_scheduled_posts.config import PostSpec
from civicbot_scheduled_posts.templates import TemplateProblem, render

PREFIX = "scheduled_posts"


def utc_stamp(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def dedup_base(post_id: str, scheduled_time: datetime) -> str:
    return f"{PREFIX}:{post_id}:{utc_stamp(scheduled_time)}"


def build_drafts(
    post: PostSpec,
    *,
    now: datetime,
    scheduled_time: datetime,
    variables: Mapping[str, Any],
    default_language: str,
    check_media: bool = True,
) -> list[PostDraft]:
    """The drafts of one run: the post, then its thread answering it in order.

    Raises :class:`civicbot.JobError` (naming the post) when a template fails or an image is
    missing, so that ``civicbot preview`` reports it and nothing half-done is posted.
    """
    locale = post.language or default_language
    try:
        texts = [render(source, now=now, locale=locale, variables=variables)
                 for source in (post.text, *post.thread)]
    except TemplateProblem as exc:
        raise JobError(f"post {post.id!r}: {exc}") from None
    if check_media:
        for item in post.media:
            if not item.path.is_file():
                raise JobError(f"post {post.id!r}: media file not found: {item.path}")
    base = dedup_base(post.id, scheduled_time)
    drafts = [PostDraft(
        text=texts[0], dedup_key=base, visibility=post.visibility,
        spoiler_text=post.spoiler_text, language=post.language,
        media=[Media(item.path, item.description) for item in post.media], pin=post.pin,
    )]
    for number, text in enumerate(texts[1:], start=2):
        drafts.append(PostDraft(
            text=text, dedup_key=f"{base}:thread{number}", visibility=post.visibility,
            spoiler_text=post.spoiler_text, language=post.language, in_reply_to=PREVIOUS,
        ))
    return drafts


def native_draft(post: PostSpec, when: datetime, *, variables: Mapping[str, Any],
                 default_language: str, check_media: bool = True) -> PostDraft:
    """The draft sent to Mastodon with ``scheduled_at``; its key includes a content hash."""
    [draft] = build_drafts(post, now=when, scheduled_time=when, variables=variables,
                           default_language=default_language, check_media=check_media)
    content = json.dumps({**draft.to_json(), "scheduled_at": utc_stamp(when)},
                         sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()[:12]
    return draft.replace(dedup_key=f"{draft.dedup_key}:native:{digest}", scheduled_at=when)
