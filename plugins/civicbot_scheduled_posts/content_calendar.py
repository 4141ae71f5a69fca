"""The content calendar of one bot: posts from the config and from ``posts_dir``, as jobs.

Each post is a core :class:`civicbot.Job` whose id is the post id, so the core scheduler does
the rest: misfire grace, coalescing, last-run bookkeeping, ``civicbot jobs``/``run-job``/
``preview``. The internal job ``scheduled_posts.reload`` rescans ``posts_dir`` every
``reload_interval``: a new or changed file (content hash) reschedules its post with
``bot.scheduler.add(job, replace=True)``, a deleted file cancels it with
``bot.scheduler.remove(id)``. A broken file is logged with its name and skipped.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from civicbot import Job, JobContext, JobError, PostDraft, Schedule, at, cron, every
from civicbot_scheduled_posts.config import PostSpec, ScheduledPostsConfig
from civicbot_scheduled_posts.native import NativeScheduler
from civicbot_scheduled_posts.post_drafts import build_drafts
from civicbot_scheduled_posts.post_files import (
    PostFile,
    digest,
    list_post_files,
    post_file_from_bytes,
)

if TYPE_CHECKING:
    from civicbot import Bot

RELOAD_JOB_ID = "scheduled_posts.reload"
#: The reload job must run after any clock jump; it posts nothing.
_RELOAD_GRACE = timedelta(days=3650)
CONFIG_SOURCE = "config"

_CALENDARS: weakref.WeakKeyDictionary[Bot, ContentCalendar] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class LoadedPost:
    spec: PostSpec
    source: str  # "config" or the post file's path


@dataclass
class ReloadReport:
    """What a rescan of ``posts_dir`` changed (post ids)."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # file -> message

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def calendar_for(bot: Bot) -> ContentCalendar | None:
    """The calendar of ``bot`` (builds the bot's jobs if not done yet); None without config."""
    if bot.plugin_config("scheduled_posts") is None:
        return None
    calendar = _CALENDARS.get(bot)
    if calendar is None:
        bot.scheduler  # noqa: B018 - registering the jobs builds the calendar
        calendar = _CALENDARS.get(bot)
    return calendar


def forget(bot: Bot) -> None:
    _CALENDARS.pop(bot, None)


class ContentCalendar:
    """Posts by id, the files they come from, and the jobs that publish them."""

    def __init__(self, bot: Bot, config: ScheduledPostsConfig) -> None:
        self.bot = bot
        self.config = config
        self.log = bot.log.bind(plugin="scheduled_posts")
        self.posts: dict[str, LoadedPost] = {}
        self.files: dict[Path, PostFile] = {}
        self._owner: dict[Path, str] = {}
        self._conflicts: set[Path] = set()
        self._missing_dir_logged = False
        self._lock = threading.RLock()
        self.native = NativeScheduler(bot, lambda: self.config.vars, self.log)
        _CALENDARS[bot] = self

    # -- loading ---------------------------------------------------------------------------------
    def load(self) -> list[Job]:
        """Read the config's posts and ``posts_dir``; return every job to register."""
        with self._lock:
            for spec in self.config.posts:
                self.posts[spec.id] = LoadedPost(spec, CONFIG_SOURCE)
            self._scan(ReloadReport())
            jobs = [self.job_for(loaded.spec) for loaded in self.posts.values()]
        for loaded in self.posts.values():
            self._warn_problems(loaded)
        if self.config.posts_dir is not None:
            jobs.append(Job(id=RELOAD_JOB_ID, schedule=every(self.config.reload_interval),
                            func=self._reload_job, misfire_grace=_RELOAD_GRACE,
                            description=f"rescan {self.config.posts_dir} for post files"))
        return jobs

    def reload(self) -> ReloadReport:
        """Rescan ``posts_dir`` now and apply the changes to the running scheduler."""
        with self._lock:
            before = {pid: loaded.spec for pid, loaded in self.posts.items()}
            report = ReloadReport()
            self._scan(report)
            after = {pid: loaded.spec for pid, loaded in self.posts.items()}
            report.removed = sorted(set(before) - set(after))
            report.added = sorted(set(after) - set(before))
            report.changed = sorted(pid for pid in set(before) & set(after)
                                    if before[pid] != after[pid])
            for post_id in report.removed:
                self.bot.scheduler.remove(post_id)
                self.native.cancel(post_id, reason="post removed")
                self.log.info("post cancelled", post=post_id)
            for post_id in report.added + report.changed:
                loaded = self.posts[post_id]
                self.bot.scheduler.add(self.job_for(loaded.spec), replace=True)
                self._warn_problems(loaded)
                if loaded.spec.native:
                    self.native.sync(loaded.spec)
                else:
                    self.native.cancel(post_id, reason="no longer a native post")
                self.log.info("post scheduled" if post_id in report.added else
                              "post rescheduled", post=post_id, file=loaded.source)
            return report

    def _reload_job(self, ctx: JobContext) -> list[PostDraft]:
        if not ctx.preview:
            self.reload()
        return []

    def _scan(self, report: ReloadReport) -> None:
        folder = self.config.posts_dir
        if folder is None:
            return
        if not folder.is_dir():
            if not self._missing_dir_logged:
                self.log.warning("posts_dir not found; no post files loaded", posts_dir=str(folder))
                self._missing_dir_logged = True
        else:
            self._missing_dir_logged = False
        paths = list_post_files(folder)
        for path in sorted(set(self.files) - set(paths)):
            del self.files[path]
            self._conflicts.discard(path)
            self._drop_owner(path)
        for path in paths:
            self._scan_file(path, report)

    def _scan_file(self, path: Path, report: ReloadReport) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:  # deleted between listing and reading
            self.log.warning("cannot read post file", file=str(path), error=str(exc))
            return
        key = digest(data)
        known = self.files.get(path)
        if known is not None and known.digest == key and path not in self._conflicts:
            return
        self._conflicts.discard(path)
        entry = post_file_from_bytes(path, data)
        self.files[path] = entry
        self._drop_owner(path)
        if entry.post is None:
            report.errors[str(path)] = str(entry.error)
            self.log.error("invalid post file; skipped", file=str(path), error=entry.error)
            return
        spec = entry.post
        other = self.posts.get(spec.id)
        if other is not None:
            self._conflicts.add(path)
            message = (f"{path}: id {spec.id!r} is already used by "
                       f"{'the config' if other.source == CONFIG_SOURCE else other.source}")
            report.errors[str(path)] = message
            if known is None or known.digest != key:
                self.log.error("invalid post file; skipped", file=str(path), error=message)
            return
        self.posts[spec.id] = LoadedPost(spec, str(path))
        self._owner[path] = spec.id

    def _drop_owner(self, path: Path) -> None:
        post_id = self._owner.pop(path, None)
        if post_id is not None:
            self.posts.pop(post_id, None)

    def _warn_problems(self, loaded: LoadedPost) -> None:
        """Say now, naming the post and its file, what would make it fail at its time."""
        self._warn_missing_media(loaded)
        spec = loaded.spec
        try:
            build_drafts(spec, now=self.bot.now(), scheduled_time=self.bot.now(),
                         variables=self.variables, default_language=self.bot.language,
                         check_media=False)
        except JobError as exc:
            self.log.error("post text cannot be written; the post will fail unless it is fixed",
                           post=spec.id, file=loaded.source, error=str(exc))

    def _warn_missing_media(self, loaded: LoadedPost) -> None:
        for item in loaded.spec.media:
            if not item.path.is_file():
                self.log.error("media file not found; the post will fail unless it is added",
                               post=loaded.spec.id, file=loaded.source, media=str(item.path))

    # -- jobs ------------------------------------------------------------------------------------
    def schedule_of(self, spec: PostSpec) -> Schedule:
        zone = self.bot.timezone

        def local(value: Any) -> Any:
            return value if value is None or value.tzinfo else value.replace(tzinfo=zone)

        if spec.at is not None:
            return at(local(spec.at))
        if spec.cron is not None:
            return cron(spec.cron, start=local(spec.start), until=local(spec.until))
        assert spec.every is not None
        return every(spec.every, start=local(spec.start), until=local(spec.until))

    def job_for(self, spec: PostSpec) -> Job:
        source = self.posts[spec.id].source if spec.id in self.posts else CONFIG_SOURCE
        kind = "native post" if spec.native else "post"
        where = "the config" if source == CONFIG_SOURCE else Path(source).name
        return Job(id=spec.id, schedule=self.schedule_of(spec), func=partial(self.build, spec),
                   description=f"scheduled {kind} from {where}",
                   misfire_grace=self.config.misfire_grace, approval=spec.approval,
                   channels=spec.channels)

    def build(self, spec: PostSpec, ctx: JobContext) -> list[PostDraft]:
        """What a post's job publishes at ``ctx.scheduled_time``."""
        if spec.native:
            return self._build_native(spec, ctx)
        return build_drafts(spec, now=ctx.now, scheduled_time=ctx.scheduled_time,
                            variables=self.variables, default_language=self.bot.language)

    def _build_native(self, spec: PostSpec, ctx: JobContext) -> list[PostDraft]:
        if ctx.preview:
            return [self.native.draft(spec)]
        now = self.bot.now()
        if self.native.when(spec) - now >= timedelta(minutes=5):
            self.native.sync(spec)  # run-job before its time: make sure it is on the server
        draft = self.native.draft(spec, check_media=False)
        stored = self.bot.state.post(draft.dedup_key)
        if self.native.record(spec.id) is not None or (
                stored is not None and stored.state in ("pending", "sent")):
            self.log.info("native post: the server publishes it", post=spec.id)
            return []
        if self.native.available():
            self.log.warning("native post was never accepted by the server; posting it from "
                             "the daemon", post=spec.id)
        else:
            self.log.info("native post published by the daemon (the server cannot list the "
                          "posts it holds)", post=spec.id)
        return build_drafts(spec, now=ctx.now, scheduled_time=ctx.scheduled_time,
                            variables=self.variables, default_language=self.bot.language)

    @property
    def variables(self) -> Mapping[str, Any]:
        return self.config.vars

    def sync_native(self) -> None:
        """Submit new or edited native posts and cancel removed ones (at start)."""
        with self._lock:
            self.native.sync_all(loaded.spec for loaded in self.posts.values())
