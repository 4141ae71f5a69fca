"""Demo data for ``civicbot demo``: three agendas dated around today, served on 127.0.0.1.

- an iCalendar feed of the library (a weekly story hour, a club, an exhibition, a talk in
  floating time), a JSON-LD page of the museum (one event cancelled), and an OpenAgenda
  agenda (the key is checked by nothing but sent in the ``key`` header);
- job ``event_digest_demo_reminders`` (every 5 s) reminds the events of the next 24 hours,
  job ``event_digest_demo_week`` (every 18 s, window: the next 7 days) posts the digest as a
  numbered thread about 18 s after the start;
- :func:`inject_demo_mentions` asks "ce week-end" and "agenda" (answered by auto_reply).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from civicbot.testing.sandbox import SandboxInstance
    from civicbot.testing.webserver import FakeWebServer

DATA = Path(__file__).with_name("demo_data")
PARIS = ZoneInfo("Europe/Paris")


def _ics(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _openagenda(today: date) -> dict[str, Any]:
    begin = datetime.combine(today + timedelta(days=3), time(20, 30), PARIS)
    return {"total": 1, "after": None, "success": True, "events": [{
        "uid": 41630081, "slug": "concert-choeurs", "status": 1,
        "title": {"fr": "Concert des chœurs de Blois", "en": "Blois choirs concert"},
        "timings": [{"begin": begin.isoformat(), "end": (begin + timedelta(hours=2)).isoformat()}],
        "location": {"name": "Cathédrale Saint-Louis", "city": "Blois"},
    }]}


def demo_section(web: FakeWebServer, data_dir: Path) -> dict[str, Any]:
    today = datetime.now(PARIS).date()
    soon = datetime.now(PARIS).replace(second=0, microsecond=0) + timedelta(hours=3)
    values = {
        "SERIES_START": _ics(datetime.combine(today - timedelta(days=60), time(10, 30))),
        "CLUB": _ics(datetime.combine(today + timedelta(days=2), time(14))),
        "CLUB_END": _ics(datetime.combine(today + timedelta(days=2), time(16))),
        "EXPO_START": (today - timedelta(days=10)).strftime("%Y%m%d"),
        "EXPO_END": (today + timedelta(days=30)).strftime("%Y%m%d"),
        "TALK": _ics(soon),
        "TALK_END": _ics(soon + timedelta(hours=1, minutes=30)),
    }
    ics = Template((DATA / "bibliotheque.ics.tmpl").read_text(encoding="utf-8"))
    web.add("/demo/bibliotheque.ics", ics.substitute(values).replace("\n", "\r\n"),
            "text/calendar")
    page = Template((DATA / "musee.html.tmpl").read_text(encoding="utf-8")).substitute({
        "EXPO_START": (today - timedelta(days=40)).isoformat(),
        "EXPO_END": (today + timedelta(days=60)).isoformat(),
        "VISIT": datetime.combine(today + timedelta(days=1), time(15), PARIS).isoformat(),
        "NOCTURNE": datetime.combine(today + timedelta(days=1), time(19), PARIS).isoformat(),
    })
    web.add("/demo/musee", page, "text/html")
    web.add("/demo/openagenda/v2/agendas/12345678/events", json.dumps(_openagenda(today)),
            "application/json")
    return {
        "sources": [
            {"name": "Bibliothèque", "label": "de la Bibliothèque",
             "ics": f"{web.url}/demo/bibliotheque.ics"},
            {"name": "Musée", "label": "du Musée", "jsonld": f"{web.url}/demo/musee"},
            {"name": "Festival", "openagenda": {"agenda": "12345678", "key": "demo-key",
                                                "base_url": f"{web.url}/demo/openagenda/v2"}},
        ],
        "hashtags": ["agenda blois"],
        "agenda_url": "https://www.blois.fr/agenda",
        "digests": [{"id": "event_digest_demo_week", "every": "18s",
                     "window": {"next_days": 7}}],
        "reminders": {"enabled": True, "id": "event_digest_demo_reminders", "every": "5s",
                      "before": "24h", "max_per_run": 2},
    }


def inject_demo_mentions(sandbox: SandboxInstance) -> list[dict[str, Any]]:
    return [sandbox.inject_mention("ce week-end ?", acct="camille@blois.social",
                                   display_name="Camille"),
            sandbox.inject_mention("agenda", acct="yanis@blois.social", display_name="Yanis")]
