"""Mention commands: "agenda", "ce week-end" / "week-end" / "weekend", "aujourd'hui".

Each answers with the next matching events in one short post that fits the instance limit
(with the @mention the auto-reply adds, counted as plain characters so that no link is ever
cut), and "… et N autres." ("… et 1 autre.") when some do not fit.

Commands never fetch a source themselves (a slow feed would hold every other resident's mention
behind it): they answer from the events the runtime keeps, loaded in the background at start and
again when older than ten minutes. The very first command, before any load finished, waits at
most :data:`COLD_WAIT` seconds, then is answered when the events are there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from civicbot import Bot, Command, CommandContext
from civicbot_event_digest.formatting import month_day, short_day_label, time_label
from civicbot_event_digest.model import Event, clean, last_day, local_midnight
from civicbot_event_digest.runtime import Horizon, Runtime, runtime_for
from civicbot_event_digest.templates import TemplateSet
from civicbot_event_digest.windows import period_for

NAMES: dict[str, tuple[str, ...]] = {
    "agenda": ("agenda",),
    "weekend": ("ce week-end", "week-end", "weekend", "ce weekend"),
    "today": ("aujourd'hui", "aujourdhui"),
}
#: How long a command waits for the first load of the events (never longer, never again).
COLD_WAIT = 1.0

HELP = {
    "agenda": "les prochains événements",
    "weekend": "les sorties du week-end",
    "today": "les événements du jour",
}


def _range(runtime: Runtime, kind: str, now: datetime) -> tuple[datetime, datetime]:
    if kind == "agenda":
        days = runtime.config.commands.agenda_days
        return now, local_midnight(now.date() + timedelta(days=days), runtime.tz)
    period = period_for("weekend" if kind == "weekend" else "today", now, runtime.tz)
    return max(period.start, now), period.end


def _line(event: Event, kind: str, since: datetime, runtime: Runtime, language: str) -> str:
    start = event.start.astimezone(runtime.tz)
    listed = max(start.date(), since.date())
    parts = []
    if event.start >= since:  # what is already running gets no day nor time, only its end
        if kind != "today":
            parts.append(short_day_label(listed, language))
        if not event.all_day:
            parts.append(time_label(start, language))
    when = ", ".join(parts)
    text = f"• {when} · {clean(event.title, 80)}" if when else f"• {clean(event.title, 80)}"
    if event.venue:
        text += f" — {clean(event.venue, 50)}"
    final = last_day(event, runtime.tz)
    if final > listed:
        text += f" (jusqu'au {month_day(final, language)})" if language == "fr" else \
            f" (until {month_day(final, language)})"
    return text


def answer(runtime: Runtime, kind: str, sender: str,
           ctx: CommandContext | None = None) -> str | None:
    """The reply text (without the @mention), from the events kept by the runtime; None when
    they are still loading (``ctx`` given: the answer is posted when they are there)."""
    now = runtime.bot.now()
    start, end = _range(runtime, kind, now)
    horizon = runtime.agenda.current(usable=lambda h: h.covers(start, end), wait=COLD_WAIT)
    if horizon is None:
        if ctx is not None and runtime.agenda.loading:
            runtime.log.info("events still loading; the command is answered when they are",
                             command=kind, status_id=ctx.status.get("id"))
            runtime.agenda.when_loaded(lambda _value, _error: _answer_later(runtime, kind, ctx))
            return None
        return TemplateSet(runtime.language).phrase("failed")
    return _compose(runtime, kind, sender, horizon, start, end)


def _answer_later(runtime: Runtime, kind: str, ctx: CommandContext) -> None:
    text = answer(runtime, kind, ctx.sender)
    if not text:
        return
    try:
        ctx.bot.reply(ctx.status, text, language=runtime.language)
    except Exception as exc:
        runtime.log.error("late command answer failed", command=kind, exc_info=exc)


def _compose(runtime: Runtime, kind: str, sender: str, horizon: Horizon, start: datetime,
             end: datetime) -> str:
    language = runtime.language
    phrases = TemplateSet(language)
    found = horizon.found
    events_in_range = [e for e in found.events if e.overlaps(start, end)]
    tail = []
    if found.failed:
        tail.append(phrases.phrase("partial"))
    if runtime.config.agenda_url:
        tail.append(phrases.phrase("all", url=runtime.config.agenda_url))
    if not events_in_range:
        return "\n".join([phrases.phrase(f"none_{kind}"), *tail])
    # counted plainly (a link as its full length, the full @user@domain): the reply then fits
    # whoever adds the mention and however strictly they count
    limit = runtime.max_characters(preview=False) - len(f"@{sender} ")
    # what starts in the range first (by start), then what is already running
    events = sorted(events_in_range, key=lambda e: (e.start < start, e.start))
    lines = [_line(e, kind, start, runtime, language) for e in events]
    shown: list[str] = []

    def compose(chosen: list[str]) -> str:
        more = len(lines) - len(chosen)
        body = [phrases.phrase(kind), *chosen]
        if more:
            body.append(phrases.phrase("more_one" if more == 1 else "more", n=more))
        return "\n".join(body + (["", *tail] if tail else []))

    for line in lines[: runtime.config.commands.max_events]:
        if len(compose([*shown, line])) > limit:
            break
        shown.append(line)
    return compose(shown)


def register_commands(register: object, bot: Bot) -> None:
    runtime = runtime_for(bot)
    if runtime is None or not runtime.config.commands.enabled:
        return
    for kind, names in NAMES.items():
        def handler(ctx: CommandContext, _kind: str = kind) -> str | None:
            return answer(runtime, _kind, ctx.sender, ctx)

        register(Command(names=names, help=HELP[kind], handler=handler))  # type: ignore[operator]
