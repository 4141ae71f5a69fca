"""Schedules, windows across daylight saving, the config, and a real scheduled run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import time_machine
from event_digest_support import PARIS, WEEK_PART_1, WEEK_PART_2, WEEK_PART_3, blois_sources
from pydantic import ValidationError

import civicbot_event_digest
from civicbot import Bot, html_to_text
from civicbot_event_digest.config import EventDigestConfig, NextDays
from civicbot_event_digest.windows import period_for


@pytest.mark.parametrize(("window", "now", "start", "end"), [
    # the week holding the last Sunday of October: 7 days and one hour long
    ("this_week", datetime(2026, 10, 25, 23, 0, tzinfo=PARIS), "2026-10-19T00:00:00+02:00",
     "2026-10-26T00:00:00+01:00"),
    ("this_week", datetime(2026, 12, 7, 0, 0, tzinfo=PARIS), "2026-12-07T00:00:00+01:00",
     "2026-12-14T00:00:00+01:00"),
    ("weekend", datetime(2026, 12, 11, 17, 0, tzinfo=PARIS), "2026-12-12T00:00:00+01:00",
     "2026-12-14T00:00:00+01:00"),
    ("weekend", datetime(2026, 12, 13, 10, 0, tzinfo=PARIS), "2026-12-12T00:00:00+01:00",
     "2026-12-14T00:00:00+01:00"),
    ("today", datetime(2027, 3, 28, 12, 0, tzinfo=PARIS), "2027-03-28T00:00:00+01:00",
     "2027-03-29T00:00:00+02:00"),
    (NextDays(next_days=3), datetime(2026, 12, 30, 9, 0, tzinfo=PARIS),
     "2026-12-30T00:00:00+01:00", "2027-01-02T00:00:00+01:00"),
])
def test_periods(window: Any, now: datetime, start: str, end: str) -> None:
    period = period_for(window, now, PARIS)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


def test_config_errors_are_clear() -> None:
    with pytest.raises(ValidationError, match="two sources are named 'Ville'"):
        EventDigestConfig.model_validate({
            "sources": [{"name": "Ville", "ics": "a.ics"}, {"name": "Ville", "jsonld": "b"}]})
    with pytest.raises(ValidationError, match="digest 'semaine': give either cron or every"):
        EventDigestConfig.model_validate({"sources": [{"name": "Ville", "ics": "a.ics"}],
                                          "digests": [{"id": "semaine"}]})
    with pytest.raises(ValidationError, match="Input should be 'this_week', 'weekend' or"):
        EventDigestConfig.model_validate({"sources": [{"name": "Ville", "ics": "a.ics"}],
                                          "digests": [{"id": "s", "cron": "0 8 * * 1",
                                                       "window": "month"}]})
    with pytest.raises(ValidationError, match="expected the agenda's numeric uid"):
        EventDigestConfig.model_validate({"sources": [
            {"name": "F", "openagenda": {"agenda": "blois", "key": "k"}}]})
    with pytest.raises(ValidationError, match="job id 'semaine' is used twice"):
        EventDigestConfig.model_validate({
            "sources": [{"name": "Ville", "ics": "a.ics"}],
            "digests": [{"id": "semaine", "cron": "0 8 * * 1"},
                        {"id": "semaine", "cron": "0 9 * * 1"}]})


def test_relative_paths_and_key_file(tmp_path: Any) -> None:
    (tmp_path / "oa.key").write_text("s3cret\n")
    config = EventDigestConfig.model_validate(
        {"sources": [{"name": "Ville", "ics": "agendas/ville.ics"},
                     {"name": "F", "openagenda": {"agenda": 123, "key_file": "oa.key"}},
                     {"name": "M", "jsonld": "https://musee.example.org/agenda"}]},
        context={"base_dir": tmp_path})
    assert config.sources[0].ics == str(tmp_path / "agendas" / "ville.ics")
    assert config.sources[1].openagenda is not None
    assert config.sources[1].openagenda.key.get_secret_value() == "s3cret"
    assert config.sources[1].openagenda.base_url == "https://api.openagenda.com/v2"
    assert config.sources[2].jsonld == "https://musee.example.org/agenda"


def test_monday_digest_runs_at_eight_and_posts_the_thread(
        civicbot_make_bot: Callable[..., Bot], civicbot_sandbox: Any) -> None:
    with time_machine.travel(datetime(2026, 12, 7, 7, 59, 58, tzinfo=PARIS), tick=False) as t:
        bot = civicbot_make_bot(plugins=[civicbot_event_digest], config={
            "timezone": "Europe/Paris",
            "plugins": {"event_digest": {
                "sources": blois_sources(), "hashtags": ["AgendaBlois"],
                "digests": [{"id": "semaine", "cron": "0 8 * * 1", "window": "this_week"}]}}})
        assert bot.scheduler.next_run_times()["semaine"] == datetime(2026, 12, 7, 8, 0,
                                                                     tzinfo=PARIS)
        bot.start()
        t.move_to(datetime(2026, 12, 7, 8, 0, 1, tzinfo=PARIS))
        bot.scheduler.wakeup()
        statuses = civicbot_sandbox.wait_for_statuses(3)
        bot.scheduler.wait_idle()
        assert bot.scheduler.next_run_times()["semaine"] == datetime(2026, 12, 14, 8, 0,
                                                                     tzinfo=PARIS)
    assert [html_to_text(s["content"]) for s in statuses] == [WEEK_PART_1, WEEK_PART_2,
                                                              WEEK_PART_3]
    assert statuses[0]["in_reply_to_id"] is None
    assert statuses[1]["in_reply_to_id"] == statuses[0]["id"]
    assert statuses[2]["in_reply_to_id"] == statuses[1]["id"]
    assert {s["language"] for s in statuses} == {"fr"}
