"""The evening reminder, tested like a plugin author would: a real bot, the sandbox, fake time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from civicbot import ConfigError, html_to_text

import civicbot_waste_collection

PARIS = ZoneInfo("Europe/Paris")
CALENDAR = """date,type
# secteur centre-ville
2026-12-03,Ordures ménagères
2026-12-05,Verre
2026-12-10,Ordures ménagères
2026-12-10,Emballages
2027-01-01,Encombrants
"""


@pytest.fixture
def calendar(tmp_path: Path) -> Path:
    path = tmp_path / "collecte-dechets.csv"
    path.write_text(CALENDAR, encoding="utf-8")
    return path


def config(calendar: Path, **section: object) -> dict[str, object]:
    return {"plugins": {"waste_collection": {"calendar": str(calendar), **section}}}


def test_posts_the_evening_before_at_19(civicbot_sandbox, civicbot_make_bot, calendar):
    with time_machine.travel(datetime(2026, 12, 2, 18, 59, tzinfo=PARIS), tick=False) as clock:
        bot = civicbot_make_bot(plugins=[civicbot_waste_collection], config=config(calendar))
        bot.start()
        bot.scheduler.wait_idle()
        assert civicbot_sandbox.statuses == []  # not before 19:00

        clock.move_to(datetime(2026, 12, 2, 19, 0, 1, tzinfo=PARIS))
        bot.scheduler.wakeup()
        [status] = civicbot_sandbox.wait_for_statuses(1)

    assert html_to_text(status["content"]) == (
        "Demain jeudi 3 décembre : collecte des ordures ménagères. "
        "Sortez vos bacs ce soir ! #CollecteDéchets"
    )
    assert status["visibility"] == "public"
    assert status["language"] == "fr"


def test_a_restart_does_not_post_the_reminder_twice(
    civicbot_sandbox, civicbot_make_bot, calendar, tmp_path
):
    state = tmp_path / "bot.sqlite3"
    with time_machine.travel(datetime(2026, 12, 2, 18, 59, tzinfo=PARIS), tick=False) as clock:
        first = civicbot_make_bot(plugins=[civicbot_waste_collection], config=config(calendar),
                                  state=state)
        first.start()
        clock.move_to(datetime(2026, 12, 2, 19, 0, 1, tzinfo=PARIS))
        first.scheduler.wakeup()
        civicbot_sandbox.wait_for_statuses(1)
        first.scheduler.wait_idle()
        first.stop()

        clock.move_to(datetime(2026, 12, 2, 19, 20, tzinfo=PARIS))
        second = civicbot_make_bot(plugins=[civicbot_waste_collection], config=config(calendar),
                                   state=state)
        # the same evening's run again, as after a crash before its bookkeeping was saved
        [result] = second.scheduler.run(second.jobs["waste_collection"],
                                        datetime(2026, 12, 2, 19, 0, tzinfo=PARIS))

    assert result.skipped == "already posted"  # recognised by its dedup key
    assert len(civicbot_sandbox.statuses) == 1


def test_several_collections_on_one_day_make_one_post(civicbot_make_bot, calendar):
    bot = civicbot_make_bot(plugins=[civicbot_waste_collection],
                            config=config(calendar, hashtags=["collecte déchets", "Blois"]))
    [draft] = bot.scheduler.preview("waste_collection", datetime(2026, 12, 9, 19, tzinfo=PARIS))
    assert draft.text == (
        "Demain jeudi 10 décembre : collecte des ordures ménagères et des emballages. "
        "Sortez vos bacs ce soir ! #CollecteDéchets #Blois"
    )
    assert draft.dedup_key == "waste_collection:2026-12-10"


def test_singular_types_and_the_first_of_the_month(civicbot_make_bot, calendar):
    bot = civicbot_make_bot(plugins=[civicbot_waste_collection], config=config(calendar))
    [glass] = bot.scheduler.preview("waste_collection", datetime(2026, 12, 4, 19, tzinfo=PARIS))
    [bulky] = bot.scheduler.preview("waste_collection", datetime(2026, 12, 31, 19, tzinfo=PARIS))
    assert glass.text.startswith("Demain samedi 5 décembre : collecte du verre.")
    assert bulky.text.startswith("Demain vendredi 1er janvier : collecte des encombrants.")


def test_no_post_when_tomorrow_is_not_a_collection_day(civicbot_make_bot, calendar):
    bot = civicbot_make_bot(plugins=[civicbot_waste_collection], config=config(calendar))
    assert bot.scheduler.preview("waste_collection",
                                 datetime(2026, 12, 3, 19, tzinfo=PARIS)) == []


def test_english_posts(civicbot_make_bot, calendar):
    bot = civicbot_make_bot(plugins=[civicbot_waste_collection],
                            config={**config(calendar, hashtags=["waste collection"]),
                                    "language": "en"})
    [draft] = bot.scheduler.preview("waste_collection", datetime(2026, 12, 2, 19, tzinfo=PARIS))
    assert draft.text == ("Tomorrow, Thursday 3 December: ordures ménagères collection. "
                          "Put your bins out tonight! #WasteCollection")


def test_the_hour_is_configurable(civicbot_make_bot, calendar):
    bot = civicbot_make_bot(plugins=[civicbot_waste_collection], config=config(calendar, hour=20))
    assert bot.jobs["waste_collection"].schedule.cron == "0 20 * * *"


def test_without_its_section_the_plugin_does_nothing(civicbot_make_bot):
    bot = civicbot_make_bot(plugins=[civicbot_waste_collection])
    assert "waste_collection" not in bot.jobs
    assert bot.commands == []


def test_a_bad_calendar_line_is_a_config_error_naming_the_line(civicbot_make_bot, tmp_path):
    bad = tmp_path / "collecte.csv"
    bad.write_text("date,type\n2026-12-03,Ordures ménagères\n2026-13-01,Verre\n",
                   encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        civicbot_make_bot(plugins=[civicbot_waste_collection], config=config(bad))
    [problem] = error.value.problems
    assert problem.endswith("plugins.waste_collection.calendar: collecte.csv:3: '2026-13-01' "
                            "is not a date (expected YYYY-MM-DD)")


def test_an_hour_out_of_range_is_a_config_error(civicbot_make_bot, calendar):
    with pytest.raises(ConfigError) as error:
        civicbot_make_bot(plugins=[civicbot_waste_collection], config=config(calendar, hour=25))
    assert "plugins.waste_collection.hour" in error.value.problems[0]


def test_a_calendar_broken_while_running_fails_the_job_and_posts_nothing(
    civicbot_make_bot, calendar
):
    bot = civicbot_make_bot(plugins=[civicbot_waste_collection], config=config(calendar))
    calendar.write_text("2026-12-03\n", encoding="utf-8")
    job = bot.jobs["waste_collection"]
    assert bot.scheduler.run(job, datetime(2026, 12, 2, 19, tzinfo=PARIS)) == []
    assert bot.scheduler.failures == 1
