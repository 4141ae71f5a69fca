"""The alert state machine end to end: CAP documents served over HTTP, posts on the sandbox.

none → yellow → (same again) → 500 → malformed → orange → restart → times change → all-clear,
then a stale copy of an old alert that must not restart the warning."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from civicbot import Bot, html_to_text
from civicbot.testing import every_server

PARIS = ZoneInfo("Europe/Paris")
ID = "2.49.0.0.250.0.FR.20260610{}.00000{}"
LINK = "Informations officielles (METEO-FRANCE) : http://vigilance.meteofrance.com/"


def poll(bot: Bot, traveller: time_machine.Coordinates, when: datetime, *,
         failing: bool = False) -> list[str]:
    """Run the alerts job at ``when``; ``failing``: every source fails (JobError, counted)."""
    traveller.move_to(when)
    failures = bot.scheduler.failures
    results = bot.scheduler.run(bot.jobs["weather-alerts"], bot.now())
    assert bot.scheduler.failures == failures + (1 if failing else 0)
    return [r.draft.dedup_key for r in results if r.status_id]


def section(url: str) -> dict[str, object]:
    return {
        "place": "Blois",
        "alerts": {"poll": "10m", "sources": [
            {"cap": f"{url}/vigilance-41.xml", "areas": ["FRB05"], "label": "Loir-et-Cher"}]},
    }


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=PARIS)


@every_server
def test_none_yellow_orange_update_allclear_with_failures_and_restart(
        web, cap_doc, weather_bot, civicbot_sandbox, run_command, tmp_path: Path) -> None:
    state = tmp_path / "weather.sqlite3"
    statuses = civicbot_sandbox.statuses
    yellow = cap_doc(identifier=ID.format("100000", 1), sent="2026-06-10T10:00:00+02:00")
    with time_machine.travel(at(9), tick=False) as traveller:
        bot = weather_bot(section(web.url), state=state)

        # none: the document concerns another département only
        web.add("/vigilance-41.xml", cap_doc(identifier=ID.format("090000", 0),
                                             sent="2026-06-10T09:00:00+02:00",
                                             area=("Haute Garonne", "FR623")))
        assert poll(bot, traveller, at(9, 5)) == []
        assert run_command(bot, "vigilance") == "Aucune vigilance en cours pour Loir-et-Cher."

        # yellow: a new warning starts a thread
        web.add("/vigilance-41.xml", yellow, "application/cap+xml")
        root_key = "weather:alert:loir-et-cher|thunderstorm:20260610T080000Z"
        assert poll(bot, traveller, at(10, 5)) == [root_key]
        [first] = statuses
        assert first["spoiler_text"] == "Vigilance jaune orages – Loir-et-Cher"
        assert first["visibility"] == "public"
        assert first["language"] == (civicbot_sandbox.profile.forced_language or "fr")
        assert first["in_reply_to_id"] is None
        assert html_to_text(first["content"]) == (
            "🟡 Vigilance jaune orages – Loir-et-Cher\n"
            "Du mercredi 10 juin à 12 h 00 au jeudi 11 juin à 6 h 00.\n"
            f"{LINK}\n\n"
            "Vigilance jaune : orages prévus sur le département.\n\n"
            "Conseils : Évitez les déplacements.")

        assert run_command(bot, "vigilance") == (
            "🟡 Vigilance jaune orages – Loir-et-Cher, du mercredi 10 juin à 12 h 00 au jeudi "
            "11 juin à 6 h 00. http://vigilance.meteofrance.com/")
        # the same warning fetched again: silent
        assert poll(bot, traveller, at(10, 15)) == []
        # a server error, a timeout-free failure: silent, state kept
        web.add("/vigilance-41.xml", yellow, "application/cap+xml", fail_next=1)
        assert poll(bot, traveller, at(10, 25), failing=True) == []
        assert web.requests[-1].status == 500
        # a malformed document: silent
        web.add("/vigilance-41.xml", b"<alert><sent>2026-06-10T10:", "application/cap+xml")
        assert poll(bot, traveller, at(10, 35), failing=True) == []
        # an empty document: silent
        web.add("/vigilance-41.xml", b"", "application/cap+xml")
        assert poll(bot, traveller, at(10, 45), failing=True) == []
        assert len(statuses) == 1

        # orange: an update in the thread
        orange = cap_doc(identifier=ID.format("110000", 2), sent="2026-06-10T11:00:00+02:00",
                         level="orange", msg_type="Update",
                         references=f"vigilance@meteo.fr,{ID.format('100000', 1)},"
                                    "2026-06-10T10:00:00+02:00")
        web.add("/vigilance-41.xml", orange, "application/cap+xml")
        assert poll(bot, traveller, at(11, 5)) == [f"{root_key}:update:1"]
        second = statuses[1]
        assert second["in_reply_to_id"] == first["id"]
        assert second["spoiler_text"] == "Vigilance orange orages – Loir-et-Cher"
        assert second["visibility"] == "public"
        assert html_to_text(second["content"]) == (
            "🟠 Mise à jour : vigilance orange orages – Loir-et-Cher\n"
            "Le niveau passe de jaune à orange.\n"
            "Du mercredi 10 juin à 12 h 00 au jeudi 11 juin à 6 h 00.\n"
            f"{LINK}\n\n"
            "Vigilance orange : orages prévus sur le département.\n\n"
            "Conseils : Évitez les déplacements.")
        bot.stop()

        # restart in the middle: a second bot on the same state file repeats nothing
        bot2 = weather_bot(section(web.url), state=state)
        assert poll(bot2, traveller, at(11, 15)) == []
        assert len(statuses) == 2

        # the end time moves: an update in the same thread
        later = cap_doc(identifier=ID.format("140000", 3), sent="2026-06-10T14:00:00+02:00",
                        level="orange", msg_type="Update",
                        expires="2026-06-11T12:00:00+02:00")
        web.add("/vigilance-41.xml", later, "application/cap+xml")
        assert poll(bot2, traveller, at(14, 5)) == [f"{root_key}:update:2"]
        third = statuses[2]
        assert third["in_reply_to_id"] == first["id"]
        assert third["spoiler_text"] == "Vigilance orange orages – Loir-et-Cher"
        assert html_to_text(third["content"]) == (
            "🟠 Mise à jour : vigilance orange orages – Loir-et-Cher\n"
            "Les horaires ont changé.\n"
            "Du mercredi 10 juin à 12 h 00 au jeudi 11 juin à 12 h 00.\n"
            f"{LINK}")

        # all-clear: Météo-France keeps the old level, the responseType ends the warning
        allclear = cap_doc(identifier=ID.format("180000", 4), sent="2026-06-10T18:00:00+02:00",
                           level="orange", msg_type="Update", response="AllClear",
                           onset="2026-06-10T18:00:00+02:00",
                           expires="2026-06-10T18:00:00+02:00")
        web.add("/vigilance-41.xml", allclear, "application/cap+xml")
        assert poll(bot2, traveller, at(18, 5)) == [f"{root_key}:end"]
        fourth = statuses[3]
        assert fourth["in_reply_to_id"] == first["id"]
        assert fourth["spoiler_text"] == "Fin de vigilance orange orages – Loir-et-Cher"
        assert fourth["visibility"] == "public"
        assert html_to_text(fourth["content"]) == (
            "✅ Fin de la vigilance orange orages – Loir-et-Cher\n"
            "METEO-FRANCE a levé cette vigilance.\n"
            f"{LINK}")

        # the all-clear again, then a stale copy of the orange update: nothing restarts
        assert poll(bot2, traveller, at(18, 15)) == []
        assert run_command(bot2, "vigilance") == "Aucune vigilance en cours pour Loir-et-Cher."
        web.add("/vigilance-41.xml", orange, "application/cap+xml")
        assert poll(bot2, traveller, at(18, 25)) == []
        assert len(statuses) == 4
