"""One read of one feed: what is new, what waits, what is posted — once each.

What a feed has shown is remembered per feed in the plugin's state (``news`` namespace, key
``feed:<id>``): every identity (guid and normalised link) of every item seen, with the dedup key
of its post when it was posted; the items waiting for a later read (at most ``max_per_run`` are
posted per read); how many items the feed usually holds. Nothing is forgotten when a read fails.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from civicbot import FetchError, JobContext, JobError, Media, PostDraft
from civicbot_news.config import FeedConfig
from civicbot_news.items import FeedInvalid, NewsItem, parse_feed, publication_order
from civicbot_news.render import passes, post_text
from civicbot_news.runtime import NAME, Runtime

#: Identities not seen in the feed for this long are forgotten (the seen list stays bounded).
FORGET_AFTER = timedelta(days=400)
#: After this many reads in a row with "far fewer items than usual", the new size is accepted.
SHRINK_ACCEPTED_AFTER = 3


def state_key(feed: FeedConfig) -> str:
    return f"feed:{feed.id}"


def _item_json(item: NewsItem) -> dict[str, Any]:
    data = asdict(item)
    data["published"] = item.published.isoformat() if item.published else None
    data["categories"] = list(item.categories)
    data.pop("extra", None)
    return data


def _item_from_json(data: dict[str, Any]) -> NewsItem:
    published = data.get("published")
    return NewsItem(**{**data, "categories": tuple(data.get("categories") or ()),
                       "published": datetime.fromisoformat(published) if published else None})


class FeedFailed(JobError):
    """The feed could not be read or is not trustworthy this time; nothing changed."""


def _record_source(runtime: Runtime, feed: FeedConfig, now: datetime,
                   error: str | None) -> None:
    """Say in the shared ``sources`` namespace how this feed is doing (``civicbot status``)."""
    sources = runtime.bot.state.namespace("sources")
    name = f"{NAME}:{feed.id}"
    before = sources.get(name) or {}
    if error is None:
        sources.set(name, {"ok": True, "last_ok": now.isoformat()})
        return
    sources.set(name, {"ok": False, "error": error, "last_ok": before.get("last_ok"),
                       "since": before.get("since") if not before.get("ok", True)
                       else now.isoformat(), "failures": int(before.get("failures", 0)) + 1})


def _fail(runtime: Runtime, feed: FeedConfig, ctx: JobContext, message: str) -> FeedFailed:
    runtime.failures[feed.id] += 1
    if not ctx.preview:
        _record_source(runtime, feed, ctx.now, message)
    runtime.log.warning("news feed failed; nothing posted, nothing forgotten", feed=feed.id,
                        error=message)
    return FeedFailed(f"news feed {feed.id}: {message}")


def _read(runtime: Runtime, feed: FeedConfig, ctx: JobContext,
          trusted: bool) -> list[NewsItem] | None:
    """The feed's items, or None when it did not change since the last read (HTTP 304).
    ``trusted``: the last read was accepted; after a refused one, "not modified" would only
    repeat what was refused, so the feed is asked again whole."""
    try:
        result = runtime.fetcher.fetch(feed.url, headers=feed.headers or None,
                                       conditional=trusted)
    except FetchError as exc:
        raise _fail(runtime, feed, ctx, str(exc)) from exc
    if result.not_modified:
        return None
    try:
        return parse_feed(result.content, result.url)
    except FeedInvalid as exc:
        raise _fail(runtime, feed, ctx, f"{exc}") from exc


def build_feed_posts(runtime: Runtime, feed: FeedConfig, ctx: JobContext) -> list[PostDraft]:
    """The posts of this read of ``feed`` (nothing in state changes when ``ctx.preview``)."""
    namespace = runtime.bot.state.namespace(NAME)
    state: dict[str, Any] = namespace.get(state_key(feed)) or {}
    source = runtime.bot.state.namespace("sources").get(f"{NAME}:{feed.id}") or {}
    items = _read(runtime, feed, ctx, trusted=bool(source.get("ok")) and not state.get("shrinking"))
    now = ctx.now.astimezone(UTC)
    seen: dict[str, list[str]] = dict(state.get("seen") or {})
    backlog = [_item_from_json(d) for d in state.get("backlog") or []]
    learned = bool(state.get("learned"))
    if items is None:  # not modified: only the waiting items may go out
        items = []
        if not learned:
            return []
    else:
        usual = int(state.get("usual") or 0)
        shrinking = int(state.get("shrinking") or 0)
        if not items and (usual or not learned):
            raise _fail(runtime, feed, ctx, "the feed has no item (usually "
                        f"{usual}); taken for a broken feed")
        if usual and len(items) < usual * runtime.config.min_items_ratio:
            if shrinking + 1 < SHRINK_ACCEPTED_AFTER:
                if not ctx.preview:
                    namespace.set(state_key(feed), {**state, "shrinking": shrinking + 1})
                raise _fail(runtime, feed, ctx, f"only {len(items)} items where it usually has "
                            f"{usual}; taken for a broken feed")
            runtime.log.info("news feed is smaller than it was; new size accepted", feed=feed.id,
                             items=len(items), usual=usual)
        state["usual"], state["shrinking"] = len(items), 0

    stamp = now.isoformat()
    waiting = {i for item in backlog for i in item.identities}
    fresh: list[NewsItem] = []
    for item in items:
        names = item.identities
        known = [seen[i] for i in names if i in seen]
        if known:
            key = next((k[0] for k in known if k[0]), "")
            for name in names:  # a rebuilt feed's new guid joins the item's old link
                seen[name] = [key, stamp]
            if key and runtime.bot.state.post(key) is None and not ctx.preview:
                # marked as posted, but the post never reached the publisher (a crash between
                # the two): post it now
                fresh.append(item)
            continue
        if not waiting.intersection(names):
            fresh.append(item)

    if not learned:
        ordered = publication_order(fresh)
        kept = ordered[len(ordered) - feed.backfill:] if feed.backfill else []
        for item in ordered:
            if item not in kept:
                for name in item.identities:
                    seen[name] = ["", stamp]
        if not ctx.preview:
            runtime.log.info("news feed read for the first time: its items are remembered, "
                             "not posted", feed=feed.id, items=len(ordered), backfill=len(kept))
        fresh = kept
        learned = True

    for item in fresh:
        if not passes(item, feed.filters):
            for name in item.identities:
                seen[name] = ["", stamp]
    backlog = publication_order([*backlog, *(i for i in fresh if passes(i, feed.filters))])
    to_post, backlog = backlog[: feed.max_per_run], backlog[feed.max_per_run:]
    if backlog and not ctx.preview:
        runtime.log.info("news items left for the next reads", feed=feed.id, waiting=len(backlog))

    drafts: list[PostDraft] = []
    for item in to_post:
        key = f"{NAME}:{feed.id}:{item.key}"
        drafts.append(PostDraft(text=post_text(item, feed, runtime.language_of(feed)),
                                dedup_key=key, visibility=feed.visibility,
                                language=runtime.language_of(feed),
                                media=_media(runtime, feed, item)))
        for name in item.identities:
            seen[name] = [key, stamp]

    if not ctx.preview:
        limit = (now - FORGET_AFTER).isoformat()
        seen = {name: value for name, value in seen.items() if value[1] >= limit}
        namespace.set(state_key(feed), {**state, "seen": seen, "learned": learned,
                                        "backlog": [_item_json(i) for i in backlog]})
        _record_source(runtime, feed, ctx.now, None)
    return drafts


def _media(runtime: Runtime, feed: FeedConfig, item: NewsItem) -> list[Media]:
    """The item's image with its alt text, or nothing (never an image without alt text)."""
    if feed.images == "none" or not item.image_url:
        return []
    alt = item.image_alt
    if not alt and feed.images == "title":
        alt = f"{feed.image_alt_prefix}{item.title}".strip()
    if not alt:
        return []
    path = runtime.download_image(item.image_url)
    return [Media(path=path, description=alt)] if path is not None else []
