"""``civicbot demo`` section of the weather plugin.

The alerts job polls every 3 seconds; the demo web server serves a synthetic thunderstorm
warning for Loir-et-Cher that turns from yellow to orange after 8 seconds and is lifted
(AllClear) after 16 seconds, so the demo shows a whole thread: warning, update, end. Residents
ask "météo" at once and "vigilance" after 11 s (:func:`inject_demo_mentions`, answered by the
auto-reply plugin). The morning forecast job ``meteo-matin`` runs every minute in the demo (one
post a day: its dedup key is the date); a demo that can run jobs at start should run
:data:`DEMO_RUN_AT_START`.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from civicbot.testing.sandbox import SandboxInstance
    from civicbot.testing.webserver import FakeWebServer

DATA = Path(__file__).with_name("demo_data")
DEMO_RUN_AT_START = ("meteo-matin",)
CAP_PATH = "/demo/vigilance-loir-et-cher.xml"
_LEVELS = {"yellow": ("jaune", "2", "Moderate"), "orange": ("orange", "3", "Severe")}


def demo_cap(*, level: str, sent: datetime, onset: datetime, expires: datetime,
             msg_type: str = "Alert", response: str = "Monitor") -> bytes:
    """The synthetic demo warning, filled in."""
    words, number, severity = _LEVELS[level]
    text = (DATA / "vigilance_cap_template.xml").read_text(encoding="utf-8")
    for key, value in {
        "@IDENTIFIER@": f"demo.civicbot.{sent.strftime('%Y%m%d%H%M%S')}",
        "@SENT@": sent.isoformat(), "@MSGTYPE@": msg_type, "@RESPONSE@": response,
        "@LEVELFR@": words, "@LEVELNUM@": number, "@LEVEL@": level, "@SEVERITY@": severity,
        "@ONSET@": onset.isoformat(), "@EXPIRES@": expires.isoformat(),
    }.items():
        text = text.replace(key, value)
    return text.encode("utf-8")


def demo_forecast(today: datetime) -> str:
    """The bundled Open-Meteo response, its days moved to today and the next two."""
    doc = json.loads((DATA / "openmeteo_forecast.json").read_text(encoding="utf-8"))
    days = [(today + timedelta(days=i)).date().isoformat() for i in range(3)]
    doc["daily"]["time"] = days
    doc["timezone"] = "Europe/Paris"
    return json.dumps(doc)


def demo_section(web: FakeWebServer, data_dir: Path) -> dict[str, Any]:
    """Register the demo's sample data on ``web`` and return the ``plugins.weather`` section."""
    now = datetime.now(UTC).replace(microsecond=0)
    web.add("/v1/forecast", demo_forecast(now.astimezone(ZoneInfo("Europe/Paris"))),
            "application/json")
    onset, expires = now + timedelta(hours=2), now + timedelta(hours=14)
    web.add(CAP_PATH, demo_cap(level="yellow", sent=now, onset=onset, expires=expires),
            "application/cap+xml")

    def later(delay: float, body: bytes) -> None:
        timer = threading.Timer(delay, lambda: web.add(CAP_PATH, body, "application/cap+xml"))
        timer.daemon = True
        timer.start()

    later(8, demo_cap(level="orange", sent=now + timedelta(seconds=8), onset=onset,
                      expires=expires, msg_type="Update"))
    later(16, demo_cap(level="orange", sent=now + timedelta(seconds=16), onset=onset,
                       expires=now + timedelta(seconds=16), msg_type="Update",
                       response="AllClear"))
    return {
        "place": "Blois",
        "latitude": 47.5861,
        "longitude": 1.3359,
        "forecast": {"id": "meteo-matin", "cron": "* * * * *", "base_url": web.url,
                     "hashtags": ["Blois"]},
        "alerts": {
            "id": "vigilance-meteo",
            "poll": "3s",
            "sources": [{"cap": f"{web.url}{CAP_PATH}", "areas": ["FRB05"],
                         "label": "Loir-et-Cher"}],
        },
    }


def inject_demo_mentions(sandbox: SandboxInstance) -> None:
    """Residents' questions, once the bot is started."""
    sandbox.inject_mention("météo", acct="camille@blois.example", display_name="Camille")
    timer = threading.Timer(11, lambda: sandbox.inject_mention(
        "vigilance", acct="yanis@blois.example", display_name="Yanis"))
    timer.daemon = True
    timer.start()
