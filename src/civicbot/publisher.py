"""The one posting path: drafts in, Mastodon statuses out, never the same dedup key twice.

For each call to :meth:`Publisher.publish`:

1. drafts whose dedup key is already recorded as sent are skipped;
2. ``civicbot_prepare_post`` hooks edit or veto each draft;
3. media without alt text are refused; the language defaults to the account's;
4. a text longer than the instance's limit becomes a numbered thread;
5. every part is recorded as *pending* (one transaction), then sent with its dedup key as
   ``Idempotency-Key``, then recorded as *sent* with its status id.

A crash between 5a and 5c leaves a pending record; at the next start (and every few minutes)
pending records are resent with the same key, and Mastodon answers with the original status
instead of posting again. 5xx and network errors are retried with backoff; 429 waits for the
rate-limit reset; after ``max_attempts`` the draft stays pending for the next retry round.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from mastodon import (
    MastodonAPIError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from civicbot.drafts import PREVIOUS, VISIBILITIES, Media, PostDraft
from civicbot.errors import AuthenticationError, MissingAltText, PostRefused, PublishError
from civicbot.mastodon_plain import plain_get
from civicbot.publish_priority import ALERT, REPLY, PriorityLock, budget_low, rank
from civicbot.server import ServerInfo, ServerProbes, detect_server, streaming_url
from civicbot.splitting import split_text
from civicbot.state import PostRecord
from civicbot.text import html_to_text, mastodon_length

if TYPE_CHECKING:
    from mastodon import Mastodon

    from civicbot.bot import Bot

T = TypeVar("T")
PART_SEPARATOR = "#part"


@dataclass
class PublishResult:
    """What happened to one draft: the statuses of its parts, or why nothing was sent."""

    draft: PostDraft
    statuses: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None  # "already posted", "dry run", "paused", "vetoed: ..."

    @property
    def status_id(self) -> str | None:
        """The id of the last part (the one to answer to continue the thread)."""
        return str(self.statuses[-1]["id"]) if self.statuses else None


class _PermanentError(Exception):
    pass


class _NotJSON(Exception):
    """The server answered something that is not JSON (an HTML page): handled like a 5xx."""


def not_json(exc: BaseException) -> bool:
    """Whether a Mastodon.py error says the answer was not JSON (a proxy's HTML page)."""
    return bool(exc.args) and str(exc.args[0]).startswith("Could not parse response as JSON")


class Publisher:
    """Serialised per account: one post at a time, in order, within the rate budget."""

    def __init__(
        self,
        bot: Bot,
        client_factory: Callable[[], Mastodon],
        *,
        max_attempts: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        max_ratelimit_wait: float = 900.0,
        sleep: Callable[[float], bool] | None = None,
    ) -> None:
        self.bot = bot
        self._client_factory = client_factory
        self._client: Mastodon | None = None
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_ratelimit_wait = max_ratelimit_wait
        self._stop = threading.Event()
        self._sleep = sleep or (lambda seconds: self._stop.wait(seconds))
        self._lock = PriorityLock()
        #: Requests kept for alerts (None: 10% of the instance's budget, at least 3).
        self.alert_reserve: int | None = None
        self.delayed_count = 0
        self._max_characters: int | None = None
        self._server: ServerInfo | None = None
        self._server_read_at = 0.0
        #: Shared by the accounts of a daemon: each server is read once for all of them.
        self.probes: ServerProbes | None = None
        #: The streaming API's address, from the instance documents (None: not read or none).
        self.streaming_api: str | None = None
        self._limit_warned = False
        self.sent_count = 0
        self.error_count = 0
        self.log = structlog.get_logger("civicbot.publisher").bind(account=bot.name)

    # -- plumbing -----------------------------------------------------------------------------
    @property
    def client(self) -> Mastodon:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def stop(self) -> None:
        """Interrupt retry waits (shutdown)."""
        self._stop.set()

    @property
    def max_characters(self) -> int:
        """The instance's limit: ``mastodon.max_characters``, else ``/api/v2/instance``, else
        ``/api/v1/instance``'s ``configuration`` (snac), else 500."""
        if self._max_characters is None and self.bot.settings.mastodon.max_characters:
            self._max_characters = self.bot.settings.mastodon.max_characters
        if self._max_characters is None:
            limit = self.server.max_characters
            if limit is None:
                if not self._limit_warned:
                    self.log.warning("could not read the instance's character limit; using 500",
                                     instance_api=self.server.instance_api)
                    self._limit_warned = True
                return 500  # not kept: read again once the server answers
            self._max_characters = limit
        return self._max_characters

    # -- what the server supports ---------------------------------------------------------------
    @property
    def server(self) -> ServerInfo:
        """What the server supports (read once; re-read after a start where it was down)."""
        stale = (self._server is not None and self._server.instance_api == "none"
                 and time.monotonic() - self._server_read_at > SERVER_REREAD_AFTER)
        if self._server is None or stale:
            self._server = self._detect_server()
            self._server_read_at = time.monotonic()
        return self._server

    @property
    def known_server(self) -> ServerInfo | None:
        """The server's capabilities if already read (never fetches)."""
        return self._server

    def _detect_server(self) -> ServerInfo:
        if self.probes is None:
            info, self.streaming_api = self._read_server()
        else:
            info, self.streaming_api = self.probes.get(str(self.client.api_base_url),
                                                       self._read_server)
        return info

    def _read_server(self) -> tuple[ServerInfo, str | None]:
        docs: list[dict[str, Any] | None] = []
        client = self.client
        for read in (lambda: plain_get(client, "/api/v2/instance", public=client.instance_v2),
                     lambda: plain_get(client, "/api/v1/instance", public=client.instance_v1)):
            try:
                docs.append(dict(self._call(read)))
            except (PublishError, _PermanentError) as exc:
                # _PermanentError: no /api/v2/instance (snac) -> /api/v1/instance
                self.log.info("instance document not available", error=str(exc)[:200])
                docs.append(None)
            if docs[-1] is not None:
                break
        docs += [None] * (2 - len(docs))
        info = detect_server(docs[0], docs[1])
        if info.instance_api == "none":
            self.log.warning("could not read what the server supports; assuming the least "
                             "(pending posts looked up before a resend, local scheduling)")
        return info, streaming_url(docs[0], docs[1])

    def _call(self, fn: Callable[[], T], *,
              already_done: Callable[[], T | None] | None = None) -> T:
        """Call Mastodon with retries; ``already_done`` is asked before retrying after a 5xx
        or network error (the first try may have reached a server that ignores
        ``Idempotency-Key``): when it finds the result, that is returned instead."""
        attempt = 0
        while True:
            try:
                if attempt and already_done is not None:
                    found = already_done()
                    if found is not None:
                        return found
                try:
                    return fn()
                except MastodonAPIError as exc:
                    if not_json(exc):
                        # a proxy's maintenance page answered "200 OK": not the API, retry
                        raise _NotJSON("the instance answered a page that is not the API's "
                                       f"JSON (maintenance?): {str(exc)[:300]}") from exc
                    raise
            except MastodonRatelimitError:
                holder = self._lock.holder_rank or 0
                if holder >= REPLY:
                    # a reply does not wait for the reset in the publisher's hands: it stays
                    # pending, and the way is free for an alert
                    raise PublishError("rate limited; left pending until the budget is back"
                                       ) from None
                reset = getattr(self.client, "ratelimit_reset", None)
                wait = (float(reset) - time.time()) if reset else 1.0
                wait = min(max(wait, 0.05), self.max_ratelimit_wait)
                attempt += 1
                if attempt > self.max_attempts * 2:
                    raise PublishError("still rate limited after waiting") from None
                self.log.warning("rate limited; waiting for the reset", wait_s=round(wait, 2))
                if self._wait_reset(wait, holder):
                    raise PublishError("stopped while waiting for the rate limit") from None
            except MastodonUnauthorizedError as exc:
                raise AuthenticationError(f"the instance refused the access token: {exc}") from exc
            except (MastodonNetworkError, MastodonServerError, _NotJSON) as exc:
                attempt += 1
                if attempt >= self.max_attempts:
                    raise PublishError(f"gave up after {attempt} attempts: {exc}") from exc
                delay = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
                delay *= random.uniform(0.8, 1.2)
                self.log.warning("transient error; retrying", attempt=attempt,
                                 delay_s=round(delay, 2), error=str(exc)[:200])
                if self._sleep(delay):
                    raise PublishError("stopped while retrying") from exc
            except MastodonAPIError as exc:  # 4xx: retrying would not help
                if status_code(exc) == 403:
                    # a suspended account or a token without the scope: not this post's fault,
                    # so it stays pending (resent once fixed) instead of being marked failed
                    raise AuthenticationError(
                        f"the instance refused the account or token (403): {exc}") from exc
                raise _PermanentError(str(exc)) from exc

    # -- public API ---------------------------------------------------------------------------
    def publish(self, drafts: Iterable[PostDraft], *, dry_run: bool = False) -> list[PublishResult]:
        """Publish drafts in order; a draft with ``in_reply_to=PREVIOUS`` answers the one before.

        The most urgent caller goes first (alerts, then scheduled posts, then replies); while
        the rate budget is down to the part kept for alerts, other drafts stay pending."""
        drafts = list(drafts)
        urgency = min((rank(d.priority) for d in drafts), default=rank(None))
        with self._lock.hold(urgency):
            return self._publish(drafts, dry_run=dry_run)

    def _publish(self, drafts: list[PostDraft], *, dry_run: bool) -> list[PublishResult]:
        results: list[PublishResult] = []
        planned: list[tuple[PublishResult, list[tuple[str, dict[str, Any]]]]] = []
        previous_key: str | None = None
        for draft in drafts:
            result = PublishResult(draft)
            results.append(result)
            if draft.in_reply_to == PREVIOUS:
                if previous_key is None:
                    draft = draft.replace(in_reply_to=None)
                else:
                    draft = draft.replace(in_reply_to=None, reply_to_key=previous_key)
            existing = self.bot.state.post(draft.dedup_key)
            if existing is not None and existing.state == "sent":
                result.skipped = "already posted"
                previous_key = self._last_part_key(draft.dedup_key)
                self.log.info("already posted; skipped", dedup_key=draft.dedup_key)
                continue
            if existing is not None and existing.state == "failed":
                result.skipped = f"failed before: {existing.error}"
                self.log.warning("refused before; not retried", dedup_key=draft.dedup_key,
                                 error=existing.error)
                continue
            if self.bot.paused and not draft.ignore_pause:
                result.skipped = "paused"
                self.log.warning("bot paused; post dropped", dedup_key=draft.dedup_key)
                continue
            if existing is None:
                try:
                    draft = self.prepare(draft)
                except PostRefused as exc:
                    result.skipped = f"refused: {exc}"
                    self.log.error("post refused", dedup_key=draft.dedup_key, reason=str(exc))
                    self.error_count += 1
                    continue
            result.draft = draft
            if dry_run:
                result.skipped = "dry run"
                for key, payload in self.plan_parts(draft):
                    self.log.info("dry run: would post", dedup_key=key, **_log_payload(payload))
                previous_key = self._last_part_key(draft.dedup_key)
                continue
            parts = [] if existing is not None else self.plan_parts(draft)
            planned.append((result, parts))
            previous_key = (self._last_part_key(draft.dedup_key) if existing is not None
                            else parts[-1][0])
        new_items = [item for _, parts in planned for item in parts]
        if new_items:
            self.bot.state.store.add_pending(self.bot.name, new_items)
        if planned and not self._may_spend(min(rank(r.draft.priority) for r, _ in planned)):
            for result, _ in planned:
                result.skipped = "delayed: the rate budget left is kept for alerts"
                self.delayed_count += 1
                self.bot.count("publisher.delayed_for_alerts")
                self.log.warning("post delayed: the rate budget left is kept for alerts",
                                 dedup_key=result.draft.dedup_key,
                                 priority=result.draft.priority)
            return results
        for index, (result, parts) in enumerate(planned):
            try:
                self._send_draft(result, retry=not parts)
            except PublishError as exc:
                # left pending, in order: the retry job (core.pending) or the next start resends
                for later, _ in planned[index:]:
                    later.skipped = f"pending: {exc}"
                self.log.warning("posts left pending", count=len(planned) - index,
                                 error=str(exc)[:200])
                break
        return results

    def _last_part_key(self, dedup_key: str) -> str:
        """The key of the last part of a (possibly split) post."""
        record = self.bot.state.post(dedup_key)
        if record is None:
            return dedup_key
        return str(record.payload.get("last_part_key", dedup_key))

    def prepare(self, draft: PostDraft) -> PostDraft:
        """Run ``prepare_post`` hooks and the core checks; raise :class:`PostRefused`."""
        draft = self.bot.hooks.prepare_post(self.bot, draft)
        check_draft(draft)
        if not draft.language:
            draft = draft.replace(language=self.bot.language)
        if not draft.source:
            draft = draft.replace(source="unknown")
        return draft

    def plan_parts(self, draft: PostDraft) -> list[tuple[str, dict[str, Any]]]:
        return plan_parts(draft, self.max_characters)

    def _wait_reset(self, wait: float, holder: int) -> bool:
        """Wait for a rate-limit reset (True when stopped); a scheduled post gives way, left
        pending, as soon as an alert waits for the publisher."""
        if holder <= ALERT:
            return self._sleep(wait)
        left = wait
        while left > 0:
            if self._lock.more_urgent_waiting(holder):
                raise PublishError("rate limited; left pending, an alert goes first")
            step = min(left, 0.25)
            if self._sleep(step):
                return True
            left -= step
        return False

    def _may_spend(self, urgency: int) -> bool:
        """Whether a post of this rank may use the budget now (alerts always may)."""
        if urgency <= ALERT:
            return True
        low, _left, _until = budget_low(self._client, self.alert_reserve)
        return not low

    def resend_pending(self) -> int:
        """Send every pending record again with its own key (after a crash or an outage).

        Mastodon remembers an ``Idempotency-Key`` for one hour only, and GoToSocial or snac
        not at all: a record pending for longer, or on a server not known to honour the key,
        is first looked for among the account's latest statuses (or its scheduled statuses),
        matched by content and reply target, so a post sent just before a crash is recorded,
        not published again.
        """
        pending = self.bot.state.store.pending_posts(self.bot.name)
        for record in pending:
            urgency = rank(record.payload.get("priority"))
            # one record at a time: an alert published meanwhile goes in between
            with self._lock.hold(urgency):
                current = self.bot.state.post(record.dedup_key)
                if current is None or current.state != "pending":
                    continue
                if not self._may_spend(urgency):
                    continue  # waits for the budget; the next round sends it
                try:
                    if self._recover_old(current):
                        continue
                    self.log.info("resending pending post", dedup_key=record.dedup_key)
                    self._send_part(record.dedup_key, current.payload)
                except PublishError as exc:
                    self.log.warning("pending post still not sent", dedup_key=record.dedup_key,
                                     error=str(exc))
                    return len(pending)
        return len(pending)

    def _recover_old(self, record: PostRecord) -> bool:
        """True when a pending record is already on the server (then it is recorded as sent
        with that status). Looked up when the server ignores ``Idempotency-Key`` or the record
        is older than Mastodon's window."""
        created = datetime.fromisoformat(record.created_at)
        if self.server.idempotency and datetime.now(UTC) - created < IDEMPOTENCY_WINDOW:
            return False
        try:
            found = self._find_on_server(record)
        except _PermanentError as exc:
            self.log.warning("could not look for an old pending post; resending it",
                             dedup_key=record.dedup_key, error=str(exc)[:200])
            return False
        if found is None:
            return False
        self.bot.state.store.mark_sent(self.bot.name, record.dedup_key, str(found["id"]),
                                       found.get("url"))
        self.log.warning("pending post found already published; recorded, not resent",
                         dedup_key=record.dedup_key, status_id=str(found["id"]))
        return True

    def _find_on_server(self, record: PostRecord) -> dict[str, Any] | None:
        return self._find_payload(record.payload)

    def _find_payload(self, payload: dict[str, Any],
                      in_reply_to: str | None = None) -> dict[str, Any] | None:
        """The status (or scheduled status) already made of this payload: same text, same
        reply target, among the account's 40 latest."""
        wanted = comparable(payload["text"])
        if payload.get("scheduled_at"):
            for scheduled in self.scheduled_statuses():
                if comparable(str(scheduled["params"]["text"])) == wanted:
                    return {"id": scheduled["id"], "url": None}
            return None
        if in_reply_to is None:
            in_reply_to = self._reply_target(payload)
        me = self.bot.account.get("id") or self._call(
            lambda: self.client.account_verify_credentials())["id"]
        for status in self._call(lambda: self.client.account_statuses(me, limit=40)):
            if comparable(html_to_text(status["content"])) != wanted:
                continue
            if in_reply_to is not None and str(status.get("in_reply_to_id")) != in_reply_to:
                continue
            return dict(status)
        return None

    def _find_quietly(self, key: str, payload: dict[str, Any],
                      in_reply_to: str | None) -> dict[str, Any] | None:
        try:
            found = self._find_payload(payload, in_reply_to)
        except _PermanentError as exc:
            self.log.warning("could not look for a post before resending it",
                             dedup_key=key, error=str(exc)[:200])
            return None
        if found is not None:
            self.log.warning("post found already published; recorded, not resent",
                             dedup_key=key, status_id=str(found["id"]))
        return found

    def _reply_target(self, payload: dict[str, Any]) -> str | None:
        if payload.get("in_reply_to"):
            return str(payload["in_reply_to"])
        if payload.get("reply_to_key"):
            parent = self.bot.state.post(payload["reply_to_key"])
            if parent is not None and parent.status_id:
                return parent.status_id
        return None

    # -- sending --------------------------------------------------------------------------------
    def _send_draft(self, result: PublishResult, *, retry: bool = False) -> None:
        """Send the parts of a draft; ``retry``: it was pending before this call (a crash
        or an outage), so on a server that ignores ``Idempotency-Key`` each part is looked
        for first."""
        key = result.draft.dedup_key
        record = self.bot.state.post(key)
        assert record is not None
        keys = [key]
        last = record.payload.get("last_part_key", key)
        if last != key:
            count = int(str(last).rsplit(PART_SEPARATOR, 1)[1])
            keys += [f"{key}{PART_SEPARATOR}{i}" for i in range(2, count + 1)]
        for part_key in keys:
            part = self.bot.state.post(part_key)
            if part is None:
                continue
            if part.state == "sent":
                result.statuses.append({"id": part.status_id, "url": part.url})
                continue
            if retry and self._recover_old(part):
                recovered = self.bot.state.post(part_key)
                if recovered is not None:
                    result.statuses.append({"id": recovered.status_id, "url": recovered.url})
                continue
            status = self._send_part(part_key, part.payload, draft=result.draft)
            if status is None:
                result.skipped = "failed"
                self._fail_remaining_parts(keys[keys.index(part_key) + 1:], part_key)
                return
            result.statuses.append(status)

    def _fail_remaining_parts(self, keys: list[str], refused: str) -> None:
        """The later parts of a post whose part was refused are refused too (never orphans)."""
        for key in keys:
            part = self.bot.state.post(key)
            if part is not None and part.state == "pending":
                self.bot.state.store.mark_failed(self.bot.name, key,
                                                 f"the previous part ({refused}) was refused")

    def _send_part(self, key: str, payload: dict[str, Any],
                   draft: PostDraft | None = None) -> dict[str, Any] | None:
        in_reply_to = payload.get("in_reply_to")
        if not in_reply_to and payload.get("reply_to_key"):
            parent = self.bot.state.post(payload["reply_to_key"])
            if parent is not None and parent.status_id:
                in_reply_to = parent.status_id
            elif parent is not None and parent.state == "pending":
                raise PublishError(f"{key}: the post it answers is not sent yet")
            elif parent is not None and parent.state == "failed" and PART_SEPARATOR in key:
                # part 2/3 without part 1/3 makes no sense on its own: refuse it as well
                error = f"the previous part ({payload['reply_to_key']}) was refused"
                self.bot.state.store.mark_failed(self.bot.name, key, error)
                self.log.error("post refused by the instance", dedup_key=key, error=error)
                return None
        try:
            media_ids = [self._upload(m) for m in payload.get("media", [])]
            scheduled_at = payload.get("scheduled_at")
            # a 5xx or a timeout may hide a post made by a server that ignores the key
            already_done = (None if self.server.idempotency
                            else lambda: self._find_quietly(key, payload, in_reply_to))
            status: dict[str, Any] = dict(self._call(self._fenced(lambda: self.client.status_post(
                payload["text"],
                in_reply_to_id=in_reply_to,
                media_ids=media_ids or None,
                sensitive=bool(payload.get("sensitive")),
                visibility=payload.get("visibility") or "public",
                spoiler_text=payload.get("spoiler_text") or None,
                language=payload.get("language"),
                idempotency_key=key,
                scheduled_at=datetime.fromisoformat(scheduled_at) if scheduled_at else None,
            )), already_done=already_done))
        except _PermanentError as exc:
            self.error_count += 1
            self.bot.state.store.mark_failed(self.bot.name, key, str(exc)[:500])
            self.log.error("post refused by the instance", dedup_key=key, error=str(exc)[:300])
            return None
        except PublishError:
            self.error_count += 1
            raise
        if not status.get("id"):
            # recording it as sent with id "None" would lose it; pending, it is looked for
            # on the server and resent later
            self.error_count += 1
            self.log.error("the instance answered without a status id; post left pending",
                           dedup_key=key)
            raise PublishError(f"{key}: the instance answered without a status id")
        self.bot.state.store.mark_sent(self.bot.name, key, str(status["id"]), status.get("url"))
        self.sent_count += 1
        self.log.info("posted", dedup_key=key, status_id=str(status["id"]),
                      scheduled=bool(payload.get("scheduled_at")))
        if payload.get("pin") and not payload.get("scheduled_at"):
            try:
                self._call(lambda: self.client.status_pin(status["id"]))
            except (_PermanentError, PublishError) as exc:
                self.log.warning("could not pin the post", dedup_key=key, error=str(exc))
        if draft is None:
            draft = draft_from_payload(key, payload)
        self.bot.hooks.post_sent(self.bot, draft, status)
        return status

    def _fenced(self, request: Callable[[], T]) -> Callable[[], T]:
        """``request`` preceded by the fencing check, at every attempt (a retry or a wait for
        the rate limit may outlast the lease): in a cluster, a daemon that lost the account's
        lease posts nothing (:class:`~civicbot.errors.LeaseLostError`)."""
        def attempt() -> T:
            self.bot.state.store.check_lease(self.bot.name)
            return request()
        return attempt

    def _upload(self, media: dict[str, Any]) -> str:
        path = Path(media["path"])
        description = media.get("description") or ""
        if not description.strip():
            raise _PermanentError(f"media {path} has no alt text")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _PermanentError(f"cannot read media {path}: {exc.strerror or exc}") from exc
        mime = _guess_mime(path)
        uploaded = self._call(self._fenced(lambda: self.client.media_post(
            data, mime_type=mime, description=description, file_name=path.name)))
        return str(uploaded["id"])

    # -- server-side scheduled statuses ---------------------------------------------------------
    def scheduled_statuses(self) -> list[dict[str, Any]]:
        """Every server-side scheduled status of the account (all pages)."""
        first = self._call(lambda: self.client.scheduled_statuses(limit=40))
        pages = self._call(lambda: self.client.fetch_remaining(first))
        return [dict(s) for s in pages]

    def cancel_scheduled(self, scheduled_id: str) -> bool:
        try:
            self._call(lambda: self.client.scheduled_status_delete(scheduled_id))
        except _PermanentError as exc:
            if isinstance(exc.__cause__, MastodonNotFoundError):
                return False
            raise PublishError(str(exc)) from exc
        return True


#: An unreadable instance document (server down at start) is read again after this (seconds).
SERVER_REREAD_AFTER = 300.0
#: How long Mastodon keeps an Idempotency-Key (one hour), with a safety margin.
IDEMPOTENCY_WINDOW = timedelta(minutes=50)
_MENTION_DOMAIN = re.compile(r"(@\w+)@[\w.-]+\w")
_SCHEME = re.compile(r"https?://")


def status_code(exc: BaseException) -> int | None:
    """The HTTP status of a Mastodon.py API error (its second argument), if any."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    code = args[1] if len(args) > 1 else None
    return code if isinstance(code, int) else None


def comparable(text: str) -> str:
    """A post's text reduced to what survives Mastodon's HTML rendering (mentions without
    their domain, links without their scheme, white space folded), to recognise it."""
    text = _SCHEME.sub("", _MENTION_DOMAIN.sub(r"\1", text))
    return " ".join(text.split()).casefold()


def check_draft(draft: PostDraft) -> None:
    """The core's own checks, applied to every draft."""
    if not draft.dedup_key:
        raise PostRefused("a draft needs a dedup_key")
    if draft.visibility not in VISIBILITIES:
        raise PostRefused(f"unknown visibility {draft.visibility!r}")
    if not draft.text.strip() and not draft.media:
        raise PostRefused("empty post")
    for media in draft.media:
        if not media.description or not media.description.strip():
            raise MissingAltText(f"media {media.path} has no alt text (description)")


def draft_from_payload(key: str, payload: dict[str, Any]) -> PostDraft:
    scheduled = payload.get("scheduled_at")
    return PostDraft(
        text=payload["text"], dedup_key=key, visibility=payload.get("visibility") or "public",
        spoiler_text=payload.get("spoiler_text") or "", language=payload.get("language"),
        media=[Media(Path(m["path"]), m.get("description", "")) for m in payload.get("media", [])],
        in_reply_to=payload.get("in_reply_to"), reply_to_key=payload.get("reply_to_key"),
        sensitive=bool(payload.get("sensitive")), source=payload.get("source", ""),
        job=payload.get("job", ""),
        scheduled_at=datetime.fromisoformat(scheduled) if scheduled else None,
        priority=payload.get("priority") or "scheduled",
    )


def _guess_mime(path: Path) -> str:
    import mimetypes

    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _log_payload(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: payload[k] for k in ("text", "visibility", "spoiler_text", "language", "media")}


def plan_parts(draft: PostDraft, limit: int) -> list[tuple[str, dict[str, Any]]]:
    """Split a prepared draft into (dedup key, payload) parts, chained by ``reply_to_key``."""
    # Mastodon counts the content warning within the limit, and every part repeats it
    texts = split_text(draft.text, limit - mastodon_length(draft.spoiler_text))
    parts: list[tuple[str, dict[str, Any]]] = []
    keys = [draft.dedup_key] + [
        f"{draft.dedup_key}{PART_SEPARATOR}{i}" for i in range(2, len(texts) + 1)
    ]
    for i, (key, text) in enumerate(zip(keys, texts, strict=True)):
        parts.append((key, {
            "text": text,
            "visibility": draft.visibility,
            "spoiler_text": draft.spoiler_text,
            "language": draft.language,
            "sensitive": draft.sensitive,
            "media": [m.to_json() for m in draft.media] if i == 0 else [],
            "in_reply_to": draft.in_reply_to if i == 0 else None,
            "reply_to_key": draft.reply_to_key if i == 0 else keys[i - 1],
            "scheduled_at": draft.scheduled_at.isoformat() if draft.scheduled_at else None,
            "pin": draft.pin and i == 0,
            "source": draft.source,
            "priority": draft.priority,
            "job": draft.job,
            "last_part_key": keys[-1],
        }))
    return parts
