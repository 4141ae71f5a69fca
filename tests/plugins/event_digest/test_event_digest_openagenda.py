"""OpenAgenda API v2, on the real response fixtures, over HTTP with pagination (``after``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from event_digest_support import FIXTURES, PARIS

from civicbot import Bot
from civicbot.testing.webserver import FakeWebServer

EVENTS_PATH = "/v2/agendas/12345678/events"


class PagedWebServer(FakeWebServer):
    """Serves ``<path>/page2`` when the request carries an ``after`` cursor (the fake server
    routes by path only, the OpenAgenda API pages by query)."""

    def _serve(self, handler: Any, head: bool = False) -> None:
        path, _, query = handler.path.partition("?")
        if "after" in query:
            handler.path = f"{path}/page2?{query}"
        super()._serve(handler, head)


def pages() -> tuple[dict[str, Any], dict[str, Any]]:
    listing = json.loads((FIXTURES / "openagenda_v2_events_list.json").read_text())
    single = json.loads((FIXTURES / "openagenda_v2_event.json").read_text())["event"]
    first = dict(listing, after=[1736157600000, 9906334], total=3)
    reading = copy.deepcopy(single)
    reading.update(uid=9906335, title={"fr": "Lecture musicale", "en": "Musical reading"})
    cancelled = copy.deepcopy(single)
    cancelled.update(uid=9906336, title={"fr": "Spectacle annulé"}, status=6)
    second = {"total": 3, "events": [reading, cancelled], "after": None,
              "sort": "timingsWithFeatured.asc", "success": True}
    return first, second


def config(url: str, **source: Any) -> dict[str, Any]:
    agenda = {"agenda": "12345678", "key": "secret-key", "base_url": f"{url}/v2", **source}
    return {"sources": [{"name": "Festival", "openagenda": agenda}],
            "digests": [{"id": "semaine", "cron": "0 8 * * 1", "window": "this_week",
                         "hashtags": ["AgendaBlois"]}]}


def test_openagenda_pages_key_header_timings_and_cancelled_status(
        digest_bot: Callable[..., Bot]) -> None:
    first, second = pages()
    with PagedWebServer() as web:
        web.add(EVENTS_PATH, json.dumps(first), "application/json")
        web.add(f"{EVENTS_PATH}/page2", json.dumps(second), "application/json")
        bot = digest_bot(config(web.url))
        [draft] = bot.scheduler.preview("semaine", datetime(2025, 1, 6, 8, 0, tzinfo=PARIS))
        requests = list(web.requests)
    # the list fixture has firstTiming/lastTiming (11-15, 15-18), the detailed one has timings:
    # both give one occurrence from 11:00 to 18:00; status 6 (cancelled) is left out
    assert draft.text == (
        "📅 Cette semaine (6 – 12 janvier)\n\nLundi 6 janvier\n"
        "• 11 h · Lecture musicale — My location\n"
        "https://openagenda.com/agendas/12345678/events/9906335\n"
        "• 11 h · Mon évènement — My location\n"
        "https://openagenda.com/agendas/12345678/events/9906334\n\n#AgendaBlois")
    assert [r.path for r in requests] == [EVENTS_PATH, f"{EVENTS_PATH}/page2"]
    assert all(r.headers["key"] == "secret-key" for r in requests)
    assert all("key" not in r.query for r in requests)
    assert requests[0].query["timings[gte]"] == ["2025-01-06T00:00:00+01:00"]
    assert requests[0].query["timings[lte]"] == ["2025-01-13T00:00:00+01:00"]
    assert "after[]" not in requests[0].query
    assert requests[1].query["after[]"] == ["1736157600000", "9906334"]
    assert not any("dateRange" in k for r in requests for k in r.query)


def test_openagenda_english_titles_and_custom_event_link(digest_bot: Callable[..., Bot]) -> None:
    first, second = pages()
    with PagedWebServer() as web:
        web.add(EVENTS_PATH, json.dumps(first), "application/json")
        web.add(f"{EVENTS_PATH}/page2", json.dumps(second), "application/json")
        section = config(web.url, event_url="https://agenda.blois.example/e/{slug}")
        section["language"] = "en"
        bot = digest_bot(section)
        [draft] = bot.scheduler.preview("semaine", datetime(2025, 1, 6, 8, 0, tzinfo=PARIS))
    assert draft.text.split("\n")[3:7] == [
        "• 11:00 AM · Musical reading — My location",
        "https://agenda.blois.example/e/testing-6090479",
        "• 11:00 AM · My event — My location",
        "https://agenda.blois.example/e/testing-6090479"]


def test_openagenda_refusing_the_key_is_a_source_failure(digest_bot: Callable[..., Bot]) -> None:
    with FakeWebServer() as web:
        web.add(EVENTS_PATH, '{"error": "invalid key"}', "application/json", status=403)
        web.add("/ville.ics", (FIXTURES.parent.parent / "examples" / "event_digest" /
                               "ville.ics").read_bytes(), "text/calendar")
        section = config(web.url)
        section["sources"].append({"name": "Ville", "ics": f"{web.url}/ville.ics"})
        bot = digest_bot(section)
        drafts = bot.scheduler.preview("semaine", datetime(2026, 12, 7, 8, 0, tzinfo=PARIS))
    assert drafts[0].text.split("\n\n")[1] == "⚠️ L'agenda « Festival » n'a pas pu être chargé."
