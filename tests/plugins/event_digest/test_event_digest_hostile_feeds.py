"""Issue 13 against the event sources: stacked compression (item 2), the OpenAgenda key on a
redirect (item 7), a calendar that is not valid UTF-8 (weaker points)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from event_digest_support import PARIS
from structlog.testing import capture_logs

from civicbot import Bot
from civicbot.testing.webserver import FakeWebServer

MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=PARIS)


def weekly(*sources: dict[str, object]) -> dict[str, object]:
    return {"sources": list(sources),
            "digests": [{"id": "semaine", "cron": "0 8 * * 1", "window": "this_week"}]}


def ics(title: str) -> str:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1@x\r\n"
            f"SUMMARY:{title}\r\nDTSTART:20261209T170000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def test_a_stacked_gzip_feed_is_a_failed_source(digest_bot: Callable[..., Bot]) -> None:
    bomb = gzip.compress(gzip.compress(b"\0" * 5_000_000, 9), 9)
    with FakeWebServer() as web:
        web.add("/bomb.ics", bomb, "text/calendar", headers={"Content-Encoding": "gzip, gzip"})
        web.add("/ok.ics", ics("Concert"), "text/calendar")
        bot = digest_bot(weekly({"name": "Bombe", "ics": f"{web.url}/bomb.ics"},
                                {"name": "Ville", "ics": f"{web.url}/ok.ics"}))
        with capture_logs() as logs:
            [draft] = bot.scheduler.preview("semaine", MONDAY)
    assert "Concert" in draft.text and "« Bombe » n'a pas pu être chargé" in draft.text
    [failure] = [e for e in logs if e["event"] == "event source failed"]
    assert "stacked Content-Encoding gzip, gzip" in failure["error"]


def test_the_openagenda_key_does_not_follow_a_redirect_elsewhere(
        digest_bot: Callable[..., Bot]) -> None:
    page = {"total": 0, "events": [], "after": None, "success": True}
    with FakeWebServer() as web, FakeWebServer() as elsewhere:
        path = "/v2/agendas/12345678/events"
        elsewhere.add(path, json.dumps(page), "application/json")
        web.add(path, b"", status=307, headers={"Location": f"{elsewhere.url}{path}"})
        bot = digest_bot(weekly({"name": "Festival", "openagenda": {
            "agenda": "12345678", "key": "OA-SECRET", "base_url": f"{web.url}/v2"}}))
        bot.scheduler.preview("semaine", MONDAY)
        assert web.requests_to(path)[0].headers["key"] == "OA-SECRET"
        [followed] = elsewhere.requests_to(path)
    assert "key" not in followed.headers
    assert followed.headers["accept"] == "application/json"


def test_a_latin1_calendar_is_decoded_and_what_cannot_be_is_logged(
        digest_bot: Callable[..., Bot]) -> None:
    with FakeWebServer() as web:
        # undeclared Windows-1252 (not valid UTF-8): detected, not posted with "�"
        web.add("/latin.ics", ics("Fête de l'été à l'église Saint-Rémi, entrée libre"
                                  ).encode("cp1252") * 1, "text/calendar")
        # declared UTF-8 with a broken byte: replaced, and logged
        web.add("/broken.ics", ics("Bal des pompiers").encode().replace(b"Bal", b"B\xffal"),
                "text/calendar; charset=utf-8")
        bot = digest_bot(weekly({"name": "Ville", "ics": f"{web.url}/latin.ics"},
                                {"name": "Caserne", "ics": f"{web.url}/broken.ics"}))
        with capture_logs() as logs:
            [draft] = bot.scheduler.preview("semaine", MONDAY + timedelta(minutes=1))
    assert "Fête de l'été à l'église Saint-Rémi" in draft.text
    [undecodable] = [e for e in logs if e["event"] == "undecodable bytes in fetched text replaced"]
    assert undecodable["count"] == 1 and undecodable["url"].endswith("/broken.ics")
