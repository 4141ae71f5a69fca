"""The ``bluesky`` channel: posts through the atproto SDK to the account's PDS.

The session is kept in the state store (namespace ``bluesky``) and reused: PDSes rate-limit
logins. Each part of a publication is created with a record key chosen when it was queued, so a
part sent just before a crash is found (not posted again) when the publication resumes.
"""

from __future__ import annotations

import io
import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from civicbot import (
    Bot,
    Channel,
    ChannelRefused,
    ChannelUnavailable,
    PostDraft,
    Progress,
    QueuedItem,
)
from civicbot_bluesky.adapt import adapt_drafts
from civicbot_bluesky.config import BlueskyConfig

NAME = "bluesky"
POST = "app.bsky.feed.post"
#: The largest image Bluesky embeds (bytes).
IMAGE_LIMIT = 2_000_000
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_clock_id = random.randrange(1024)
_tid_lock = threading.Lock()
_last_tid = 0


def new_tid() -> str:
    """A fresh record key (TID: microseconds since 1970 and a clock id, base32-sortable)."""
    global _last_tid
    with _tid_lock:
        micros = max(int(time.time() * 1_000_000), _last_tid + 1)
        _last_tid = micros
    value = (micros << 10) | _clock_id
    out = ""
    for _ in range(13):
        out = _TID_ALPHABET[value & 31] + out
        value >>= 5
    return out


def fit_image(data: bytes, log: Any) -> tuple[bytes, str] | None:
    """The image as Bluesky accepts it (at most 2,000,000 bytes: resized as JPEG when larger),
    with its MIME type; None (logged) when it cannot be made small enough or is not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = Image.MIME.get(image.format or "", "application/octet-stream")
            if len(data) <= IMAGE_LIMIT:
                return data, kind
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        log.error("image not sent to Bluesky: not a readable image", error=str(exc))
        return None
    for side in (2000, 1600, 1200, 1000, 800):
        copy = picture.copy()
        copy.thumbnail((side, side))
        for quality in (85, 75, 60):
            buffer = io.BytesIO()
            copy.save(buffer, "JPEG", quality=quality, optimize=True)
            if buffer.tell() <= IMAGE_LIMIT:
                log.info("image resized for Bluesky's 2,000,000-byte limit", before=len(data),
                         after=buffer.tell(), side=side)
                return buffer.getvalue(), "image/jpeg"
    log.error("image not sent to Bluesky: over the 2,000,000-byte limit even resized",
              size=len(data))
    return None


class BlueskyChannel(Channel):
    name = NAME

    def __init__(self, bot: Bot, config: BlueskyConfig) -> None:
        self.bot = bot
        self.config = config
        self.max_delay = config.max_delay
        self.log = bot.log.bind(plugin=NAME)
        self._client: Any = None
        self._did: str | None = None

    # -- adaptation -------------------------------------------------------------------------
    def adapt(self, drafts: Sequence[PostDraft]) -> list[dict[str, Any]]:
        posts = adapt_drafts(drafts, language=self.bot.language,
                             link_length=self.config.link_length,
                             link_cards=self.config.link_cards)
        for post in posts:
            post["rkey"] = new_tid()
        return posts

    # -- session ------------------------------------------------------------------------------
    def _session_store(self) -> Any:
        return self.bot.state.namespace(NAME)

    def client(self) -> Any:
        if self._client is not None:
            return self._client
        from atproto import Client, SessionEvent

        client = Client(base_url=self.config.service)
        store = self._session_store()

        def keep(event: SessionEvent, session: Any) -> None:
            store.set("session", client.export_session_string())

        client.on_session_change(keep)
        saved = store.get("session")
        try:
            if saved:
                try:
                    client.login(session_string=saved, fetch_bsky_profile=False)
                except Exception as exc:  # an expired or revoked session: log in again
                    self.log.info("saved Bluesky session refused; logging in", error=str(exc))
                    saved = None
            if not saved:
                client.login(self.config.handle, self.config.app_password.get_secret_value(),
                             fetch_bsky_profile=False)
                store.set("session", client.export_session_string())
                self.log.info("logged in to Bluesky", handle=self.config.handle)
        except Exception as exc:
            raise self._classify(exc) from exc
        self._client = client
        self._did = str(client.me.did) if getattr(client, "me", None) else None
        if self._did is None:
            self._did = str(client._session.did)
        return client

    def _classify(self, exc: Exception) -> Exception:
        from atproto_client.exceptions import (
            BadRequestError,
            NetworkError,
            RequestErrorBase,
            UnauthorizedError,
        )

        if isinstance(exc, (ChannelUnavailable, ChannelRefused)):
            return exc
        if isinstance(exc, UnauthorizedError):
            self._client = None
            self._session_store().delete("session")
            return ChannelUnavailable(f"Bluesky refused the session: {exc}")
        if isinstance(exc, BadRequestError):
            return ChannelRefused(f"Bluesky refused the post: {_detail(exc)}")
        if isinstance(exc, (NetworkError, RequestErrorBase, OSError)):
            return ChannelUnavailable(f"Bluesky unreachable: {_detail(exc)}")
        return ChannelUnavailable(f"Bluesky failed: {exc!r}")

    # -- sending ------------------------------------------------------------------------------
    def send(self, item: QueuedItem, progress: Progress,
             lookup: Callable[[str], dict[str, Any] | None]) -> dict[str, Any]:
        try:
            client = self.client()
            done = progress.parts()
            parent: dict[str, Any] | None = done[-1] if done else None
            root: dict[str, Any] | None = done[0] if done else None
            if parent is None and item.reply_to_key:
                earlier = lookup(item.reply_to_key)
                if earlier is not None and "cid" in earlier:
                    parent = earlier
                    root = earlier.get("root") or earlier
            for index, post in enumerate(item.posts):
                if index < len(done):
                    continue
                ref = self._create(client, post, root, parent)
                ref["root"] = {"uri": (root or ref)["uri"], "cid": (root or ref)["cid"]}
                progress.add(ref)
                root = root or ref
                parent = ref
        except Exception as exc:
            raise self._classify(exc) from exc
        assert parent is not None
        return {"id": parent["uri"], "url": _web_url(parent["uri"], self.config.handle)}

    def _create(self, client: Any, post: dict[str, Any], root: dict[str, Any] | None,
                parent: dict[str, Any] | None) -> dict[str, Any]:
        from atproto import models
        from atproto_client.exceptions import BadRequestError

        record: dict[str, Any] = {
            "$type": POST, "text": post["text"],
            "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
        }
        if post.get("langs"):
            record["langs"] = post["langs"]
        if post.get("facets"):
            record["facets"] = post["facets"]
        if parent is not None and root is not None:
            record["reply"] = {"root": {"uri": root["uri"], "cid": root["cid"]},
                               "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
        embed = self._embed(client, post)
        if embed is not None:
            record["embed"] = embed
        rkey = str(post["rkey"])
        try:
            created = client.com.atproto.repo.create_record(models.ComAtprotoRepoCreateRecord.Data(
                repo=self._did, collection=POST, rkey=rkey, record=record))
        except BadRequestError as exc:
            # sent before a crash: the record key is taken by our own post
            found = self._existing(client, rkey)
            if found is None:
                raise
            self.log.info("Bluesky post found already sent; not sent twice", rkey=rkey,
                          error=_detail(exc))
            return found
        return {"uri": str(created.uri), "cid": str(created.cid)}

    def _existing(self, client: Any, rkey: str) -> dict[str, Any] | None:
        try:
            record = client.com.atproto.repo.get_record(
                {"repo": self._did, "collection": POST, "rkey": rkey})
        except Exception:
            return None
        return {"uri": str(record.uri), "cid": str(record.cid)}

    def _embed(self, client: Any, post: dict[str, Any]) -> dict[str, Any] | None:
        from atproto_client.models.utils import get_model_as_dict

        images = []
        for image in post.get("images") or []:
            path = Path(image["path"])
            try:
                data = path.read_bytes()
            except OSError as exc:
                self.log.error("image not sent to Bluesky: file unreadable", path=str(path),
                               error=str(exc))
                continue
            fitted = fit_image(data, self.log)
            if fitted is None:
                continue
            blob = client.upload_blob(fitted[0]).blob
            images.append({"alt": image["alt"], "image": get_model_as_dict(blob)})
        if images:
            return {"$type": "app.bsky.embed.images", "images": images}
        card = post.get("card")
        if card:
            return {"$type": "app.bsky.embed.external", "external": dict(card)}
        return None

    def close(self) -> None:
        self._client = None


def _detail(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    message = getattr(content, "message", None) or getattr(content, "error", None)
    return str(message or exc)[:300]


def _web_url(uri: str, handle: str) -> str:
    """``at://did/app.bsky.feed.post/rkey`` → the post's address on bsky.app."""
    rkey = uri.rsplit("/", 1)[-1]
    return f"https://bsky.app/profile/{handle}/post/{rkey}"
