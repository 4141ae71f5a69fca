"""The shipped example config and the demo section work as documented."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from civicbot import html_to_text
from civicbot.cli import main
from civicbot_weather.demo import demo_section

ROOT = Path(__file__).resolve().parents[3]


def test_example_config_preview(capsys) -> None:
    config = ROOT / "examples" / "weather" / "weather.yaml"
    assert main(["check-config", str(config)]) == 0
    assert main(["preview", "vigilance-meteo", "--config", str(config),
                 "--at", "2026-06-10T10:30", "--json"]) == 0
    [post] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert post["spoiler_text"] == "Vigilance orange orages – Loir-et-Cher"
    assert post["visibility"] == "public"
    assert post["text"].startswith(
        "🟠 Vigilance orange orages – Loir-et-Cher\n"
        "Du mercredi 10 juin à 16 h 00 au jeudi 11 juin à 6 h 00.\n"
        "Informations officielles (METEO-FRANCE) : "
        "https://vigilance.meteofrance.fr/fr/loir-et-cher\n\n")
    # after the warning's end, the preview (no state) shows nothing
    assert main(["preview", "vigilance-meteo", "--config", str(config),
                 "--at", "2026-06-11T07:00", "--json"]) == 0
    assert not [x for x in capsys.readouterr().out.splitlines() if x.startswith("{")]


def test_demo_section(web, tmp_path, weather_bot, civicbot_sandbox) -> None:
    section = demo_section(web, tmp_path)
    bot = weather_bot(section)
    [forecast] = bot.scheduler.preview("meteo-matin")
    today = datetime.now(ZoneInfo("Europe/Paris"))
    assert forecast.text.startswith("☁️ Météo à Blois – ")
    assert forecast.text.endswith("Prévisions : Open-Meteo.com (CC BY 4.0)\n\n#Blois")
    assert forecast.dedup_key == f"weather:forecast:meteo-matin:{today.date().isoformat()}"
    bot.scheduler.run(bot.jobs["vigilance-meteo"], bot.now())
    [status] = civicbot_sandbox.statuses
    assert status["spoiler_text"] == "Vigilance jaune orages – Loir-et-Cher"
    assert html_to_text(status["content"]).startswith("🟡 Vigilance jaune orages – Loir-et-Cher")


def test_doc_yaml_examples_validate(tmp_path, capsys) -> None:
    docs = [ROOT / "docs" / "plugins" / "weather.md",
            ROOT / "docs" / "guides" / "fr" / "weather.md",
            ROOT / "docs" / "guides" / "en" / "weather.md"]
    blocks = [block for doc in docs
              for block in re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"),
                                      flags=re.S)]
    assert len(blocks) == 5
    for i, block in enumerate(blocks):
        assert block.startswith("plugins:\n")
        path = tmp_path / f"doc{i}.yaml"
        path.write_text("mastodon: {api_base_url: sandbox}\n" + block, encoding="utf-8")
        assert main(["check-config", str(path)]) == 0, capsys.readouterr().err


def test_preview_of_the_alerts_job_when_every_source_fails(web, tmp_path, capsys) -> None:
    web.add("/a.xml", b"not xml at all", "application/cap+xml")
    config = tmp_path / "c.yaml"
    config.write_text(f"""mastodon: {{api_base_url: sandbox}}
timezone: Europe/Paris
plugins:
  weather:
    place: Blois
    alerts:
      sources:
        - {{cap: "{web.url}/a.xml", areas: [FRB05], label: Loir-et-Cher, name: cap-41}}
        - {{cap: absent.xml, name: fichier}}
""", encoding="utf-8")
    assert main(["preview", "weather-alerts", "--config", str(config), "--json"]) == 1
    err = capsys.readouterr().err
    assert "every weather alert source failed: cap-41: CAP " in err
    assert "malformed XML" in err and "fichier: cannot read" in err
