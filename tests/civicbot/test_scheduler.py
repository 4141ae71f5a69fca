"""The scheduler facade: cron in local time, misfire grace, coalesce, restart bookkeeping."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from structlog.testing import capture_logs

from civicbot import Job, JobError, PostDraft, at, cron, every, hookimpl
from civicbot.triggers import build_trigger, crontab_weekdays

PARIS = ZoneInfo("Europe/Paris")


class Weekly:
    """A job posting every Monday 09:00, its dedup key built from the scheduled time."""

    def __init__(self, schedule=None, grace=None):
        self.schedule = schedule or cron("0 9 * * 1")
        self.grace = grace
        self.runs: list[datetime] = []

    @hookimpl
    def civicbot_register_jobs(self, register):
        def build(ctx):
            self.runs.append(ctx.scheduled_time)
            day = ctx.scheduled_time.astimezone(PARIS).strftime("%d/%m %H:%M")
            yield PostDraft(text=f"Bonne semaine ! ({day})",
                            dedup_key=f"weekly:{ctx.scheduled_time.isoformat()}")

        register(Job(id="lundi", schedule=self.schedule, func=build, misfire_grace=self.grace))


def test_crontab_weekday_numbers_are_translated():
    assert crontab_weekdays("1") == "mon"
    assert crontab_weekdays("0") == "sun"
    assert crontab_weekdays("7") == "sun"
    assert crontab_weekdays("1-5") == "mon-fri"
    assert crontab_weekdays("6,0") == "sat,sun"
    assert crontab_weekdays("*/2") == "*/2"


def test_cron_is_local_time_across_dst():
    trigger = build_trigger(cron("0 9 * * *"), PARIS)
    before = datetime(2026, 10, 24, 10, 0, tzinfo=PARIS)
    fires = []
    now = before
    for _ in range(3):
        now = trigger.get_next_fire_time(None, now + timedelta(seconds=1))
        fires.append(now)
    assert [f.strftime("%d %H:%M %z") for f in fires] == [
        "25 09:00 +0100", "26 09:00 +0100", "27 09:00 +0100"]
    assert build_trigger(cron("0 9 * * *"), PARIS).get_next_fire_time(
        None, datetime(2026, 10, 24, 8, tzinfo=PARIS)).strftime("%z") == "+0200"


def test_job_runs_at_its_time_with_fake_time(civicbot_sandbox, civicbot_make_bot):
    weekly = Weekly()
    with time_machine.travel(datetime(2026, 11, 30, 8, 59, tzinfo=PARIS), tick=False) as clock:
        bot = civicbot_make_bot(plugins=[weekly])
        bot.start()
        nxt = bot.scheduler.next_run_times()["lundi"]
        assert nxt == datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)
        clock.move_to(datetime(2026, 11, 30, 9, 0, 5, tzinfo=PARIS))
        bot.scheduler.wakeup()
        [status] = civicbot_sandbox.wait_for_statuses(1)
        bot.scheduler.wait_idle()
    assert "Bonne semaine ! (30/11 09:00)" in status["content"]
    assert bot.state.store.get_job_run(bot.name, "lundi")[1] == "ok"


def test_missed_runs_after_downtime_coalesce_into_one(civicbot_sandbox, civicbot_make_bot,
                                                      tmp_path: Path):
    state = tmp_path / "s.sqlite3"
    weekly = Weekly(schedule=cron("0 * * * *"))  # hourly
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, 1, tzinfo=PARIS), tick=False) as clock:
        bot = civicbot_make_bot(plugins=[weekly], state=state)
        bot.state.store.set_job_run(bot.name, "lundi",
                                    datetime(2026, 12, 1, 6, 0, tzinfo=PARIS), "ok")
        clock.move_to(datetime(2026, 12, 1, 10, 20, tzinfo=PARIS))
        with capture_logs() as logs:
            bot.start()  # 07:00, 08:00, 09:00 and 10:00 were missed: one post, for 10:00
            [status] = civicbot_sandbox.wait_for_statuses(1)
            bot.scheduler.wait_idle()
    assert weekly.runs == [datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)]
    assert "(01/12 10:00)" in status["content"]
    assert any(e["event"] == "missed runs coalesced into one" and e["missed"] == 3 for e in logs)


def test_one_off_missed_beyond_grace_is_recorded_not_posted(civicbot_sandbox, civicbot_make_bot):
    late = Weekly(schedule=at(datetime(2026, 12, 20, 9, 0)), grace=timedelta(hours=1))
    with time_machine.travel(datetime(2026, 12, 20, 11, 0, tzinfo=PARIS), tick=False), \
            capture_logs() as logs:
        bot = civicbot_make_bot(plugins=[late])
        bot.start()
        bot.scheduler.wakeup()
        assert wait_until(lambda: bot.state.store.get_job_run(bot.name, "lundi") is not None)
    assert late.runs == []
    assert civicbot_sandbox.statuses == []
    assert bot.state.store.get_job_run(bot.name, "lundi")[1] == "missed"
    assert any(e["event"].startswith("run missed by more than the misfire grace") for e in logs)


def test_one_off_missed_within_grace_is_posted_at_start(civicbot_sandbox, civicbot_make_bot):
    soon = Weekly(schedule=at(datetime(2026, 12, 20, 9, 0)), grace=timedelta(hours=1))
    with time_machine.travel(datetime(2026, 12, 20, 9, 40, tzinfo=PARIS), tick=False):
        bot = civicbot_make_bot(plugins=[soon])
        bot.start()
        civicbot_sandbox.wait_for_statuses(1)
        bot.scheduler.wait_idle()
        assert bot.scheduler.next_run_times()["lundi"] is None
    assert soon.runs == [datetime(2026, 12, 20, 9, 0, tzinfo=PARIS)]


def test_restart_after_posting_does_not_post_again(civicbot_sandbox, civicbot_make_bot,
                                                   tmp_path: Path):
    state = tmp_path / "s.sqlite3"
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, 2, tzinfo=PARIS), tick=False):
        first = civicbot_make_bot(plugins=[Weekly()], state=state)
        # a run recorded as pending-and-sent but not yet in job_runs: the kill -9 window
        job = first.jobs["lundi"]
        first.scheduler.run(job, datetime(2026, 11, 30, 9, 0, tzinfo=PARIS), record=False)
        first.stop()
        second = civicbot_make_bot(plugins=[Weekly(schedule=cron("0 9 * * 1"))], state=state)
        second.state.store.set_job_run(second.name, "lundi",
                                       datetime(2026, 11, 23, 9, 0, tzinfo=PARIS), "ok")
        second.start()
        second.scheduler.wakeup()
        assert wait_until(lambda: second.state.store.get_job_run(second.name, "lundi")[0]
                          == datetime(2026, 11, 30, 9, 0, tzinfo=PARIS))
        second.scheduler.wait_idle()
    assert len(civicbot_sandbox.statuses) == 1


def test_every_with_start_and_until(civicbot_make_bot):
    schedule = every(timedelta(hours=2), start=datetime(2026, 12, 1, 8, 0),
                     until=datetime(2026, 12, 1, 13, 0))
    trigger = build_trigger(schedule, PARIS)
    fires, now = [], datetime(2026, 12, 1, 0, 0, tzinfo=PARIS)
    while (now := trigger.get_next_fire_time(None, now)) is not None:
        fires.append(now.strftime("%H:%M"))
        now += timedelta(seconds=1)
    assert fires == ["08:00", "10:00", "12:00"]


def test_preview_changes_nothing_and_reports_job_errors(civicbot_make_bot):
    class Failing:
        @hookimpl
        def civicbot_register_jobs(self, register):
            def build(ctx):
                raise JobError("every source failed")
            register(Job(id="digest", schedule=cron("0 8 * * 1"), func=build))

    bot = civicbot_make_bot(plugins=[Weekly(), Failing()])
    [draft] = bot.scheduler.preview("lundi", datetime(2026, 12, 7, 9, 0, tzinfo=PARIS))
    assert draft.text == "Bonne semaine ! (07/12 09:00)"
    assert bot.state.store.get_job_run(bot.name, "lundi") is None
    try:
        bot.scheduler.preview("digest")
    except JobError as exc:
        assert "every source failed" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("preview should raise")


def wait_until(predicate, timeout: float = 15.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_scheduler_is_built_once_whatever_thread_asks(civicbot_make_bot):
    import threading

    bot = civicbot_make_bot(plugins=[Weekly()])
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(bot.scheduler)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(s) for s in seen}) == 1


def test_a_job_that_cannot_be_scheduled_stops_alone(civicbot_sandbox, civicbot_make_bot):
    """A schedule APScheduler refuses (built without the checked helpers) drops its job with an
    error; the other jobs and the replies of the account go on."""
    from civicbot import Schedule

    class Broken:
        @hookimpl
        def civicbot_register_jobs(self, register):
            register(Job(id="cassee", schedule=Schedule(kind="cron", cron="0 8 * * lundi"),
                         func=lambda ctx: []))

    weekly = Weekly()
    with time_machine.travel(datetime(2026, 11, 30, 8, 59, tzinfo=PARIS), tick=False) as clock, \
            capture_logs() as logs:
        bot = civicbot_make_bot(plugins=[Broken(), weekly])
        bot.start()
        assert "cassee" in bot.scheduler.unschedulable
        assert "lundi" in bot.scheduler.next_run_times()
        assert "cassee" not in bot.scheduler.next_run_times()
        clock.move_to(datetime(2026, 11, 30, 9, 0, 5, tzinfo=PARIS))
        bot.scheduler.wakeup()
        civicbot_sandbox.wait_for_statuses(1)
        bot.scheduler.wait_idle()
    [error] = [e for e in logs if e["event"] == "job could not be scheduled; it will not run"]
    assert error["job"] == "cassee" and "lundi" in error["error"]
