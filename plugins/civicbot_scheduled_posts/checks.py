"""What ``civicbot check-config`` reports for the content calendar: the post files the bot
would skip, a ``posts_dir`` that does not exist, images that are missing, texts that cannot
be written. The daemon logs the same problems and goes on; ``check-config`` exits 2."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from civicbot import JobError
from civicbot_scheduled_posts.content_calendar import CONFIG_SOURCE, ContentCalendar
from civicbot_scheduled_posts.post_drafts import build_drafts

SECTION = ("plugins", "scheduled_posts")
_LINE = re.compile(r"^line (\d+): ")
_CHANNELS = re.compile(r"^channels\s*:")


def check_calendar(calendar: ContentCalendar, report: Callable[..., None]) -> None:
    config = calendar.config
    folder = config.posts_dir
    if folder is not None and not folder.is_dir():
        report(f"posts_dir {folder} does not exist: create the folder or fix the path "
               "(a relative path is read from the config file's folder)",
               key=(*SECTION, "posts_dir"))
    for path, entry in sorted(calendar.files.items()):
        message = None
        if entry.error is not None:
            message = str(entry.error).removeprefix(f"{path}: ")
        elif path in calendar._conflicts:
            message = f"id {entry.post.id if entry.post else '?'!r} is already used"
        if message is None:
            continue
        found = _LINE.match(message)
        line = int(found.group(1)) if found else None
        message = _LINE.sub("", message)
        report(f"{message} (the bot skips this file until it is fixed)", file=path, line=line)
    positions = {spec.id: i for i, spec in enumerate(config.posts)}
    for loaded in calendar.posts.values():
        spec = loaded.spec
        from_config = loaded.source == CONFIG_SOURCE
        where: dict[str, Any] = {}
        if from_config:
            where["key"] = (*SECTION, "posts", positions.get(spec.id, 0))
        else:
            where["file"] = Path(loaded.source)
        if not from_config:  # the config's channels are checked by the core, with their line
            _check_channels(spec.channels or (), calendar.bot.channel_names, Path(loaded.source),
                            report)
        for j, item in enumerate(spec.media):
            if not item.path.is_file():
                where_media = {"key": (*where["key"], "media", j, "path")} if from_config else where
                report(f"post {spec.id!r}: image {item.path} not found: add the file or fix the "
                       "path (the post would fail at its time)", **where_media)
        try:
            build_drafts(spec, now=calendar.bot.now(), scheduled_time=calendar.bot.now(),
                         variables=calendar.variables, default_language=calendar.bot.language,
                         check_media=False)
        except JobError as exc:
            report(f"post {spec.id!r}: the text cannot be written: {exc}", **where)


def _check_channels(channels: tuple[str, ...], known: tuple[str, ...], path: Path,
                    report: Callable[..., None]) -> None:
    unknown = [name for name in channels if name not in known]
    if not unknown:
        return
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    line = next((i for i, text in enumerate(lines, 1) if _CHANNELS.match(text)), None)
    report(f"channels: unknown channel {', '.join(map(repr, unknown))} (known: "
           f"{', '.join(known)}); configure the plugin that adds it, or fix the name",
           file=path, line=line)
