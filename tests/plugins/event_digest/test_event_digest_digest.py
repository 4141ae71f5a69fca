"""The digest job: grouping by day, multi-day events, merging, threads, empty weeks, templates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from event_digest_support import (
    MONDAY,
    PARIS,
    WEEK_PART_1,
    WEEK_PART_2,
    WEEK_PART_3,
    blois_sources,
)

from civicbot import PREVIOUS, Bot, JobError, mastodon_length


def section(**extra: Any) -> dict[str, Any]:
    digest = {"id": "semaine", "cron": "0 8 * * 1", "window": "this_week",
              "hashtags": ["agenda blois"]}
    digest.update(extra.pop("digest", {}))
    return {"sources": extra.pop("sources", blois_sources()), "digests": [digest], **extra}


def test_weekly_digest_is_a_numbered_thread_split_between_events(
        digest_bot: Callable[..., Bot]) -> None:
    bot = digest_bot(section())
    drafts = bot.scheduler.preview("semaine", MONDAY)
    assert [d.text for d in drafts] == [WEEK_PART_1, WEEK_PART_2, WEEK_PART_3]
    assert [d.in_reply_to for d in drafts] == [None, PREVIOUS, PREVIOUS]
    assert {d.language for d in drafts} == {"fr"}
    assert all(mastodon_length(d.text) <= 500 for d in drafts)
    assert [d.dedup_key for d in drafts] == [
        f"event_digest:semaine:2026-12-07T08:00:00+01:00:{i}" for i in (1, 2, 3)]
    joined = "\n".join(d.text for d in drafts)
    # the same conference in two agendas (accents and case differ) is listed once
    assert joined.casefold().count("blois à la renaissance") == 1
    # cancelled (RECURRENCE-ID and JSON-LD EventCancelled) and postponed events are left out
    for gone in ("Atelier numérique", "Nocturne au musée", "Atelier famille"):
        assert gone not in joined


def test_a_large_limit_gives_one_post_without_numbering(digest_bot: Callable[..., Bot]) -> None:
    bot = digest_bot(section(), mastodon={"api_base_url": "sandbox", "max_characters": 5000})
    [draft] = bot.scheduler.preview("semaine", MONDAY)
    assert draft.text.startswith("📅 Cette semaine (7 – 13 décembre)\n\nLundi 7 décembre\n")
    assert draft.text.endswith("https://ville.example.org/concert-de-noel\n\n#AgendaBlois")
    assert "1/" not in draft.text
    assert draft.text.count("Samedi 12 décembre") == 1


def test_weekend_window_in_english(digest_bot: Callable[..., Bot]) -> None:
    bot = digest_bot(section(language="en", digest={"id": "weekend", "cron": "0 17 * * 5",
                                                    "window": "weekend"}),
                     mastodon={"api_base_url": "sandbox", "max_characters": 5000})
    friday = datetime(2026, 12, 11, 17, 0, tzinfo=PARIS)
    [draft] = bot.scheduler.preview("weekend", friday)
    assert draft.language == "en"
    lines = draft.text.split("\n")
    assert lines[:3] == ["📅 This weekend (December 12 – 13)", "", "Saturday, December 12"]
    assert "• 4:00 PM · Concert de Noël des chœurs de Blois — Cathédrale Saint-Louis" in lines
    assert ("• Marché de Noël — Place Louis-XII (until December 24)") in lines
    assert "Sunday, December 13" in lines
    assert "Friday" not in draft.text  # the skating rink opens on Friday: before the weekend
    assert "• Ouverture de la patinoire — Place de la Résistance (until January 3)" in lines


@pytest.mark.parametrize(("window", "at", "header", "days"), [
    ("today", datetime(2026, 12, 9, 7, 0, tzinfo=PARIS), "📅 Aujourd'hui, mercredi 9 décembre",
     ["Mercredi 9 décembre"]),
    ({"next_days": 2}, datetime(2026, 12, 12, 7, 0, tzinfo=PARIS),
     "📅 Les 2 prochains jours (12 – 13 décembre)",
     ["Samedi 12 décembre", "Dimanche 13 décembre"]),
])
def test_other_windows(digest_bot: Callable[..., Bot], window: Any, at: datetime, header: str,
                       days: list[str]) -> None:
    bot = digest_bot(section(digest={"window": window}),
                     mastodon={"api_base_url": "sandbox", "max_characters": 5000})
    [draft] = bot.scheduler.preview("semaine", at)
    lines = draft.text.split("\n")
    assert lines[0] == header
    assert [line for line in lines if line.endswith("décembre") and not line.startswith("•")
            and line != header] == days


def test_today_lists_the_story_hour_with_its_time(digest_bot: Callable[..., Bot]) -> None:
    bot = digest_bot(section(digest={"window": "today"}))
    [draft] = bot.scheduler.preview("semaine", datetime(2026, 12, 9, 7, 0, tzinfo=PARIS))
    assert draft.text == (
        "📅 Aujourd'hui, mercredi 9 décembre\n\nMercredi 9 décembre\n"
        "• Exposition : les châteaux de la Loire en BD — Bibliothèque Abbé-Grégoire "
        "(jusqu'au 9 janvier)\n"
        "• Marché de Noël — Place Louis-XII (jusqu'au 24 décembre)\n"
        "https://ville.example.org/marche-de-noel\n"
        "• Trésors de la Renaissance — Musée des Beaux-Arts (jusqu'au 3 janvier)\n"
        "• 10 h 30 · L'heure du conte — Bibliothèque Abbé-Grégoire\n"
        "https://bibliotheque.example.org/heure-du-conte\n\n#AgendaBlois")


EMPTY_ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def test_empty_week_is_skipped_by_default(digest_bot: Callable[..., Bot], tmp_path: Any) -> None:
    (tmp_path / "empty.ics").write_text(EMPTY_ICS)
    bot = digest_bot(section(sources=[{"name": "Ville", "ics": str(tmp_path / "empty.ics")}]))
    assert bot.scheduler.preview("semaine", MONDAY) == []


def test_empty_week_can_post_a_message(digest_bot: Callable[..., Bot], tmp_path: Any) -> None:
    (tmp_path / "empty.ics").write_text(EMPTY_ICS)
    bot = digest_bot(section(
        sources=[{"name": "Ville", "ics": str(tmp_path / "empty.ics")}],
        empty={"text": "Pas d'événement annoncé cette semaine ({{ period }})."}))
    [draft] = bot.scheduler.preview("semaine", MONDAY)
    assert draft.text == "Pas d'événement annoncé cette semaine (7 – 13 décembre).\n\n#AgendaBlois"


def test_templates_can_be_overridden(digest_bot: Callable[..., Bot]) -> None:
    bot = digest_bot(section(
        templates={"header": "Sorties à Blois, {{ period }} ({{ count }})",
                   "day": "== {{ day }} =="},
        digest={"window": "today",
                "templates": {"event": "- {{ time or 'toute la journée' }} {{ title }}"}}))
    [draft] = bot.scheduler.preview("semaine", datetime(2026, 12, 9, 7, 0, tzinfo=PARIS))
    assert draft.text == (
        "Sorties à Blois, mercredi 9 décembre (4)\n\n== mercredi 9 décembre ==\n"
        "- toute la journée Exposition : les châteaux de la Loire en BD\n"
        "- toute la journée Marché de Noël\n"
        "- toute la journée Trésors de la Renaissance\n"
        "- 10 h 30 L'heure du conte\n\n#AgendaBlois")


def test_templates_are_sandboxed(digest_bot: Callable[..., Bot]) -> None:
    from jinja2.exceptions import SecurityError

    bot = digest_bot(section(templates={"header": "{{ ''.__class__.__mro__ }}"}))
    with pytest.raises(SecurityError):
        bot.scheduler.preview("semaine", MONDAY)


def test_max_events_keeps_the_earliest_and_says_how_many_more(
        digest_bot: Callable[..., Bot]) -> None:
    bot = digest_bot(section(digest={"max_events": 2}))
    [draft] = bot.scheduler.preview("semaine", MONDAY)
    assert draft.text == (
        "📅 Cette semaine (7 – 13 décembre)\n\nLundi 7 décembre\n"
        "• Exposition : les châteaux de la Loire en BD — Bibliothèque Abbé-Grégoire "
        "(jusqu'au 9 janvier)\n"
        "• Marché de Noël — Place Louis-XII (jusqu'au 24 décembre)\n"
        "https://ville.example.org/marche-de-noel\n\n"
        "… et 9 autres événements dans l'agenda.\n\n#AgendaBlois")


def test_a_failed_source_is_noted_and_the_others_still_make_the_digest(
        digest_bot: Callable[..., Bot], tmp_path: Any) -> None:
    sources = blois_sources()
    sources[1]["ics"] = str(tmp_path / "missing.ics")
    bot = digest_bot(section(sources=sources))
    drafts = bot.scheduler.preview("semaine", MONDAY)
    assert drafts[0].text.startswith(
        "📅 Cette semaine (7 – 13 décembre)\n\n"
        "⚠️ L'agenda de la Bibliothèque n'a pas pu être chargé.\n\nLundi 7 décembre\n")
    joined = "\n".join(d.text for d in drafts)
    assert "L'heure du conte" not in joined and "Concert de Noël" in joined


def test_every_source_failing_raises_job_error(digest_bot: Callable[..., Bot],
                                               tmp_path: Any) -> None:
    bot = digest_bot(section(sources=[{"name": "Ville", "ics": str(tmp_path / "a.ics")},
                                      {"name": "Musée", "jsonld": str(tmp_path / "b.html")}]))
    with pytest.raises(JobError, match=r"every source failed \(Ville, Musée\)"):
        bot.scheduler.preview("semaine", MONDAY)


def test_no_event_with_a_failed_source_is_not_posted_as_an_empty_week(
        digest_bot: Callable[..., Bot], tmp_path: Any) -> None:
    (tmp_path / "empty.ics").write_text(EMPTY_ICS)
    bot = digest_bot(section(
        sources=[{"name": "Ville", "ics": str(tmp_path / "empty.ics")},
                 {"name": "Musée", "jsonld": str(tmp_path / "missing.html")}],
        empty={"text": "Rien cette semaine."}))
    with pytest.raises(JobError, match="no event found and Musée could not be loaded"):
        bot.scheduler.preview("semaine", MONDAY)
