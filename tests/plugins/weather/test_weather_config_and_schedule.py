"""Config validation (errors by line), registered jobs and commands, and the poll really running
on its schedule with a started bot."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from civicbot import html_to_text
from civicbot.cli import main

HEADER = """mastodon:
  api_base_url: sandbox
timezone: Europe/Paris
state: state.sqlite3
plugins:
  weather:
"""


def check(tmp_path: Path, body: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "c.yaml"
    path.write_text(HEADER + body, encoding="utf-8")
    code = main(["check-config", str(path)])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


@pytest.mark.parametrize(("body", "message"), [
    ("    place: Blois\n    forecast: {}\n",
     "c.yaml:6: plugins.weather: the forecast needs latitude and longitude"),
    ("    place: Blois\n    alerts:\n      sources:\n"
     "        - {meteoalarm: https://feeds.meteoalarm.org/feeds/x}\n",
     "c.yaml:10: plugins.weather.alerts.sources[0]: a meteoalarm source needs areas"),
    ("    place: Blois\n    alerts:\n      sources:\n"
     "        - {cap: a.xml, meteoalarm: https://x/y, areas: [FRB05]}\n",
     "each source needs exactly one of meteoalarm, cap or vigilance (got meteoalarm, cap)"),
    ("    place: Blois\n    alerts:\n      min_level: green\n      sources: [{cap: a.xml}]\n",
     "plugins.weather.alerts.min_level"),
    ("    place: Blois\n    alerts:\n      poll: 0.5s\n      sources: [{cap: a.xml}]\n",
     "poll must be at least 1s"),
    ("    place: Blois\n    alerts:\n      sources:\n"
     "        - {vigilance: {departement: \"420\", api_key: k}}\n",
     "unknown département '420'"),
    ("    place: Blois\n    alerts:\n      sources: []\n", "give at least one source"),
    ("    place: Blois\n    forcast: {}\n", "plugins.weather.forcast: unknown key"),
])
def test_invalid_configs(tmp_path, capsys, body: str, message: str) -> None:
    code, output = check(tmp_path, body, capsys)
    assert code == 2
    assert message in output
    assert "c.yaml:" in output


def test_valid_config_with_api_key_file(tmp_path, capsys) -> None:
    (tmp_path / "mf.key").write_text("cle\n", encoding="utf-8")
    code, output = check(tmp_path, """    place: Blois
    latitude: 47.5861
    longitude: 1.3359
    forecast: {id: meteo-matin, cron: "0 7 * * *"}
    alerts:
      poll: 10m
      sources:
        - {vigilance: {departement: "41", api_key_file: mf.key}}
        - {cap: alerte.xml, areas: [FRB05], label: Loir-et-Cher}
""", capsys)
    assert code == 0, output


def test_example_config_passes(capsys) -> None:
    root = Path(__file__).resolve().parents[3]
    assert main(["check-config", str(root / "config.example.yaml")]) == 0, capsys.readouterr()


def test_nothing_without_a_section(civicbot_make_bot) -> None:
    import civicbot_weather

    bot = civicbot_make_bot(plugins=[civicbot_weather], config={})
    assert [j for j in bot.jobs.values() if j.plugin == "civicbot_weather"] == []
    assert bot.commands == []


def test_jobs_and_commands(weather_bot) -> None:
    bot = weather_bot({"place": "Blois", "latitude": 47.5, "longitude": 1.3,
                       "forecast": {"id": "meteo-matin", "cron": "0 7 * * *"},
                       "alerts": {"id": "vigilance-41", "poll": "5m",
                                  "sources": [{"cap": "a.xml", "label": "Loir-et-Cher"}]}})
    assert sorted(j.id for j in bot.jobs.values() if j.plugin == "civicbot_weather") == [
        "meteo-matin", "vigilance-41"]
    assert bot.jobs["vigilance-41"].schedule.every == timedelta(minutes=5)
    assert bot.jobs["meteo-matin"].schedule.cron == "0 7 * * *"
    assert sorted(c.name for c in bot.commands) == ["météo", "vigilance"]


def test_poll_runs_on_its_schedule(web, cap_doc, weather_bot, civicbot_sandbox, run_command
                                   ) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    web.add("/a.xml", cap_doc(identifier="live-1", sent=now.isoformat(), level="orange",
                              onset=(now - timedelta(hours=1)).isoformat(),
                              expires=(now + timedelta(days=1)).isoformat()))
    bot = weather_bot({"place": "Blois", "alerts": {"poll": "1s", "sources": [
        {"cap": f"{web.url}/a.xml", "areas": ["FRB05"], "label": "Loir-et-Cher"}]}})
    assert run_command(bot, "vigilance") == (
        "Aucune vigilance en cours pour Loir-et-Cher. Attention : les sources officielles "
        "n'ont pas encore été consultées, cette information peut être incomplète.")
    bot.start()
    [status] = civicbot_sandbox.wait_for_statuses(1, timeout=15)
    assert status["spoiler_text"] == "Vigilance orange orages – Loir-et-Cher"
    assert html_to_text(status["content"]).startswith("🟠 Vigilance orange orages – ")
    # more polls: no repeat
    seen = len(web.requests)
    deadline = time.monotonic() + 10
    while len(web.requests) < seen + 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting for the scheduler's next polls, not for time to pass
    assert len(web.requests) >= seen + 2
    bot.scheduler.wait_idle(timeout=5)
    assert len(civicbot_sandbox.statuses) == 1
    reply = run_command(bot, "vigilance")
    assert reply is not None and reply.startswith(
        "🟠 Vigilance orange orages – Loir-et-Cher, jusqu'au ")
    assert reply.endswith(". http://vigilance.meteofrance.com/")
