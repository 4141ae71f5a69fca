"""Publishing channels other than Mastodon (Bluesky...), each with its own queue.

Mastodon stays the primary channel: residents' mentions, replies and commands live there, and
the publisher sends to it as before. A plugin registers another channel through
``civicbot_register_channels``; a draft goes to the channels it names (``PostDraft.channels``,
else its job's ``channels``, else the config's top-level ``channels``, default ``[mastodon]``).

Every other channel has its own queue in the state store (the posts of account ``A`` for channel
``C`` are stored under the scope ``A#C``), so it has its own dedup keys, pending posts and
retries: a channel that is down never delays Mastodon, and what it missed is sent once, in
order, when it is back — unless it waited longer than the channel's ``max_delay`` or the
draft's ``expires_at`` passed (a weather warning that ended is not sent late).
"""

from __future__ import annotations

import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from civicbot.drafts import PREVIOUS, PostDraft
from civicbot.errors import CivicbotError

if TYPE_CHECKING:
    from civicbot.bot import Bot

#: The primary channel's name.
MASTODON = "mastodon"


class ChannelUnavailable(CivicbotError):
    """The channel cannot be reached now (network, 5xx, rate limit): the post waits."""


class ChannelRefused(CivicbotError):
    """The channel refused the post for good (too long, invalid): it is not sent again."""


@dataclass
class QueuedItem:
    """One queued publication: the channel's adapted posts of a draft or of a thread."""

    key: str
    posts: list[dict[str, Any]]
    #: Dedup key of an earlier publication this one answers (an alert's update), if any.
    reply_to_key: str | None
    created_at: datetime
    expires_at: datetime | None


class Progress:
    """Where a publication stands on a channel, part by part (kept in the state store), so
    that a crash in the middle of a thread resumes after the last part sent."""

    def __init__(self, bot: Bot, channel: str, key: str) -> None:
        self._ns = bot.state.namespace(f"channel.{channel}")
        self._key = key

    def parts(self) -> list[dict[str, Any]]:
        value = self._ns.get(self._key)
        return list(value) if isinstance(value, list) else []

    def add(self, ref: dict[str, Any]) -> None:
        self._ns.set(self._key, [*self.parts(), ref])

    def clear(self) -> None:
        self._ns.delete(self._key)


class Channel(ABC):
    """A publishing channel. Subclass it in a plugin and register an instance through
    ``civicbot_register_channels``."""

    #: The name used in ``channels: [...]`` lists.
    name: str = ""
    #: A post that could not be sent for this long is dropped (logged), not sent late.
    max_delay: timedelta = timedelta(hours=6)

    @abstractmethod
    def adapt(self, drafts: Sequence[PostDraft]) -> list[dict[str, Any]]:
        """The posts of ``drafts`` (one draft, or a thread chained by ``PREVIOUS``) as this
        channel publishes them, in order: JSON-serialisable dicts, each with at least ``text``.
        Used for ``civicbot preview`` and stored in the queue. Raise :class:`ChannelRefused`
        when the drafts cannot be published on this channel."""

    @abstractmethod
    def send(self, item: QueuedItem, progress: Progress,
             lookup: Callable[[str], dict[str, Any] | None]) -> dict[str, Any]:
        """Publish ``item.posts`` in order, skipping the parts ``progress`` already holds and
        adding each part sent to it; ``lookup(key)`` gives the last part of an earlier
        publication (for ``item.reply_to_key``). Return the last part's reference (it must
        hold ``id``, and may hold ``url``). Raise :class:`ChannelUnavailable` to retry later,
        :class:`ChannelRefused` to give up."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (called when the bot stops)."""


def thread_groups(drafts: Sequence[PostDraft]) -> list[list[PostDraft]]:
    """Drafts grouped into publications: a draft and the ones answering it with ``PREVIOUS``."""
    groups: list[list[PostDraft]] = []
    for draft in drafts:
        if groups and draft.in_reply_to == PREVIOUS:
            groups[-1].append(draft)
        else:
            groups.append([draft])
    return groups


class ChannelRelay:
    """The queues and the sender thread of one bot's other channels."""

    def __init__(self, bot: Bot, channels: dict[str, Channel], default: Sequence[str]) -> None:
        self.bot = bot
        self.channels = channels
        self.default = tuple(default)
        self.log = bot.log.bind(component="channels")
        self.backoff_initial = 2.0
        self.backoff_max = 300.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: Per channel: when the next try may happen (monotonic-free: UTC datetimes).
        self._retry_at: dict[str, datetime] = {}
        self._failures: dict[str, int] = {}

    def scope(self, channel: str) -> str:
        return f"{self.bot.name}#{channel}"

    def targets(self, draft: PostDraft) -> tuple[str, ...]:
        return tuple(draft.channels) if draft.channels is not None else self.default

    # -- queueing ---------------------------------------------------------------------------
    def enqueue(self, drafts: Sequence[PostDraft]) -> int:
        """Queue ``drafts`` for every other channel they name; returns the items queued."""
        store = self.bot.state.store
        queued = 0
        for group in thread_groups(drafts):
            for name in self.targets(group[0]):
                channel = self.channels.get(name)
                if channel is None:
                    continue
                key = group[0].dedup_key
                if store.get_post(self.scope(name), key) is not None:
                    continue  # queued or sent already: never twice
                try:
                    posts = channel.adapt(group)
                except ChannelRefused as exc:
                    self.log.error("post not adapted for the channel; not sent there",
                                   channel=name, dedup_key=key, error=str(exc))
                    continue
                expires = min((d.expires_at for d in group if d.expires_at), default=None)
                store.add_pending(self.scope(name), [(key, {
                    "posts": posts, "reply_to_key": group[0].reply_to_key,
                    "expires_at": expires.isoformat() if expires else None,
                })])
                queued += 1
        if queued:
            self._wake.set()
        return queued

    # -- sending ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None and self.channels:
            self._thread = threading.Thread(target=self._loop, name=f"channels-{self.bot.name}",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for channel in self.channels.values():
            try:
                channel.close()
            except Exception as exc:
                self.log.warning("channel did not close cleanly", channel=channel.name,
                                 error=str(exc))

    def wakeup(self) -> None:
        """Try every channel now (tests; a channel known to be back)."""
        self._retry_at.clear()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                waits = [self.flush()]
            except Exception as exc:  # never let the sender thread die
                self.log.error("channel sender failed", exc_info=exc)
                waits = [self.backoff_initial]
            self._wake.wait(timeout=min(w for w in waits if w is not None) if any(
                w is not None for w in waits) else 60.0)

    def flush(self) -> float | None:
        """Send what every channel has waiting; returns the seconds until the next retry
        (None when nothing waits)."""
        with self._lock:
            if self.bot.paused:
                return 5.0
            wait: float | None = None
            now = datetime.now(UTC)
            for name, channel in self.channels.items():
                retry = self._retry_at.get(name)
                if retry is not None and retry > now:
                    left = (retry - now).total_seconds()
                    wait = left if wait is None else min(wait, left)
                    continue
                after = self._flush_channel(name, channel)
                if after is not None:
                    wait = after if wait is None else min(wait, after)
            return wait

    def _flush_channel(self, name: str, channel: Channel) -> float | None:
        store = self.bot.state.store
        scope = self.scope(name)
        for record in store.pending_posts(scope):
            if self._stop.is_set():
                return None
            payload = record.payload
            created = datetime.fromisoformat(record.created_at)
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            expires = payload.get("expires_at")
            item = QueuedItem(key=record.dedup_key, posts=list(payload.get("posts") or []),
                              reply_to_key=payload.get("reply_to_key"), created_at=created,
                              expires_at=datetime.fromisoformat(expires) if expires else None)
            now = datetime.now(UTC)
            if (item.expires_at is not None and item.expires_at <= now) or \
                    now - created > channel.max_delay:
                store.mark_failed(scope, item.key, "expired: not sent late")
                self.log.warning("post for the channel expired before it could be sent; "
                                 "not sent late", channel=name, dedup_key=item.key)
                continue
            def lookup(key: str, _scope: str = scope, _name: str = name) -> dict[str, Any] | None:
                return self._lookup(_scope, _name, key)

            try:
                ref = channel.send(item, Progress(self.bot, name, item.key), lookup)
            except ChannelUnavailable as exc:
                failures = self._failures.get(name, 0) + 1
                self._failures[name] = failures
                delay = min(self.backoff_max, self.backoff_initial * 2 ** (failures - 1))
                delay = random.uniform(delay / 2, delay)
                self._retry_at[name] = now + timedelta(seconds=delay)
                self.log.warning("channel unavailable; its posts wait", channel=name,
                                 dedup_key=item.key, error=str(exc), retry_in_s=round(delay, 1))
                return delay
            except ChannelRefused as exc:
                store.mark_failed(scope, item.key, str(exc))
                self.log.error("channel refused the post; not sent again", channel=name,
                               dedup_key=item.key, error=str(exc))
                continue
            self._failures.pop(name, None)
            store.mark_sent(scope, item.key, str(ref.get("id")), ref.get("url"))
            self.log.info("posted", channel=name, dedup_key=item.key, id=ref.get("id"))
        return None

    def _lookup(self, scope: str, channel: str, key: str) -> dict[str, Any] | None:
        record = self.bot.state.store.get_post(scope, key)
        if record is None or record.state != "sent":
            return None
        parts = Progress(self.bot, channel, key).parts()
        return parts[-1] if parts else {"id": record.status_id}

    def pending(self, channel: str) -> int:
        return self.bot.state.store.count_posts(self.scope(channel), "pending")
