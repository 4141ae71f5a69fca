"""What plugins hand to the publisher: a :class:`PostDraft`, with :class:`Media` attached."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

Visibility = Literal["public", "unlisted", "private", "direct"]
VISIBILITIES: Final = ("public", "unlisted", "private", "direct")
Priority = Literal["alert", "scheduled", "reply"]

#: ``in_reply_to=PREVIOUS`` makes a draft answer the post published just before it in the same
#: call to ``bot.publish``: this is how a thread is written.
PREVIOUS: Final = "previous"


@dataclass(frozen=True)
class Media:
    """An image (or other file) to attach, with its alt text (``description``), which is mandatory."""

    path: Path
    description: str
    focus: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "description": self.description}


@dataclass
class PostDraft:
    """A post before it is sent.

    ``dedup_key`` identifies the post for ever: the publisher never sends the same key twice and
    sends it to Mastodon as the ``Idempotency-Key``. Build it from what makes the post unique,
    e.g. ``f"scheduled_posts:{post_id}:{scheduled_time.isoformat()}"``.

    ``in_reply_to`` is a status id, :data:`PREVIOUS`, or ``None``; ``reply_to_key`` names the dedup
    key of an earlier post to answer (the publisher looks its status id up in the state store),
    which is how an alert update joins the thread of the alert.
    """

    text: str
    dedup_key: str
    visibility: Visibility = "public"
    spoiler_text: str = ""
    language: str | None = None
    media: list[Media] = field(default_factory=list)
    in_reply_to: str | None = None
    reply_to_key: str | None = None
    sensitive: bool = False
    scheduled_at: datetime | None = None
    pin: bool = False
    #: Sent even while the bot is paused (used for the answer to an admin's "pause" command).
    ignore_pause: bool = False
    #: Name of the plugin that made the draft, for logs and metrics (set by the host if empty).
    source: str = ""
    #: "alert" (posted first, may use the rate budget kept back), "scheduled" or "reply"
    #: (posted last, delayed while the budget is low). ``bot.reply`` sets "reply".
    priority: Priority = "scheduled"
    #: Id of the job that made the draft, for the engagement report (set by the host).
    job: str = ""
    #: Channels to publish on (``("mastodon", "bluesky")``); ``None``: the job's, else the
    #: config's top-level ``channels``.
    channels: tuple[str, ...] | None = None
    #: After this time the post is no longer sent on a channel that was down (an alert that
    #: ended); Mastodon ignores it.
    expires_at: datetime | None = None

    def replace(self, **changes: Any) -> PostDraft:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The JSON shape printed by ``civicbot preview --json``."""
        return {
            "text": self.text,
            "visibility": self.visibility,
            "spoiler_text": self.spoiler_text,
            "language": self.language,
            "in_reply_to": self.in_reply_to,
            "media": [m.to_json() for m in self.media],
            "dedup_key": self.dedup_key,
            "scheduled_at": self.scheduled_at.isoformat() if self.scheduled_at else None,
        }
