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
    channel: str = "mastodon"

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
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
        head = [self.channel, self.visibility, self.language or "?"]
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
    relay = bot.channel_relay
    if relay is not None:
        drafts = [d for d in drafts if "mastodon" in relay.targets(d)]
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


@dataclass
class ChannelPreview:
    """One post on another channel (Bluesky...) as that channel would publish it."""

    channel: str
    post: dict[str, Any]
    dedup_key: str

    def to_json(self) -> dict[str, Any]:
        return {"channel": self.channel, **self.post, "dedup_key": self.dedup_key}

    def render(self) -> str:
        head = [self.channel, str(self.post.get("language") or "?")]
        lines = ["── " + " · ".join(head), str(self.post.get("text", ""))]
        lines += [f"  🖼 {m.get('path')} — alt: {m.get('alt')}"
                  for m in self.post.get("images") or []]
        return "\n".join(lines)


def channel_previews(bot: Bot, drafts: list[PostDraft]) -> list[ChannelPreview]:
    """The posts the other channels would publish for ``drafts``, channel by channel."""
    from civicbot.channels import ChannelRefused, thread_groups

    relay = bot.channel_relay
    if relay is None:
        return []
    out: list[ChannelPreview] = []
    for name, channel in relay.channels.items():
        for group in thread_groups(drafts):
            if name not in relay.targets(group[0]):
                continue
            try:
                posts = channel.adapt(group)
            except ChannelRefused as exc:
                posts = [{"text": "", "error": str(exc)}]
            out += [ChannelPreview(name, post, group[0].dedup_key) for post in posts]
    return out
