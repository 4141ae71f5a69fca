"""Remote sources over real HTTP (FakeWebServer on 127.0.0.1): conditional requests, failures,
timeouts, size caps, huge feeds, and JSON-LD links resolved against the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from event_digest_support import EXAMPLES, FIXTURES, MONDAY, PARIS

from civicbot import Bot, JobError, mastodon_length
from civicbot.testing.webserver import FakeWebServer


def weekly(sources: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"sources": sources, "digests": [{"id": "semaine", "cron": "0 8 * * 1",
                                            "window": "this_week"}], **extra}


def test_second_fetch_is_conditional_and_uses_the_cached_body(
        digest_bot: Callable[..., Bot]) -> None:
    with FakeWebServer() as web:
        web.add_file("/ville.ics", EXAMPLES / "ville.ics", "text/calendar",
                     last_modified=1_700_000_000.0)
        bot = digest_bot(weekly([{"name": "Ville", "ics": f"{web.url}/ville.ics"}]))
        first = bot.scheduler.preview("semaine", MONDAY)
        second = bot.scheduler.preview("semaine", MONDAY)
        requests = web.requests_to("/ville.ics")
    assert [r.status for r in requests] == [200, 304]
    assert "if-none-match" not in requests[0].headers
    assert requests[1].headers["if-none-match"].startswith('"')
    assert requests[1].headers["if-modified-since"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert [d.text for d in second] == [d.text for d in first]
    assert "Concert de Noël des chœurs de Blois" in first[0].text


def test_http_500_and_timeout_are_source_failures(digest_bot: Callable[..., Bot]) -> None:
    with FakeWebServer() as web:
        web.add_file("/ville.ics", EXAMPLES / "ville.ics", "text/calendar", fail_next=1)
        web.add_file("/biblio.ics", EXAMPLES / "bibliotheque.ics", "text/calendar",
                     stall_next=1, stall_seconds=2.5)
        bot = digest_bot(weekly([
            {"name": "Ville", "label": "de la Ville", "ics": f"{web.url}/ville.ics"},
            # a total deadline (connection and body), roomy enough for a loaded CI machine
            {"name": "Bibliothèque", "ics": f"{web.url}/biblio.ics", "timeout": "1s"},
            {"name": "Musée", "jsonld": str(FIXTURES / "jsonld_musee_graph.html")},
        ]))
        drafts = bot.scheduler.preview("semaine", MONDAY)
        # next time both answer: no note any more
        again = bot.scheduler.preview("semaine", MONDAY)
    assert drafts[0].text.split("\n\n")[:2] == [
        "📅 Cette semaine (7 – 13 décembre)",
        "⚠️ L'agenda de la Ville n'a pas pu être chargé.\n"
        "⚠️ L'agenda « Bibliothèque » n'a pas pu être chargé."]
    assert "Trésors de la Renaissance" in drafts[0].text
    assert "⚠️" not in again[0].text and "Marché de Noël" in again[0].text


def test_all_remote_sources_failing_posts_nothing(civicbot_make_bot: Callable[..., Bot],
                                                  civicbot_sandbox: Any) -> None:
    from structlog.testing import capture_logs

    import civicbot_event_digest

    with FakeWebServer() as web:
        web.add("/ville.ics", "oops", "text/calendar", status=500)
        web.add("/musee", "<html><body>no data</body></html>", "text/html")
        bot = civicbot_make_bot(plugins=[civicbot_event_digest], config={
            "timezone": "Europe/Paris",
            "plugins": {"event_digest": weekly([
                {"name": "Ville", "ics": f"{web.url}/ville.ics"},
                {"name": "Musée", "jsonld": f"{web.url}/musee"}])}})
        with pytest.raises(JobError):
            bot.scheduler.preview("semaine", MONDAY)
        with capture_logs() as logs:
            results = bot.scheduler.run(bot.jobs["semaine"], MONDAY)
    assert results == [] and civicbot_sandbox.statuses == []
    failures = {(e.get("source"), e.get("error")) for e in logs
                if e["event"] == "event source failed"}
    assert failures == {("Ville", f"HTTP 500 from {web.url}/ville.ics"),
                        ("Musée", "no JSON-LD block in the page")}
    assert any(e["event"] == "job could not build its posts" and e["log_level"] == "error"
               for e in logs)


def big_feed(megabytes: float) -> bytes:
    """An old archive (padding) plus this week's events, one with huge title and description."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0"]
    i = size = 0
    while size < megabytes * 1_000_000:
        block = ["BEGIN:VEVENT", f"UID:old{i}@x", f"SUMMARY:Archive {i}",
                 "DTSTART;TZID=Europe/Paris:20190105T180000",
                 "DESCRIPTION:" + "archive " * 50, "END:VEVENT"]
        lines += block
        size += sum(len(x) + 2 for x in block)
        i += 1
    lines += ["BEGIN:VEVENT", "UID:huge@x", "SUMMARY:" + "Très long titre " * 600,
              "DTSTART;TZID=Europe/Paris:20261209T180000",
              "DESCRIPTION:" + "Une description interminable. " * 350,
              "LOCATION:" + "Salle " * 300, "URL:https://ville.example.org/huge", "END:VEVENT"]
    for day in range(7, 14):
        lines += ["BEGIN:VEVENT", f"UID:daily{day}@x", f"SUMMARY:Lecture publique du {day}",
                  f"DTSTART;TZID=Europe/Paris:202612{day:02d}T120000", "LOCATION:Médiathèque",
                  f"URL:https://ville.example.org/lecture-{day}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines).encode("utf-8")


def test_five_megabyte_feed_and_huge_event_fit_the_posts(digest_bot: Callable[..., Bot]) -> None:
    feed = big_feed(5)
    assert len(feed) > 5_000_000
    with FakeWebServer() as web:
        web.add("/big.ics", feed, "text/calendar")
        bot = digest_bot(weekly([{"name": "Ville", "ics": f"{web.url}/big.ics"}]))
        drafts = bot.scheduler.preview("semaine", MONDAY)
    joined = "\n".join(d.text for d in drafts)
    assert all(mastodon_length(d.text) <= 500 for d in drafts)
    assert "interminable" not in joined  # descriptions never go into the digest
    assert [d.text.rsplit("\n", 1)[-1] for d in drafts] == [
        f"{i}/{len(drafts)}" for i in range(1, len(drafts) + 1)]
    huge = next(line for line in joined.split("\n") if "Très long titre" in line)
    assert huge.startswith("• 18 h · Très long titre") and len(huge) < 300
    assert huge.endswith("Salle Salle…")
    assert joined.count("Lecture publique du") == 7


def test_feed_over_the_size_cap_is_refused(digest_bot: Callable[..., Bot]) -> None:
    with FakeWebServer() as web:
        web.add("/big.ics", big_feed(0.2), "text/calendar")
        web.add_file("/ville.ics", EXAMPLES / "ville.ics", "text/calendar")
        bot = digest_bot(weekly([{"name": "Gros", "ics": f"{web.url}/big.ics"},
                                 {"name": "Ville", "ics": f"{web.url}/ville.ics"}],
                                max_feed_bytes=100_000))
        drafts = bot.scheduler.preview("semaine", MONDAY)
    assert "⚠️ L'agenda « Gros » n'a pas pu être chargé." in drafts[0].text


def test_jsonld_page_links_are_resolved_against_the_page(digest_bot: Callable[..., Bot]) -> None:
    with FakeWebServer() as web:
        web.add_file("/agenda", FIXTURES / "jsonld_musee_graph.html", "text/html")
        bot = digest_bot(weekly([{"name": "Musée", "jsonld": f"{web.url}/agenda"}]),
                         mastodon={"api_base_url": "sandbox", "max_characters": 1000})
        [draft] = bot.scheduler.preview("semaine", MONDAY)
    assert draft.text == (
        "📅 Cette semaine (7 – 13 décembre)\n\nLundi 7 décembre\n"
        "• Trésors de la Renaissance — Musée des Beaux-Arts (jusqu'au 3 janvier)\n"
        f"{web.url}/expositions/tresors-renaissance\n\n"
        "Samedi 12 décembre\n"
        "• 15 h · Visite guidée : le château royal — Château royal de Blois\n"
        "https://musee.example.org/visites/chateau-royal")


def test_jsonld_parsing_of_dates_places_and_statuses() -> None:
    from civicbot_event_digest.source_jsonld import parse_jsonld_page

    data = (FIXTURES / "jsonld_maison_bd_itemlist.html").read_bytes()
    events = parse_jsonld_page(data, source="BD", tz=PARIS, page_url="https://bd.example/a")
    assert [(e.title, e.start.isoformat(), e.end.isoformat(), e.venue) for e in events] == [
        ("Rencontre & dédicace avec une autrice de BD", "2026-12-12T16:00:00+01:00",
         "2026-12-12T18:00:00+01:00", "Maison de la BD"),
        ("Week-end de la BD jeunesse", "2026-12-12T10:00:00+01:00",
         "2026-12-13T18:00:00+01:00", "3 rue des Jacobins, Blois"),
        ("Atelier manga", "2026-12-19T14:00:00+01:00", "2026-12-19T14:00:00+01:00",
         "Maison de la BD"),
    ]
    assert events[2].url == "https://bd.example/a"  # no url: the page itself
    musee = parse_jsonld_page((FIXTURES / "jsonld_musee_graph.html").read_bytes(), source="M",
                              tz=PARIS, page_url="")
    exhibition = musee[0]
    assert (exhibition.all_day, exhibition.start, exhibition.end) == (
        True, datetime(2026, 10, 3, tzinfo=PARIS), datetime(2027, 1, 4, tzinfo=PARIS))
    assert exhibition.description.startswith("Une exposition de peintures et d'objets d'art")
    assert [e.title for e in musee] == ["Trésors de la Renaissance",
                                        "Visite guidée : le château royal"]
    assert timedelta(0) < exhibition.end - exhibition.start
