"""The public cron config type: checked at load with the key and line, French names accepted."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from civicbot import CronExpression, PluginConfig, cron
from civicbot.crontab import check_cron


@pytest.mark.parametrize(("expression", "normalised"), [
    ("0 9 * * 1", "0 9 * * 1"),
    ("*/15 8-18 * * mon-fri", "*/15 8-18 * * mon-fri"),
    ("30 7 1,15 * *", "30 7 1,15 * *"),
    ("0 0 25 dec *", "0 0 25 dec *"),
    ("0 12 * * 7", "0 12 * * 7"),
    ("0 8 * * lundi", "0 8 * * mon"),
    ("0 8 * * Lun", "0 8 * * mon"),
    ("0 8 * * lun-ven", "0 8 * * mon-fri"),
    ("0 8 * * samedi,dimanche", "0 8 * * sat,sun"),
    ("0 8 * * Monday", "0 8 * * mon"),
    ("0 8 1 août *", "0 8 1 aug *"),
    ("0 8 1 janvier *", "0 8 1 jan *"),
    ("0 8 1 déc *", "0 8 1 dec *"),
    ("0  8 * *   1", "0 8 * * 1"),
    ("0 8 * * 5-7", "0 8 * * 5-7"),
])
def test_valid_cron_expressions(expression, normalised):
    assert check_cron(expression) == normalised


@pytest.mark.parametrize(("expression", "message"), [
    ("0 9 * *", "expected 5 fields"),
    ("60 9 * * *", "minute 60 is out of range"),
    ("0 25 * * 1", "hour 25 is out of range in '0 25 \\* \\* 1': expected 0-23"),
    ("0 25 * * *", "hour 25 is out of range"),
    ("0 8 * * 8", "day of week 8 is out of range .*0 and 7 are Sunday"),
    ("0 9 32 * *", "day of month 32 is out of range"),
    ("0 9 * foo *", "unknown month 'foo'.*jan-dec"),
    ("0 9 * * lunes", "unknown day of week 'lunes'.*mon-sun \\(lun-dim\\)"),
    ("*/0 9 * * *", "the step of the minute field cannot be 0"),
    ("0 9 L * *", "unknown day of month 'l'"),
    ("0 9 * * fri-mon", "invalid cron expression"),
    ("0 18-8 * * *", "range '18-8' goes backwards"),
    ("0 9 * * 1#2", "invalid day of week field"),
])
def test_invalid_cron_expressions(expression, message):
    with pytest.raises(ValueError, match=message):
        check_cron(expression)


def test_cron_schedules_are_checked_too():
    assert cron("0 8 * * lundi").cron == "0 8 * * mon"
    with pytest.raises(ValueError, match="hour 25"):
        cron("0 25 * * *")


def test_third_party_plugins_get_the_type():
    class MyConfig(PluginConfig):
        when: CronExpression = "0 7 * * *"

    assert MyConfig(when="0 7 * * mardi").when == "0 7 * * tue"
    with pytest.raises(ValidationError, match="unknown day of week"):
        MyConfig(when="0 7 * * someday")
    with pytest.raises(ValidationError, match="cron expression in quotes"):
        MyConfig(when=7)
