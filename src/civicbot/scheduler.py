"""A facade over APScheduler 3: jobs by id, misfire grace, coalesce, bookkeeping, preview.

APScheduler decides *when*; this module decides *whether* and *what*: each run is checked
against the job's misfire grace (a run missed by more is recorded as missed and logged, never
posted late by surprise), missed runs are coalesced into one, and the last run time of every job
is kept in the state store so that, after a restart, runs missed during the downtime are seen.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job as APJob
from apscheduler.schedulers.background import BackgroundScheduler

from civicbot.drafts import PostDraft
from civicbot.errors import JobError
from civicbot.jobs import Job, JobContext
from civicbot.triggers import build_trigger, first_fire_after, fixed_hour, repeated_wall_time

if TYPE_CHECKING:
    from civicbot.bot import Bot
    from civicbot.publisher import PublishResult


class _Executor(BaseExecutor):  # type: ignore[misc]
    """Runs APScheduler's submissions through :meth:`JobScheduler._execute`."""

    def __init__(self, owner: JobScheduler, workers: int) -> None:
        super().__init__()
        self._owner = owner
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix=f"civicbot-jobs-{owner.bot.name}")

    def _do_submit_job(self, job: APJob, run_times: list[datetime]) -> None:
        def done(future: concurrent.futures.Future[None]) -> None:
            exc = future.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, [])

        self._owner._track(self._pool.submit(self._owner._execute, job.id, run_times)
                           ).add_done_callback(done)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait)


class JobScheduler:
    """The jobs of one account."""

    def __init__(self, bot: Bot, jobs: Sequence[Job], *, workers: int = 4) -> None:
        self.bot = bot
        self.jobs: dict[str, Job] = {job.id: job for job in jobs}
        self.workers = workers
        self.log = structlog.get_logger("civicbot.scheduler").bind(account=bot.name)
        self._scheduler: BackgroundScheduler | None = None
        self._futures: set[concurrent.futures.Future[None]] = set()
        self._futures_lock = threading.Lock()
        self.runs = 0
        self.failures = 0
        #: Jobs dropped because their schedule could not be built: id -> reason.
        self.unschedulable: dict[str, str] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    def start(self) -> None:
        scheduler = BackgroundScheduler(
            timezone=self.bot.timezone,
            executors={"default": _Executor(self, self.workers)},
            job_defaults={"coalesce": False, "misfire_grace_time": None, "max_instances": 1},
        )
        for job in list(self.jobs.values()):
            try:
                next_run = self._first_run(job)
                scheduler.add_job(self._never_called, trigger=build_trigger(
                    job.schedule, self.bot.timezone), id=job.id, name=job.id,
                    next_run_time=next_run)
            except Exception as exc:  # one bad schedule stops its job, not the account
                self._unschedulable(job, exc)
        scheduler.start()
        self._scheduler = scheduler
        for job_id, when in self.next_run_times().items():
            self.log.info("job scheduled", job=job_id, next_run=when.isoformat() if when else None)

    def _unschedulable(self, job: Job, exc: Exception) -> None:
        """A job whose schedule cannot be built is dropped with an error; the others run."""
        self.jobs.pop(job.id, None)
        self.unschedulable[job.id] = str(exc)
        self.log.error("job could not be scheduled; it will not run", job=job.id,
                       plugin=job.plugin, schedule=job.schedule.describe(), error=str(exc))

    @staticmethod
    def _never_called() -> None:  # pragma: no cover - our executor runs jobs itself
        raise AssertionError("civicbot runs jobs through its own executor")

    def add(self, job: Job, *, replace: bool = False) -> None:
        """Add a job while running (a plugin reloading its files); ``replace`` reschedules a job
        of the same id. Run bookkeeping is kept, so an edited post is not posted twice."""
        if job.id in self.jobs and not replace:
            raise ValueError(f"job {job.id!r} already exists")
        self.jobs[job.id] = job
        if self._scheduler is not None:
            if self._scheduler.get_job(job.id) is not None:
                self._scheduler.remove_job(job.id)
            try:
                self._scheduler.add_job(self._never_called, trigger=build_trigger(
                    job.schedule, self.bot.timezone), id=job.id, name=job.id,
                    next_run_time=self._first_run(job))
            except Exception as exc:
                self._unschedulable(job, exc)
                return
            self.log.info("job scheduled", job=job.id)

    def remove(self, job_id: str) -> bool:
        """Cancel a job (a deleted post file); False if there was none."""
        if self.jobs.pop(job_id, None) is None:
            return False
        if self._scheduler is not None and self._scheduler.get_job(job_id) is not None:
            self._scheduler.remove_job(job_id)
        self.log.info("job removed", job=job_id)
        return True

    def stop(self, wait: bool = True) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=wait)
            self._scheduler = None

    def wakeup(self) -> None:
        """Re-check due jobs now (after a time jump in tests, or a new job)."""
        if self._scheduler is not None:
            self._scheduler.wakeup()

    def _track(self, future: concurrent.futures.Future[None]) -> concurrent.futures.Future[None]:
        with self._futures_lock:
            self._futures.add(future)
        future.add_done_callback(self._untrack)
        return future

    def _untrack(self, future: concurrent.futures.Future[None]) -> None:
        with self._futures_lock:
            self._futures.discard(future)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no job is running (tests); True if idle."""
        with self._futures_lock:
            futures = list(self._futures)
        _done, pending = concurrent.futures.wait(futures, timeout=timeout)
        return not pending

    # -- what runs when ------------------------------------------------------------------------
    def _first_run(self, job: Job) -> datetime | None:
        trigger = build_trigger(job.schedule, self.bot.timezone)
        last = self.bot.state.store.get_job_run(self.bot.name, job.id)
        if last is not None:
            # read back with a fixed UTC offset: APScheduler needs the zone to step past it
            return first_fire_after(trigger, last[0].astimezone(self.bot.timezone))
        now = self.bot.now()
        if job.schedule.kind == "at":
            fire: datetime | None = trigger.get_next_fire_time(None, now)
            return fire
        fire = trigger.get_next_fire_time(None, now)
        return fire

    def next_run_times(self) -> dict[str, datetime | None]:
        """Next run time of every job (``None``: done or past its ``until``)."""
        if self._scheduler is not None:
            live = {j.id: j.next_run_time for j in self._scheduler.get_jobs()}
            return {job_id: live.get(job_id) for job_id in self.jobs}
        out: dict[str, datetime | None] = {}
        for job in list(self.jobs.values()):
            try:
                out[job.id] = self._first_run(job)
            except Exception as exc:
                self._unschedulable(job, exc)
        return out

    def grace(self, job: Job) -> timedelta:
        if job.misfire_grace is not None:
            return job.misfire_grace
        return self.bot.settings.core.scheduler.misfire_grace

    def _execute(self, job_id: str, run_times: list[datetime]) -> None:
        job = self.jobs.get(job_id)
        if job is None:  # removed while the run was being submitted
            return
        # in UTC: two times of the same ZoneInfo subtract as wall clocks (wrong across DST)
        now = self.bot.now().astimezone(UTC)
        times = run_times[-1:] if job.coalesce else run_times
        if len(run_times) > 1 and job.coalesce:
            self.log.info("missed runs coalesced into one", job=job_id,
                          missed=len(run_times) - 1)
        last = self.bot.state.store.get_job_run(self.bot.name, job_id)
        ran = [last[0].astimezone(UTC)] if last is not None and last[1] != "missed" else []
        for run_time in times:
            if self._repeat_of_a_run(job, run_time, ran):
                self.bot.state.store.set_job_run(self.bot.name, job_id, run_time, "ok")
                self.log.info("hour repeated by the end of summer time; not run twice",
                              job=job_id, scheduled=run_time.isoformat())
                continue
            late = now - run_time.astimezone(UTC)
            if late > self.grace(job):
                self.bot.state.store.set_job_run(self.bot.name, job_id, run_time, "missed")
                self.log.warning("run missed by more than the misfire grace; not posted",
                                 job=job_id, scheduled=run_time.isoformat(),
                                 late_s=int(late.total_seconds()))
                continue
            self.run(job, run_time)
            ran.append(run_time.astimezone(UTC))

    def _repeat_of_a_run(self, job: Job, run_time: datetime, ran: list[datetime]) -> bool:
        """APScheduler 3 fires ``30 2 * * *`` at 02:30 summer time and again at 02:30 winter
        time; crontab runs it once. True for that second pass when the first one was run (not
        missed); a job with a wildcard hour (``15 * * * *``) runs in both passes."""
        zone = self.bot.timezone
        if not fixed_hour(job.schedule) or not repeated_wall_time(run_time, zone):
            return False
        first_pass = run_time.astimezone(zone).replace(fold=0).astimezone(UTC)
        return any(first_pass <= t < run_time.astimezone(UTC) for t in ran)

    def run(self, job: Job, scheduled_time: datetime, *, dry_run: bool | None = None,
            record: bool = True) -> list[PublishResult]:
        """Run ``job`` for ``scheduled_time`` now and publish its drafts."""
        self.runs += 1
        ctx = JobContext(bot=self.bot, job=job, scheduled_time=scheduled_time,
                         now=max(self.bot.now(), scheduled_time))
        log = self.log.bind(job=job.id, scheduled=scheduled_time.isoformat())
        approval = None
        try:
            if job.approval == "required" and record:
                from civicbot.approvals import drafts_for_run

                drafts, approval = drafts_for_run(self.bot, job, scheduled_time)
                drafts = [self._tag(d, job) for d in drafts]
            else:
                drafts = [self._tag(d, job) for d in (job.func(ctx) or [])]
        except Exception as exc:
            self.failures += 1
            if record:
                self.bot.state.store.set_job_run(self.bot.name, job.id, scheduled_time, "error")
            if isinstance(exc, JobError):
                log.error("job could not build its posts", error=str(exc))
            else:
                log.error("job failed", exc_info=exc)
            return []
        results = self.bot.publish(*drafts, dry_run=dry_run) if drafts else []
        if approval is not None:
            from civicbot.approvals import mark_published

            mark_published(self.bot, approval, [f"{r.draft.dedup_key}: {r.skipped}"
                                                for r in results
                                                if r.skipped and r.skipped != "already posted"])
        if record:
            self.bot.state.store.set_job_run(self.bot.name, job.id, scheduled_time, "ok")
        # a run that posts nothing (a reload, a poll) is routine: keep it out of the info log
        (log.info if drafts else log.debug)("job ran", drafts=len(drafts))
        return results

    @staticmethod
    def _tag(draft: Any, job: Job) -> PostDraft:
        if not isinstance(draft, PostDraft):
            raise JobError(f"job {job.id!r} returned {draft!r}, not a PostDraft")
        tagged: PostDraft = draft if draft.job else draft.replace(job=job.id)
        if tagged.channels is None and job.channels is not None:
            tagged = tagged.replace(channels=tuple(job.channels))
        return tagged if tagged.source else tagged.replace(source=job.plugin or job.id)

    def preview(self, job_id: str, at: datetime | None = None) -> list[PostDraft]:
        """The drafts ``job_id`` would publish if it ran at ``at``; nothing is posted or changed.

        Raises :class:`JobError` when the job cannot build its posts.
        """
        job = self.get(job_id)
        when = at or self.bot.now()
        ctx = JobContext(bot=self.bot, job=job, scheduled_time=when, now=when, preview=True)
        return [self._tag(d, job) for d in (job.func(ctx) or [])]

    def get(self, job_id: str) -> Job:
        try:
            return self.jobs[job_id]
        except KeyError:
            known = ", ".join(sorted(self.jobs)) or "none"
            raise JobError(f"no job {job_id!r} (jobs: {known})") from None
