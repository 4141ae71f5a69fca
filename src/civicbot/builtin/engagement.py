"""Built-in plugin ``core.engagement``: a daily snapshot of the account's audience and posts.

Once a day (and soon after start when the last snapshot is a day old or more) the job
``core.engagement`` records, per account: followers, following and post counts; and for the
account's public posts of the last 30 days their favourites, boosts and replies. Only aggregate
counts are kept, never who favourited, boosted or followed. Records older than 13 months are
pruned. ``civicbot report`` turns them into charts (see ``docs/guides/report.md``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from civicbot.bot import Bot
from civicbot.hookspecs import hookimpl
from civicbot.jobs import Job, JobContext, every
from civicbot.mastodon_plain import to_plain
from civicbot.state import AccountSnapshot, PostEngagement

JOB_ID = "core.engagement"
#: Posts younger than this are counted again at every snapshot.
WINDOW = timedelta(days=30)
#: Snapshots, post counts and daily counters older than this are pruned.
KEEP = timedelta(days=396)  # 13 months
INTERVAL = timedelta(days=1)
#: The first snapshot after start waits this long (the stream connects first).
START_DELAY = timedelta(minutes=1)
PAGE = 40


def _aware(value: Any) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def statuses_page(client: Any, account_id: str, **params: Any) -> list[Mapping[str, Any]]:
    """One page of the account's statuses as plain JSON (Mastodon.py's typed entities cost
    milliseconds each; see :mod:`civicbot.mastodon_plain`)."""
    request = getattr(client, "_Mastodon__api_request", None)
    if request is not None:
        query = {k: v for k, v in params.items() if v is not None}
        response = request("GET", f"/api/v1/accounts/{account_id}/statuses", query,
                           return_response_object=True)
        data = response.json()
        if isinstance(data, list):
            return [s for s in data if isinstance(s, dict)]
    page: list[Mapping[str, Any]] = to_plain(client.account_statuses(account_id, **params))
    return page


def take_snapshot(bot: Bot, now: datetime) -> tuple[AccountSnapshot, list[PostEngagement]]:
    """Read the account's counters and its posts of the last 30 days from the instance, and
    record them in the state store. Raises :class:`civicbot.PublishError` when the instance
    cannot be reached (nothing is recorded then)."""
    call = bot.publisher._call
    client = bot.client
    me: Mapping[str, Any] = call(lambda: client.account_verify_credentials())
    since = now - WINDOW
    statuses: list[Mapping[str, Any]] = []
    max_id: str | None = None
    while True:
        def fetch(before: str | None = max_id) -> list[Mapping[str, Any]]:
            return statuses_page(client, str(me["id"]), max_id=before, limit=PAGE)

        page = call(fetch)
        if not page:
            break
        older = False
        for status in page:
            if _aware(status["created_at"]) < since:
                older = True
                break
            statuses.append(status)
        if older or len(page) < PAGE:
            break
        max_id = str(page[-1]["id"])
    own_id = str(me["id"])
    # the bot's own thread parts answer its posts: they are not residents' replies
    own_replies = Counter(str(s["in_reply_to_id"]) for s in statuses
                          if s.get("in_reply_to_id") and str(s.get("in_reply_to_account_id"))
                          == own_id)
    records = {r.status_id: r for r in bot.state.store.sent_posts_since(
        bot.name, since - timedelta(days=2)) if r.status_id}
    day = now.astimezone(bot.timezone).date()
    posts: list[PostEngagement] = []
    for status in statuses:
        if status.get("reblog") or status.get("visibility") not in ("public", "unlisted"):
            continue
        status_id = str(status["id"])
        record = records.get(status_id)
        parent = status.get("in_reply_to_account_id")
        posts.append(PostEngagement(
            status_id=status_id, created_at=_aware(status["created_at"]).astimezone(UTC),
            url=status.get("url"),
            source=str(record.payload.get("source", "")) if record else "",
            job=str(record.payload.get("job", "")) if record else "",
            favourites=int(status.get("favourites_count") or 0),
            boosts=int(status.get("reblogs_count") or 0),
            replies=max(0, int(status.get("replies_count") or 0) - own_replies[status_id]),
            is_reply=parent is not None and str(parent) != own_id,
            counted_on=day))
    snapshot = AccountSnapshot(day=day, taken_at=now.astimezone(UTC),
                               followers=int(me.get("followers_count") or 0),
                               following=int(me.get("following_count") or 0),
                               statuses=int(me.get("statuses_count") or 0))
    store = bot.state.store
    store.save_engagement(bot.name, snapshot, posts)
    store.prune_engagement(bot.name, (now - KEEP).astimezone(bot.timezone).date())
    bot.log.info("engagement snapshot taken", day=day.isoformat(), posts=len(posts),
                 followers=snapshot.followers)
    return snapshot, posts


def first_run(bot: Bot, now: datetime) -> datetime:
    """A day after the last snapshot, or shortly after ``now`` when it is a day old or more."""
    last = bot.state.store.last_snapshot(bot.name)
    soon = now + START_DELAY
    if last is None:
        return soon
    return max(soon, last.taken_at + INTERVAL) if last.taken_at + INTERVAL > now else soon


@hookimpl
def civicbot_register_jobs(register: Callable[[Job], None], bot: Bot) -> None:
    def snapshot(ctx: JobContext) -> None:
        if ctx.preview or ctx.bot.dry_run:
            return
        take_snapshot(ctx.bot, ctx.bot.now())

    register(Job(id=JOB_ID, schedule=every(INTERVAL, start=first_run(bot, bot.now())),
                 func=snapshot, misfire_grace=INTERVAL,
                 description="daily snapshot of followers and of the engagement of recent posts"))
