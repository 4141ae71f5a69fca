"""The morning forecast (Open-Meteo, recorded response served over HTTP): ``civicbot preview``,
the scheduled post, the "météo" command, current and legacy variable names, failures."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from civicbot import html_to_text
from civicbot.cli import main

PARIS = ZoneInfo("Europe/Paris")
FORECAST = "/v1/forecast"
POST = ("☁️ Météo à Blois – samedi 3 octobre\n"
        "Couvert\n"
        "🌡️ de 8,4 °C à 21 °C\n"
        "☔ pas de précipitations prévues\n"
        "💨 vent jusqu'à 9 km/h\n"
        "Prévisions : Open-Meteo.com (CC BY 4.0)")


def write_config(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    path = tmp_path / "civicbot.yaml"
    path.write_text(f"""
mastodon:
  api_base_url: sandbox
timezone: Europe/Paris
language: fr
state: state.sqlite3
plugins:
  weather:
    place: Blois
    latitude: 47.5861
    longitude: 1.3359
    forecast: {{id: meteo-matin, cron: "0 7 * * *", base_url: "{base_url}"}}
{extra}""", encoding="utf-8")
    return path


def test_preview_shows_the_morning_post(web, fixtures_dir, tmp_path, capsys) -> None:
    web.add_file(FORECAST, fixtures_dir / "openmeteo_forecast_current_hourly_daily.json",
                 "application/json")
    config = write_config(tmp_path, web.url)
    code = main(["preview", "meteo-matin", "--config", str(config),
                 "--at", "2026-10-03T07:00", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    [line] = [x for x in out.splitlines() if x.startswith("{")]
    post = json.loads(line)
    assert post == {
        "channel": "mastodon", "text": POST, "visibility": "public", "spoiler_text": "", "language": "fr",
        "in_reply_to": None, "media": [], "dedup_key": "weather:forecast:meteo-matin:2026-10-03",
        "scheduled_at": None,
    }
    [request] = web.requests
    assert request.query["latitude"] == ["47.5861"]
    assert request.query["longitude"] == ["1.3359"]
    assert request.query["timezone"] == ["Europe/Paris"]
    assert request.query["daily"] == [
        "weather_code,temperature_2m_max,temperature_2m_min,precipitation_sum,"
        "wind_speed_10m_max"]


def test_preview_picks_the_day_of_the_run(web, fixtures_dir, tmp_path, capsys) -> None:
    web.add_file(FORECAST, fixtures_dir / "openmeteo_forecast_current_hourly_daily.json")
    config = write_config(tmp_path, web.url)
    assert main(["preview", "meteo-matin", "--config", str(config),
                 "--at", "2026-10-05T07:00+02:00", "--json"]) == 0
    post = json.loads(next(x for x in capsys.readouterr().out.splitlines() if x.startswith("{")))
    assert post["text"].splitlines()[:3] == [
        "☁️ Météo à Blois – lundi 5 octobre", "Couvert", "🌡️ de 10,5 °C à 22,2 °C"]
    assert post["dedup_key"] == "weather:forecast:meteo-matin:2026-10-05"


def test_preview_fails_cleanly(web, fixtures_dir, tmp_path, capsys) -> None:
    web.add_file(FORECAST, fixtures_dir / "openmeteo_forecast_current_hourly_daily.json")
    config = write_config(tmp_path, web.url)
    # a day the response does not cover
    assert main(["preview", "meteo-matin", "--config", str(config),
                 "--at", "2026-10-09T07:00"]) == 1
    assert "no forecast for 2026-10-09" in capsys.readouterr().err
    # a server error
    web.add_file(FORECAST, fixtures_dir / "openmeteo_forecast_current_hourly_daily.json",
                 fail_next=1)
    assert main(["preview", "meteo-matin", "--config", str(config),
                 "--at", "2026-10-03T07:00"]) == 1
    assert "HTTP 500" in capsys.readouterr().err


def test_current_variable_names_and_rain(web, fixtures_dir, weather_bot, civicbot_sandbox
                                         ) -> None:
    doc = json.loads((fixtures_dir / "openmeteo_forecast_current_hourly_daily.json").read_text())
    daily = doc["daily"]
    daily["weather_code"] = [63, 3, 3]
    daily["wind_speed_10m_max"] = daily.pop("windspeed_10m_max")
    daily["precipitation_sum"] = [12.3, 0.0, 0.0]
    del daily["weathercode"]
    doc["daily_units"]["wind_speed_10m_max"] = doc["daily_units"].pop("windspeed_10m_max")
    web.add(FORECAST, json.dumps(doc), "application/json")
    section = {"place": "Blois", "latitude": 47.5861, "longitude": 1.3359,
               "forecast": {"base_url": web.url, "hashtags": ["météo blois"]}}
    when = datetime(2026, 10, 3, 7, 0, tzinfo=PARIS)
    with time_machine.travel(when, tick=False):
        bot = weather_bot(section)
        [result] = bot.scheduler.run(bot.jobs["meteo-matin"], when)
        assert result.status_id is not None
    [status] = civicbot_sandbox.statuses
    assert status["visibility"] == "public" and status["language"] == "fr"
    assert html_to_text(status["content"]) == (
        "🌧️ Météo à Blois – samedi 3 octobre\n"
        "Pluie modérée\n"
        "🌡️ de 8,4 °C à 21 °C\n"
        "☔ précipitations : 12,3 mm\n"
        "💨 vent jusqu'à 9 km/h\n"
        "Prévisions : Open-Meteo.com (CC BY 4.0)\n\n"
        "#MétéoBlois")


def test_meteo_command(web, fixtures_dir, weather_bot, run_command) -> None:
    web.add_file(FORECAST, fixtures_dir / "openmeteo_forecast_current_hourly_daily.json",
                 "application/json")
    section = {"place": "Blois", "latitude": 47.5861, "longitude": 1.3359,
               "forecast": {"base_url": web.url}}
    with time_machine.travel(datetime(2026, 10, 3, 15, 0, tzinfo=PARIS), tick=False) as t:
        bot = weather_bot(section)
        assert {c.name for c in bot.commands} == {"météo"}
        expected = ("Aujourd'hui à Blois : couvert ☁️, de 8,4 °C à 21 °C, pas de précipitations, "
                    "vent jusqu'à 9 km/h. (Open-Meteo.com)")
        assert run_command(bot, "meteo") == expected
        assert run_command(bot, "météo") == expected
        assert len(web.requests) == 1  # cached for a while
        t.move_to(datetime(2026, 10, 4, 9, 0, tzinfo=PARIS))
        web.add_file(FORECAST, fixtures_dir / "openmeteo_forecast_current_hourly_daily.json",
                     fail_next=1)
        assert run_command(bot, "météo") == (
            "La météo n'est pas disponible pour le moment, réessayez plus tard.")
        assert run_command(bot, "météo") == (
            "Aujourd'hui à Blois : couvert ☁️, de 11,2 °C à 20,1 °C, pas de précipitations, "
            "vent jusqu'à 9 km/h. (Open-Meteo.com)")


def test_english_forecast(web, fixtures_dir, weather_bot, run_command) -> None:
    web.add_file(FORECAST, fixtures_dir / "openmeteo_forecast_current_hourly_daily.json")
    section = {"place": "Blois", "latitude": 47.5861, "longitude": 1.3359,
               "forecast": {"base_url": web.url}}
    with time_machine.travel(datetime(2026, 10, 3, 7, 0, tzinfo=PARIS), tick=False):
        bot = weather_bot(section, language="en")
        [draft] = bot.scheduler.preview("meteo-matin")
        assert draft.text == ("☁️ Weather in Blois – Saturday 3 October\n"
                              "Overcast\n"
                              "🌡️ from 8.4 °C to 21 °C\n"
                              "☔ no precipitation expected\n"
                              "💨 wind up to 9 km/h\n"
                              "Forecast: Open-Meteo.com (CC BY 4.0)")
        assert draft.language == "en"
        assert run_command(bot, "meteo") == (
            "Today in Blois: overcast ☁️, from 8.4 °C to 21 °C, no precipitation, "
            "wind up to 9 km/h. (Open-Meteo.com)")
