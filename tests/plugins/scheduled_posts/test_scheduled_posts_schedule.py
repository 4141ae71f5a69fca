"""When posts go out: at, cron across DST, every, start/until, misfire grace, coalesce, restarts."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import time_machine
from scheduled_posts_helpers import config, job_run, paris, run_due, texts, wait_until
from structlog.testing import capture_logs

import civicbot_scheduled_posts as plugin


def _sent_keys(bot):
    return sorted(p.dedup_key for p in bot.state.store.recent_posts(bot.name, 50))


def test_one_off_post_goes_out_once_at_its_time(civicbot_sandbox, civicbot_make_bot):
    when = paris(2026, 12, 20, 9, 0)
    post = {"id": "horaires-noel", "at": "2026-12-20T09:00:00+01:00",
            "text": "Horaires d'ouverture de la mairie pendant les fêtes : 9 h - 12 h."}
    with time_machine.travel(paris(2026, 12, 20, 8, 0), tick=False) as traveller:
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
        bot.start()
        assert bot.scheduler.next_run_times()["horaires-noel"] == when
        traveller.move_to(when + timedelta(seconds=2))
        run_due(bot, "horaires-noel", when)
        assert texts(civicbot_sandbox.statuses) == [
            "Horaires d'ouverture de la mairie pendant les fêtes : 9 h - 12 h."]
        status = civicbot_sandbox.statuses[0]
        assert (status["visibility"], status["language"]) == ("public", "fr")
        assert bot.scheduler.next_run_times().get("horaires-noel") is None
        assert _sent_keys(bot) == ["scheduled_posts:horaires-noel:2026-12-20T08:00:00+00:00"]


def test_a_time_without_offset_is_read_in_the_config_timezone(civicbot_make_bot):
    post = {"id": "marche", "at": "2026-07-04T08:30:00", "text": "Marché ce matin !"}
    with time_machine.travel(paris(2026, 7, 1, 12, 0), tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
        bot.start()
        assert bot.scheduler.next_run_times()["marche"] == datetime(2026, 7, 4, 6, 30,
                                                                    tzinfo=UTC)


def test_daily_cron_stays_at_nine_local_across_the_october_dst_change(civicbot_sandbox,
                                                                       civicbot_make_bot):
    post = {"id": "bonjour", "cron": "0 9 * * *",
            "text": "Bonjour ! Nous sommes le {{ date }}, il est {{ time }}."}
    with time_machine.travel(paris(2026, 10, 24, 7, 0), tick=False) as traveller:
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
        bot.start()
        for day in (24, 25, 26):
            when = paris(2026, 10, day, 9, 0)
            assert bot.scheduler.next_run_times()["bonjour"] == when
            traveller.move_to(when + timedelta(seconds=20))
            run_due(bot, "bonjour", when)
    assert texts(civicbot_sandbox.statuses) == [
        "Bonjour ! Nous sommes le samedi 24 octobre 2026, il est 09:00.",
        "Bonjour ! Nous sommes le dimanche 25 octobre 2026, il est 09:00.",
        "Bonjour ! Nous sommes le lundi 26 octobre 2026, il est 09:00.",
    ]
    # summer time (UTC+2) before the change, winter time (UTC+1) after it
    assert _sent_keys(bot) == [
        "scheduled_posts:bonjour:2026-10-24T07:00:00+00:00",
        "scheduled_posts:bonjour:2026-10-25T08:00:00+00:00",
        "scheduled_posts:bonjour:2026-10-26T08:00:00+00:00",
    ]


def test_every_runs_from_start_until_until(civicbot_sandbox, civicbot_make_bot):
    post = {"id": "rappel", "every": "2h", "start": "2026-06-01T08:00:00+02:00",
            "until": "2026-06-01T12:30:00+02:00",
            "text": "Rappel de {{ time }} : fête du quartier."}
    with time_machine.travel(paris(2026, 6, 1, 6, 0), tick=False) as traveller:
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
        bot.start()
        for hour in (8, 10, 12):
            when = paris(2026, 6, 1, hour, 0)
            assert bot.scheduler.next_run_times()["rappel"] == when
            traveller.move_to(when + timedelta(seconds=5))
            run_due(bot, "rappel", when)
        assert bot.scheduler.next_run_times().get("rappel") is None
    assert texts(civicbot_sandbox.statuses) == [
        "Rappel de 08:00 : fête du quartier.",
        "Rappel de 10:00 : fête du quartier.",
        "Rappel de 12:00 : fête du quartier.",
    ]


def test_cron_waits_for_start_and_stops_at_until(civicbot_make_bot):
    posts = [
        {"id": "festival", "cron": "0 18 * * *", "start": "2026-07-10T00:00:00",
         "until": "2026-07-12T23:59:00", "text": "Ce soir au festival : concert au château."},
    ]
    with time_machine.travel(paris(2026, 7, 1, 12, 0), tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts))
        assert bot.scheduler.next_run_times()["festival"] == paris(2026, 7, 10, 18, 0)
    with time_machine.travel(paris(2026, 7, 12, 19, 0), tick=False):
        assert bot.scheduler.next_run_times()["festival"] is None


def test_after_downtime_a_post_inside_the_grace_window_goes_out_at_start(civicbot_sandbox,
                                                                          civicbot_make_bot):
    post = {"id": "conseil", "at": "2026-03-10T09:00:00+01:00",
            "text": "Conseil municipal ce soir à 19 h."}
    with time_machine.travel(paris(2026, 3, 10, 9, 40), tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
        bot.start()
        wait_until(lambda: job_run(bot, "conseil") == (paris(2026, 3, 10, 9, 0), "ok"))
    assert texts(civicbot_sandbox.wait_for_statuses(1)) == ["Conseil municipal ce soir à 19 h."]


def test_after_downtime_an_older_post_is_recorded_as_missed_not_posted(civicbot_sandbox,
                                                                        civicbot_make_bot):
    post = {"id": "conseil", "at": "2026-03-10T09:00:00+01:00",
            "text": "Conseil municipal ce soir à 19 h."}
    with capture_logs() as logs, time_machine.travel(paris(2026, 3, 10, 10, 30), tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
        bot.start()
        wait_until(lambda: job_run(bot, "conseil") == (paris(2026, 3, 10, 9, 0), "missed"))
        assert bot.scheduler.wait_idle()
    assert civicbot_sandbox.statuses == []
    [warning] = [e for e in logs if e.get("job") == "conseil" and e["log_level"] == "warning"]
    assert warning["event"] == "run missed by more than the misfire grace; not posted"
    assert warning["late_s"] == 5400


def test_plugin_misfire_grace_overrides_the_core_default(civicbot_sandbox, civicbot_make_bot,
                                                         tmp_path):
    posts = [
        {"id": "conseil", "at": "2026-03-10T09:00:00+01:00", "text": "Conseil ce soir."},
    ]
    with time_machine.travel(paris(2026, 3, 10, 10, 30), tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts, misfire_grace="2h"))
        assert bot.jobs["conseil"].misfire_grace == timedelta(hours=2)
        bot.start()
        wait_until(lambda: job_run(bot, "conseil") == (paris(2026, 3, 10, 9, 0), "ok"))
    assert texts(civicbot_sandbox.wait_for_statuses(1)) == ["Conseil ce soir."]
    with time_machine.travel(paris(2026, 3, 10, 9, 15), tick=False):
        short = civicbot_make_bot(plugins=[plugin], config=config(posts, misfire_grace="10m"),
                                  state=tmp_path / "other.sqlite3")
        short.start()
        wait_until(lambda: job_run(short, "conseil") == (paris(2026, 3, 10, 9, 0), "missed"))
    assert len(civicbot_sandbox.statuses) == 1


def test_a_recurring_post_that_missed_several_runs_posts_once(civicbot_sandbox,
                                                              civicbot_make_bot, tmp_path):
    post = {"id": "bonjour", "cron": "0 9 * * *", "text": "Bonjour, nous sommes le {{ date }}."}
    state = tmp_path / "state.sqlite3"
    with time_machine.travel(paris(2026, 6, 1, 8, 0), tick=False) as traveller:
        first = civicbot_make_bot(plugins=[plugin], config=config([post]), state=state)
        first.start()
        traveller.move_to(paris(2026, 6, 1, 9, 0, 10))
        run_due(first, "bonjour", paris(2026, 6, 1, 9, 0))
        first.stop()
        # three days down; back at 09:20 on the 4th
        traveller.move_to(paris(2026, 6, 4, 9, 20))
        with capture_logs() as logs:
            second = civicbot_make_bot(plugins=[plugin], config=config([post]), state=state)
            second.start()
            wait_until(lambda: job_run(second, "bonjour") == (paris(2026, 6, 4, 9, 0), "ok"))
            assert second.scheduler.wait_idle()
    assert texts(civicbot_sandbox.statuses) == [
        "Bonjour, nous sommes le lundi 1 juin 2026.",
        "Bonjour, nous sommes le jeudi 4 juin 2026.",
    ]
    [coalesced] = [e for e in logs if e["event"] == "missed runs coalesced into one"
                   and e["job"] == "bonjour"]
    assert coalesced["missed"] == 2


def test_restart_right_after_posting_never_posts_again(civicbot_sandbox, civicbot_make_bot,
                                                       tmp_path):
    """kill -9 between the post and the scheduler's bookkeeping: the dedup key still holds."""
    post = {"id": "festival", "at": "2026-07-10T18:00:00+02:00",
            "text": "Le festival commence ! Programme au château.",
            "thread": ["Concert à 20 h.", "Feu d'artifice à 23 h."]}
    state = tmp_path / "state.sqlite3"
    when = paris(2026, 7, 10, 18, 0)
    with time_machine.travel(when - timedelta(minutes=1), tick=False) as traveller:
        first = civicbot_make_bot(plugins=[plugin], config=config([post]), state=state)
        first.start()
        traveller.move_to(when + timedelta(seconds=3))
        run_due(first, "festival", when)
        assert len(civicbot_sandbox.statuses) == 3
        # what a kill -9 just after posting leaves: posts recorded, run not recorded
        with sqlite3.connect(state) as db:
            db.execute("DELETE FROM job_runs WHERE job_id = 'festival'")
        posts_before = len([r for r in civicbot_sandbox.requests
                            if r.method == "POST" and r.path == "/api/v1/statuses"])
        traveller.move_to(when + timedelta(minutes=4))
        second = civicbot_make_bot(plugins=[plugin], config=config([post]), state=state)
        second.start()
        wait_until(lambda: job_run(second, "festival") == (when, "ok"))
        assert second.scheduler.wait_idle()
    assert len(civicbot_sandbox.statuses) == 3
    posts_after = len([r for r in civicbot_sandbox.requests
                       if r.method == "POST" and r.path == "/api/v1/statuses"])
    assert posts_after == posts_before
