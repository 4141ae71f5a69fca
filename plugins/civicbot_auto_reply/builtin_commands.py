"""The commands this plugin registers itself: "aide" for everyone; "pause", "reprendre" and
"statut" for the accounts listed in ``admins``."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from civicbot import Bot, Command, CommandContext
from civicbot_auto_reply import texts
from civicbot_auto_reply.sanitize import plain, truncate

#: Rule help lines, given by the plugin for one bot: ``(language) -> lines``.
RuleHelp = Callable[[str], list[str]]
#: Longest answer of a command (the @mention of the sender is added in front).
ANSWER_LIMIT = 440
HELP_NAMES = ("aide", "help")


def _t(bot: Bot, table: Mapping[str, str], language: str) -> str:
    return texts.pick(table, language, bot.language)


def help_text(ctx: CommandContext, rule_help: RuleHelp) -> str:
    """The header, one line per command the sender may use, then the FAQ topics."""
    bot, language = ctx.bot, ctx.language
    lines = [_t(bot, texts.HELP_HEADER, language)]
    # residents' commands of every plugin, "aide", the FAQ topics, then the admin commands
    ordered = sorted(bot.commands, key=lambda c: (c.admin_only, c.names == HELP_NAMES))
    resident = [c for c in ordered if not c.admin_only]
    admin = [c for c in ordered if c.admin_only and ctx.is_admin]
    mark = _t(bot, texts.HELP_ADMIN_MARK, language)
    sep = " : " if language == "fr" else ": "
    lines.extend(f"• {c.name}{sep}{c.help}" for c in resident)
    lines.extend(f"• {line}" for line in rule_help(language))
    lines.extend(f"• {c.name}{mark}{sep}{c.help}" for c in admin)
    # every line, each capped: a long list becomes a numbered thread, never a cut-off one
    return "\n".join(truncate(line, ANSWER_LIMIT // 2) for line in lines)


def pause(ctx: CommandContext) -> str:
    if ctx.bot.paused:
        return _t(ctx.bot, texts.ALREADY_PAUSED, ctx.language)
    ctx.bot.set_paused(True, by=ctx.sender)
    return _t(ctx.bot, texts.PAUSED, ctx.language)


def resume(ctx: CommandContext) -> str:
    if not ctx.bot.paused:
        return _t(ctx.bot, texts.NOT_PAUSED, ctx.language)
    ctx.bot.set_paused(False, by=ctx.sender)
    return _t(ctx.bot, texts.RESUMED, ctx.language)


def _uptime(bot: Bot, language: str) -> str:
    if bot.started_at is None:
        return _t(bot, texts.STATUS_UNKNOWN, language)
    minutes = int((time.monotonic() - bot.started_at) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    d, h, m = texts.UPTIME_UNITS.get(language, texts.UPTIME_UNITS["fr"])
    parts = ([f"{days} {d}"] if days else []) + ([f"{hours} {h}"] if days or hours else [])
    return " ".join([*parts, f"{minutes:02d} {m}" if parts else f"{minutes} {m}"])


def _when(bot: Bot, value: datetime | str | None, language: str) -> str:
    if value is None:
        return "?"
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else value
    fmt = texts.DATE_FORMAT.get(language, texts.DATE_FORMAT["fr"])
    return stamp.astimezone(bot.timezone).strftime(fmt)


def _stream_state(bot: Bot, state: Any, language: str, unknown: str) -> str:
    if not state:
        return unknown
    names = texts.STREAM_STATES.get(language) or texts.STREAM_STATES.get(bot.language) \
        or texts.STREAM_STATES["fr"]
    return names.get(str(state), str(state))


def status_text(ctx: CommandContext) -> str:
    """State, uptime, stream and queue, the last three posts, the next three jobs."""
    bot, language = ctx.bot, ctx.language
    state = texts.STATUS_PAUSED if bot.paused else texts.STATUS_RUNNING
    health: dict[str, Any] = bot.stream.health() if bot.stream is not None else {}
    unknown = _t(bot, texts.STATUS_UNKNOWN, language)
    lines = [
        _t(bot, texts.STATUS_STATE, language).format(state=_t(bot, state, language)),
        _t(bot, texts.STATUS_UPTIME, language).format(uptime=_uptime(bot, language)),
        _t(bot, texts.STATUS_STREAM, language).format(
            stream=_stream_state(bot, health.get("state"), language, unknown),
            queue=health.get("queue_depth", unknown)),
    ]
    posts = bot.state.store.recent_posts(bot.name, 3)
    if posts:
        lines.append(_t(bot, texts.STATUS_LAST_POSTS, language))
        for post in posts:
            # plain() removes @ and #: quoting a reply must not mention its resident again
            snippet = plain(str(post.payload.get("text", "")), 50)
            lines.append(f"– {_when(bot, post.sent_at, language)} « {snippet} »")
    else:
        lines.append(_t(bot, texts.STATUS_NO_POSTS, language))
    upcoming = sorted(
        ((when, job_id) for job_id, when in bot.scheduler.next_run_times().items()
         if when is not None and not job_id.startswith("core.")),
        key=lambda item: item[0],
    )[:3]
    if upcoming:
        lines.append(_t(bot, texts.STATUS_NEXT_JOBS, language))
        lines.extend(f"– {plain(job_id, 40)} : {_when(bot, when, language)}"
                     for when, job_id in upcoming)
    else:
        lines.append(_t(bot, texts.STATUS_NO_JOBS, language))
    return truncate("\n".join(lines), ANSWER_LIMIT)


def builtin_commands(bot: Bot, rule_help: RuleHelp) -> list[Command]:
    """The commands to register, with their help line in the bot's language."""
    language = bot.language
    return [
        Command(names=HELP_NAMES, help=_t(bot, texts.HELP_LINE_HELP, language),
                handler=lambda ctx: help_text(ctx, rule_help)),
        Command(names=("pause",), help=_t(bot, texts.HELP_LINE_PAUSE, language),
                handler=pause, admin_only=True),
        Command(names=("reprendre", "resume"), help=_t(bot, texts.HELP_LINE_RESUME, language),
                handler=resume, admin_only=True),
        Command(names=("statut", "status"), help=_t(bot, texts.HELP_LINE_STATUS, language),
                handler=status_text, admin_only=True),
    ]
