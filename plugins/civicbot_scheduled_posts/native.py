"""``native: true``: let Mastodon itself publish a one-off post (``scheduled_at``).

The post then goes out even if the daemon is down at that time. It is submitted when the bot
starts and when its file changes (not at its time). Mastodon accepts a scheduled post only at
least 5 minutes ahead, at most 25 per day and 300 in total: these limits are checked before
sending, and a post that would exceed one is logged as an error naming it, and not sent.

A server that cannot list the scheduled posts it holds (snac: ``scheduled_at`` accepted, the
list always empty, no cancel) could never have them edited nor cancelled: there
(``bot.server.native_scheduling`` false) native posts are not submitted; the daemon publishes
them at their time like any other post.

The server-side id is kept in the plugin's state namespace under ``native:<post id>``; an edit
cancels it and submits the new version (its dedup key includes a hash of the content), a
deleted post cancels it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from civicbot import JobError, PostDraft, PublishError
from civicbot_scheduled_posts.config import PostSpec
from civicbot_scheduled_posts.post_drafts import native_draft

if TYPE_CHECKING:
    from civicbot import Bot

MIN_AHEAD = timedelta(minutes=5)
DAILY_LIMIT = 25
TOTAL_LIMIT = 300
NAMESPACE = "scheduled_posts"
_RECORD = "native:"


def parse_time(value: Any) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class NativeScheduler:
    """Keeps the server's scheduled statuses in line with the ``native`` posts of one bot."""

    def __init__(self, bot: Bot, variables: Callable[[], Mapping[str, Any]],
                 log: Any) -> None:
        self.bot = bot
        self.variables = variables
        self.log = log
        self.state = bot.state.namespace(NAMESPACE)

    # -- what is recorded ------------------------------------------------------------------------
    def record(self, post_id: str) -> dict[str, Any] | None:
        value = self.state.get(_RECORD + post_id)
        return dict(value) if isinstance(value, dict) else None

    def records(self) -> dict[str, dict[str, Any]]:
        return {k[len(_RECORD):]: dict(v) for k, v in self.state.items().items()
                if k.startswith(_RECORD) and isinstance(v, dict)}

    def when(self, post: PostSpec) -> datetime:
        assert post.at is not None
        at = post.at
        return at if at.tzinfo is not None else at.replace(tzinfo=self.bot.timezone)

    def draft(self, post: PostSpec, *, check_media: bool = True) -> PostDraft:
        return native_draft(post, self.when(post), variables=self.variables(),
                            default_language=self.bot.language, check_media=check_media)

    # -- syncing ---------------------------------------------------------------------------------
    def available(self) -> bool:
        """False on a server that cannot list (nor cancel) its scheduled posts."""
        return bool(self.bot.server.native_scheduling)

    def sync_all(self, posts: Iterable[PostSpec]) -> None:
        """At start: submit new or edited native posts, cancel those no longer declared."""
        natives = {p.id: p for p in posts if p.native}
        if natives and not self.available():
            self.log.warning("native posts scheduled locally: the server cannot list the "
                             "posts it holds", posts=sorted(natives),
                             software=self.bot.server.software)
            return
        for post_id in sorted(set(self.records()) - set(natives)):
            self.cancel(post_id, reason="no longer a native post")
        known: dict[str, datetime] | None = None
        for post in natives.values():
            if known is None and self._needs_submit(post):
                known = self.known_scheduled(self.bot.now())
            self.sync(post, known)

    def _needs_submit(self, post: PostSpec) -> bool:
        record = self.record(post.id)
        try:
            key = self.draft(post, check_media=False).dedup_key
        except JobError:
            return False
        return record is None or record.get("dedup_key") != key

    def sync(self, post: PostSpec, known: dict[str, datetime] | None = None) -> bool:
        """Make sure the server has this version of ``post`` scheduled; True when it has.

        ``known`` (scheduled statuses to come, by id) saves listing them for every post; it is
        updated with the post once submitted.
        """
        log = self.log.bind(post=post.id)
        try:
            draft = self.draft(post)
        except JobError as exc:
            log.error("native post not scheduled", reason=str(exc))
            return False
        if not self.available():
            log.info("native post scheduled locally: the server cannot list the posts it holds")
            return False
        if self.bot.dry_run:
            log.info("dry run: native post would be scheduled on the server",
                     scheduled_at=draft.scheduled_at.isoformat() if draft.scheduled_at else None)
            return False
        record = self.record(post.id)
        if record is not None and record.get("dedup_key") == draft.dedup_key:
            return True
        now = self.bot.now()
        if record is not None:
            if parse_time(record["scheduled_at"]) <= now:
                log.info("native post already published by the server; edit ignored")
                return True
            if not self.cancel(post.id, reason="edited"):
                return False
            if known is not None and record.get("scheduled_id"):
                known.pop(str(record["scheduled_id"]), None)
        when = self.when(post)
        if known is None:
            known = self.known_scheduled(now)
        problem = self.check_limits(when, now, known)
        if problem is not None:
            log.error("native post not scheduled", reason=f"post {post.id!r}: {problem}")
            return False
        return self._submit(post, draft, when, known)

    def _submit(self, post: PostSpec, draft: PostDraft, when: datetime,
                known: dict[str, datetime]) -> bool:
        log = self.log.bind(post=post.id)
        entry = {"dedup_key": draft.dedup_key, "scheduled_at": when.isoformat(),
                 "scheduled_id": None}
        try:
            [result] = self.bot.publish(draft)
        except PublishError as exc:
            # the draft stays pending in the core and is resent later with the same key
            self.state.set(_RECORD + post.id, entry)
            log.warning("native post not submitted yet; the core will retry", error=str(exc))
            return True
        scheduled_id = result.status_id
        if scheduled_id is None:
            stored = self.bot.state.post(draft.dedup_key)
            scheduled_id = stored.status_id if stored is not None else None
        if scheduled_id is None:
            stored = self.bot.state.post(draft.dedup_key)
            why = (stored.error if stored is not None and stored.error
                   else result.skipped or "refused by the instance")
            log.error("native post not scheduled", reason=f"post {post.id!r}: {why}")
            return False
        known[scheduled_id] = when
        self.state.set(_RECORD + post.id, {**entry, "scheduled_id": scheduled_id})
        log.info("native post scheduled on the server", scheduled_id=scheduled_id,
                 scheduled_at=when.isoformat())
        return True

    def cancel(self, post_id: str, *, reason: str = "deleted") -> bool:
        """Cancel the server-side post of ``post_id`` if it is still to come; False on error."""
        record = self.record(post_id)
        if record is None:
            return True
        log = self.log.bind(post=post_id)
        if self.bot.dry_run:
            log.info("dry run: native post would be cancelled", reason=reason)
            return True
        scheduled_id = record.get("scheduled_id")
        if scheduled_id is None:
            stored = self.bot.state.post(str(record.get("dedup_key")))
            scheduled_id = stored.status_id if stored is not None else None
        if scheduled_id is not None and parse_time(record["scheduled_at"]) > self.bot.now():
            try:
                found = self.bot.publisher.cancel_scheduled(str(scheduled_id))
            except PublishError as exc:
                log.warning("could not cancel the native post; retried at the next start",
                            error=str(exc))
                return False
            log.info("native post cancelled on the server", scheduled_id=scheduled_id,
                     reason=reason, found=found)
        self.state.delete(_RECORD + post_id)
        return True

    # -- limits ----------------------------------------------------------------------------------
    def known_scheduled(self, now: datetime) -> dict[str, datetime]:
        """Scheduled statuses to come: the server's list, plus those this plugin recorded
        (the server's list is paginated, so it may not show them all)."""
        found: dict[str, datetime] = {}
        try:
            for item in self.bot.publisher.scheduled_statuses():
                found[str(item["id"])] = parse_time(item["scheduled_at"])
        except PublishError as exc:
            self.log.warning("could not list the scheduled posts of the account", error=str(exc))
        for record in self.records().values():
            when = parse_time(record["scheduled_at"])
            if record.get("scheduled_id") and when > now:
                found.setdefault(str(record["scheduled_id"]), when)
        return found

    def check_limits(self, when: datetime, now: datetime,
                     scheduled: Mapping[str, datetime]) -> str | None:
        """Why Mastodon would refuse to schedule a post at ``when``, or None."""
        if when - now < MIN_AHEAD:
            return (f"a native post must be scheduled at least 5 minutes ahead "
                    f"(scheduled at {when.isoformat()}, now {now.isoformat(timespec='seconds')})")
        scheduled = {k: v for k, v in scheduled.items() if v > now}
        if len(scheduled) >= TOTAL_LIMIT:
            return (f"the instance accepts at most {TOTAL_LIMIT} scheduled posts and "
                    f"{len(scheduled)} are already scheduled")
        day = when.astimezone(UTC).date()
        same_day = sum(1 for t in scheduled.values() if t.astimezone(UTC).date() == day)
        if same_day >= DAILY_LIMIT:
            return (f"the instance accepts at most {DAILY_LIMIT} scheduled posts per day and "
                    f"{same_day} are already scheduled on {day.isoformat()} (UTC)")
        return None
