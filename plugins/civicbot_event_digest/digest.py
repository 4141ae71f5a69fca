"""The digest job: events of a period grouped by day, as one post or a numbered thread."""

from __future__ import annotations

from datetime import date

from civicbot import PREVIOUS, JobContext, JobError, PostDraft
from civicbot_event_digest.config import DigestConfig, EmptyText, SourceConfig
from civicbot_event_digest.formatting import day_label, month_day, period_label, time_label
from civicbot_event_digest.layout import Item, thread
from civicbot_event_digest.model import Event, last_day
from civicbot_event_digest.runtime import NAME, Runtime
from civicbot_event_digest.templates import TemplateSet, hashtag_line, render_text
from civicbot_event_digest.windows import Period, period_for


def failure_notes(templates: TemplateSet, failed: list[SourceConfig]) -> list[str]:
    """One line per source that could not be loaded."""
    return [templates.render("failure", name=s.name, label=s.label or f"« {s.name} »")
            for s in failed]


def event_context(event: Event, listed: date, runtime: Runtime, language: str) -> dict[str, object]:
    """What the ``event`` template sees."""
    tz = runtime.tz
    start = event.start.astimezone(tz)
    ongoing = start.date() < listed
    final = last_day(event, tz)
    return {
        "title": event.title,
        "venue": event.venue,
        "url": event.url,
        "time": "" if event.all_day or ongoing else time_label(start, language),
        "until": month_day(final, language) if final > listed else "",
        "all_day": event.all_day,
        "ongoing": ongoing,
        "source": event.source,
        "description": event.description,
        "start": start,
        "end": event.end.astimezone(tz),
    }


def _order(event: Event, listed: date, runtime: Runtime) -> tuple[object, ...]:
    start = event.start.astimezone(runtime.tz)
    timed = not event.all_day and start.date() >= listed
    return (listed, timed, start if timed else listed, event.title.casefold())


def build_digest(runtime: Runtime, digest: DigestConfig, ctx: JobContext) -> list[PostDraft]:
    config = runtime.config
    language = digest.language or runtime.language
    templates = TemplateSet(language, config.templates, digest.templates)
    period = period_for(digest.window, ctx.scheduled_time, runtime.tz)
    found = runtime.collect(period.start, period.end, language)
    names = ", ".join(s.name for s in found.failed)
    if found.all_failed:
        raise JobError(f"digest {digest.id!r}: every source failed ({names}); nothing posted")
    tags = digest.hashtags if digest.hashtags is not None else config.hashtags
    footer = templates.render("footer", hashtags=hashtag_line(tags), tags=list(tags)) \
        if tags else ""
    # an evening of the day before the period (22:00 to 01:00) is not part of it
    events = [e for e in found.events if last_day(e, runtime.tz) >= period.first_day]
    context = _period_context(period, language, digest.id, len(events))
    if not events:
        if found.failed:
            raise JobError(f"digest {digest.id!r}: no event found and {names} could not be "
                           "loaded; not posting an empty digest")
        return _empty(runtime, digest, ctx, context, footer, language)
    notes = failure_notes(templates, found.failed)
    listed = [(max(e.start.astimezone(runtime.tz).date(), period.first_day), e)
              for e in events]
    listed.sort(key=lambda pair: _order(pair[1], pair[0], runtime))
    hidden = len(listed) - digest.max_events
    if hidden > 0:
        listed = listed[: digest.max_events]
        more = templates.phrase("more_events_one" if hidden == 1 else "more_events", n=hidden)
        footer = f"{more}\n\n{footer}" if footer else more
    items = [
        Item(templates.render("day", day=day_label(day, language), date=day),
             templates.render("event", **event_context(event, day, runtime, language)))
        for day, event in listed
    ]
    head = "\n\n".join([templates.render("header", **context), *(["\n".join(notes)] if notes
                                                                 else [])])
    texts = thread(head, items, footer, runtime.max_characters(ctx.preview))
    runtime.log.info("digest built", digest=digest.id, events=len(items), posts=len(texts),
                     failed_sources=names or None)
    return _drafts(texts, digest, ctx, language)


def _period_context(period: Period, language: str, digest_id: str,
                    count: int) -> dict[str, object]:
    return {
        "kind": period.kind,
        "period": period_label(period.first_day, period.last_day, language),
        "days": period.days,
        "start": period.first_day,
        "end": period.last_day,
        "count": count,
        "digest": digest_id,
    }


def _empty(runtime: Runtime, digest: DigestConfig, ctx: JobContext, context: dict[str, object],
           footer: str, language: str) -> list[PostDraft]:
    policy = digest.empty if digest.empty is not None else runtime.config.empty
    if not isinstance(policy, EmptyText):
        runtime.log.info("no event in the period; digest skipped", digest=digest.id)
        return []
    text = render_text(policy.text, **context)
    return _drafts([f"{text}\n\n{footer}" if footer else text], digest, ctx, language)


def _drafts(texts: list[str], digest: DigestConfig, ctx: JobContext,
            language: str) -> list[PostDraft]:
    stamp = ctx.scheduled_time.isoformat()
    return [
        PostDraft(text=text, dedup_key=f"{NAME}:{digest.id}:{stamp}:{i}",
                  visibility=digest.visibility, language=language,
                  in_reply_to=None if i == 1 else PREVIOUS)
        for i, text in enumerate(texts, 1)
    ]
