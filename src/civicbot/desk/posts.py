"""Posts written on the desk: saved in the state store, editable and deletable until sent.

A desk post is a record of the approval queue (:mod:`civicbot.approvals`) whose ``job_id`` is
``desk:<random hex>``; its drafts carry dedup keys derived from that id, so it is sent once
whatever happens. The built-in ``core.approvals`` plugin schedules it at its time.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from civicbot.approvals import (
    APPROVED,
    DELETED,
    DESK_JOB_PREFIX,
    WAITING,
    ApprovalError,
    draft_to_json,
)
from civicbot.drafts import PREVIOUS, Media, PostDraft
from civicbot.errors import PostRefused
from civicbot.state import ApprovalRecord

if TYPE_CHECKING:
    from civicbot.bot import Bot

#: A line holding only this separates the posts of a thread written on the desk.
THREAD_SEPARATOR = "---"
IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}
MAX_IMAGES = 4


class UploadRefused(ValueError):
    """An upload that is not an image, is too large, or cannot be decoded."""


@dataclass
class DeskPost:
    """What the write form holds."""

    text: str
    spoiler_text: str = ""
    visibility: str = "public"
    language: str = "fr"
    when: datetime | None = None  # None: now
    media: list[Media] = field(default_factory=list)

    def parts(self) -> list[str]:
        chunks: list[str] = []
        current: list[str] = []
        for line in self.text.replace("\r\n", "\n").split("\n"):
            if line.strip() == THREAD_SEPARATOR:
                chunks.append("\n".join(current).strip())
                current = []
            else:
                current.append(line)
        chunks.append("\n".join(current).strip())
        return [c for c in chunks if c] or [""]

    def drafts(self, job_id: str, author: str) -> list[PostDraft]:
        out = []
        for i, text in enumerate(self.parts()):
            out.append(PostDraft(
                text=text, dedup_key=job_id if i == 0 else f"{job_id}/{i + 1}",
                visibility=self.visibility,  # type: ignore[arg-type]
                spoiler_text=self.spoiler_text, language=self.language,
                media=self.media if i == 0 else [],
                in_reply_to=PREVIOUS if i else None, source=f"desk ({author})"))
        return out


def check(bot: Bot, drafts: list[PostDraft]) -> None:
    """The publisher's own checks (alt text, visibility, not empty); raises PostRefused."""
    from civicbot.publisher import check_draft

    for draft in drafts:
        check_draft(draft)
    if len(drafts[0].media) > MAX_IMAGES:
        raise PostRefused(f"at most {MAX_IMAGES} images")


def save(bot: Bot, post: DeskPost, *, author: str, approval_required: bool,
         record: ApprovalRecord | None = None) -> ApprovalRecord:
    """Create (or, with ``record``, replace) a desk post; it waits for approval when the team
    requires it, otherwise it is approved at once."""
    job_id = record.job_id if record is not None else f"{DESK_JOB_PREFIX}{secrets.token_hex(6)}"
    drafts = post.drafts(job_id, author)
    check(bot, drafts)
    when = post.when or bot.now()
    state = WAITING if approval_required else APPROVED
    payload = [draft_to_json(d) for d in drafts]
    store = bot.state.store
    if record is None:
        new = store.add_approval(bot.name, job_id, when, payload, state=state, author=author)
        if new is None:  # pragma: no cover - random ids do not collide
            raise ApprovalError("could not save the post")
        store.add_audit(author, "write", f"#{new} {job_id} for {when.isoformat()}")
    else:
        if not store.update_approval(record.id, expect=(WAITING, APPROVED), state=state,
                                     drafts=payload, run_time=when, decided_by="",
                                     reason=""):
            raise ApprovalError(f"post #{record.id} was already sent or deleted")
        new = record.id
        store.add_audit(author, "edit", f"#{new} {job_id} for {when.isoformat()}")
    sync(bot)
    saved = store.get_approval(new)
    assert saved is not None
    return saved


def delete(bot: Bot, record: ApprovalRecord, *, by: str) -> None:
    if not bot.state.store.update_approval(record.id, expect=(WAITING, APPROVED), state=DELETED,
                                           decided_by=by):
        raise ApprovalError(f"post #{record.id} was already sent or deleted")
    bot.state.store.add_audit(by, "delete", f"#{record.id} {record.job_id}")
    sync(bot)


def sync(bot: Bot) -> None:
    """Schedule (or unschedule) desk posts now rather than at the next ``core.approvals`` tick."""
    if bot._scheduler is not None and bot.pm.has_plugin("core.approvals"):
        from civicbot.builtin.approvals import sync_desk_jobs

        sync_desk_jobs(bot)


def store_image(data: bytes, folder: Path, *, max_bytes: int) -> Path:
    """Check an upload by decoding it with Pillow (not by its name), drop its metadata
    (location included) by re-encoding the pixels, and save it; return its path."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > max_bytes:
        raise UploadRefused(f"the image is larger than {max_bytes // 1_000_000} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image: Any = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRefused("not an image (JPEG, PNG, GIF or WebP)") from exc
    fmt = str(image.format or "")
    if fmt not in IMAGE_FORMATS:
        raise UploadRefused(f"unsupported image format {fmt or '?'} (JPEG, PNG, GIF or WebP)")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(12)}{IMAGE_FORMATS[fmt]}"
    options: dict[str, Any] = {}
    if fmt == "JPEG":
        image = ImageOps.exif_transpose(image) or image  # keep the orientation, drop the EXIF
        options["quality"] = 90
    if fmt == "GIF" and getattr(image, "is_animated", False):
        options["save_all"] = True
    clean = image if fmt == "GIF" else _pixels_only(image)
    clean.save(path, format=fmt, **options)
    return path


def _pixels_only(image: Any) -> Any:
    """A copy with the pixels and nothing else (no EXIF, GPS, XMP or text chunks)."""
    from PIL import Image

    copy = Image.frombytes(image.mode, image.size, image.tobytes())
    if image.mode == "P" and image.getpalette():
        copy.putpalette(image.getpalette())
    return copy


def media_folder(bot: Bot) -> Path:
    return Path(bot.settings.core.state).resolve().parent / "desk-media"
