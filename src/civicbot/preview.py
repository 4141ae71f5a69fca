"""What ``civicbot preview`` prints: the posts a job would publish, exactly as they would be cut."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from civicbot.drafts import PREVIOUS, PostDraft
from civicbot.publisher import check_draft, plan_parts

if TYPE_CHECKING:
    from civicbot.bot import Bot


@dataclass
class PreviewPost:
    """One Mastodon status as it would be posted."""

    text: str
    visibility: str
    spoiler_text: str
    language: str | None
    in_reply_to: str | None
    media: list[dict[str, str]]
    dedup_key: str
    scheduled_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "visibility": self.visibility,
            "spoiler_text": self.spoiler_text,
            "language": self.language,
            "in_reply_to": self.in_reply_to,
            "media": self.media,
            "dedup_key": self.dedup_key,
            "scheduled_at": self.scheduled_at,
        }

    def render(self) -> str:
        """The post as a person would read it."""
        head = [self.visibility, self.language or "?"]
        if self.in_reply_to:
            head.append("reply to " + self.in_reply_to)
        if self.scheduled_at:
            head.append("scheduled " + self.scheduled_at)
        lines = ["── " + " · ".join(head)]
        if self.spoiler_text:
            lines.append(f"[CW: {self.spoiler_text}]")
        lines.append(self.text)
        lines += [f"  🖼 {m['path']} — alt: {m['description']}" for m in self.media]
        return "\n".join(lines)


def preview_posts(bot: Bot, drafts: list[PostDraft]) -> list[PreviewPost]:
    """Apply the core's checks, default language and thread splitting — without posting and
    without running ``prepare_post`` hooks or touching the state store."""
    limit = bot.settings.mastodon.max_characters or 500
    out: list[PreviewPost] = []
    for draft in drafts:
        check_draft(draft)
        if not draft.language:
            draft = draft.replace(language=bot.language)
        reply = draft.in_reply_to
        if reply is None and draft.reply_to_key:
            record = bot.state.post(draft.reply_to_key)
            reply = record.status_id if record is not None else None
        for i, (key, part) in enumerate(plan_parts(draft, limit)):
            out.append(PreviewPost(
                text=part["text"], visibility=part["visibility"],
                spoiler_text=part["spoiler_text"], language=part["language"],
                in_reply_to=(reply if i == 0 else PREVIOUS), media=part["media"],
                dedup_key=key, scheduled_at=part["scheduled_at"],
            ))
    return out
