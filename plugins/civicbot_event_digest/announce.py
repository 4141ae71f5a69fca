"""Optional announcements: a post when a new event appears, a reminder before an event.

Both post each thing at most once: the dedup key names the event (and its start for reminders),
and the publisher never sends a key twice. "New event" remembers the events it has seen in the
state namespace; its first run only learns the current agenda, so switching it on does not
announce every event at once.
"""

from __future__ import annotations

from datetime import datetime

from civicbot import JobContext, JobError, PostDraft
from civicbot_event_digest.formatting import month_day, when_label
from civicbot_event_digest.model import Event, last_day, short_hash
from civicbot_event_digest.runtime import NAME, Runtime
from civicbot_event_digest.sources import Collection
from civicbot_event_digest.templates import TemplateSet, hashtag_line

KNOWN_KEY = "known_events"
#: The sources whose events are in KNOWN_KEY (learned silently the first time they load).
SOURCES_KEY = "known_sources"


def _context(event: Event, runtime: Runtime, language: str) -> dict[str, object]:
    start = event.start.astimezone(runtime.tz)
    final = last_day(event, runtime.tz)
    return {
        "title": event.title, "venue": event.venue, "url": event.url,
        "when": when_label(start, event.all_day, language),
        "until": month_day(final, language) if final > start.date() else "",
        "source": event.source, "all_day": event.all_day, "start": start,
    }


def _text(templates: TemplateSet, name: str, event: Event, runtime: Runtime,
          tags: list[str]) -> str:
    body = templates.render(name, **_context(event, runtime, templates.language))
    return f"{body}\n\n{hashtag_line(tags)}" if tags else body


def _load(runtime: Runtime, start: datetime, end: datetime, job: str) -> list[Event]:
    return _collect(runtime, start, end, job).events


def _collect(runtime: Runtime, start: datetime, end: datetime, job: str) -> Collection:
    found = runtime.collect(start, end)
    if found.all_failed:
        raise JobError(f"{job}: every source failed; nothing posted")
    return found


def _source_of(identity: str, names: list[str]) -> str | None:
    return next((n for n in names if identity.startswith(f"{n}|")), None)


def build_new_events(runtime: Runtime, ctx: JobContext) -> list[PostDraft]:
    """Announce the events not seen before. A source is learned silently the first time it
    loads (first run, source added to the config, source that failed so far); the events of a
    source failing now are kept as known, so that its return announces nothing old."""
    cfg = runtime.config.new_events
    now = ctx.now
    found = _collect(runtime, now, now + cfg.horizon, cfg.id)
    names = [s.name for s in runtime.config.sources]
    failed = {s.name for s in found.failed}
    first_seen: dict[str, Event] = {}
    for event in found.events:
        first_seen.setdefault(event.identity, event)
    state = runtime.bot.state.namespace(NAME)
    known = state.get(KNOWN_KEY)
    learned = state.get(SOURCES_KEY)
    if learned is None:  # first run, or a state written before sources were recorded
        learned = [] if known is None else sorted(
            {n for i in known if (n := _source_of(i, names)) is not None})
    known_set = set(known or [])
    learned_set = set(learned)
    loaded = [n for n in names if n not in failed]
    fresh = [(identity, e) for identity, e in first_seen.items()
             if e.source in learned_set and identity not in known_set]
    silent = {identity for identity, e in first_seen.items() if e.source not in learned_set}
    posted = fresh[: cfg.max_per_run]
    if len(fresh) > len(posted):
        runtime.log.info("new events left for the next check", waiting=len(fresh) - len(posted))
    if silent:
        runtime.log.info("new-event watch started", events=len(silent),
                         sources=sorted(set(loaded) - learned_set))
    templates = TemplateSet(runtime.language, runtime.config.templates)
    tags = cfg.hashtags if cfg.hashtags is not None else runtime.config.hashtags
    drafts = [
        PostDraft(text=_text(templates, "new_event", event, runtime, tags),
                  dedup_key=f"{NAME}:new:{short_hash(identity)}", visibility=cfg.visibility,
                  language=runtime.language)
        for identity, event in posted
    ]
    if not ctx.preview:
        # forget events gone from the horizon (not those of a source that failed this time);
        # remember the ones announced or learned now
        kept = {i for i in known_set if i in first_seen or _source_of(i, names) in failed}
        state.set(KNOWN_KEY, sorted(kept | {i for i, _ in posted} | silent))
        state.set(SOURCES_KEY, sorted((learned_set & set(names)) | set(loaded)))
    return drafts


def build_reminders(runtime: Runtime, ctx: JobContext) -> list[PostDraft]:
    cfg = runtime.config.reminders
    now = ctx.now
    events = _load(runtime, now, now + cfg.before, cfg.id)
    templates = TemplateSet(runtime.language, runtime.config.templates)
    tags = cfg.hashtags if cfg.hashtags is not None else runtime.config.hashtags
    drafts: list[PostDraft] = []
    for event in events:
        if not now < event.start <= now + cfg.before:
            continue
        key = f"{NAME}:reminder:{short_hash(f'{event.identity}|{event.start.timestamp():.0f}')}"
        if runtime.bot.state.was_posted(key):
            continue
        drafts.append(PostDraft(text=_text(templates, "reminder", event, runtime, tags),
                                dedup_key=key, visibility=cfg.visibility,
                                language=runtime.language))
        if len(drafts) >= cfg.max_per_run:
            break
    return drafts
