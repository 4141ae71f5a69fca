"""How a warning ends: expiry (only once the source is reachable), Cancel, a lowered level;
what never ends it: errors, timeouts, a document that no longer mentions it. Preview mode."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from civicbot import Bot, html_to_text

PARIS = ZoneInfo("Europe/Paris")
ALERT_ID = "2.49.0.0.250.0.FR.20260610100000.000001"
LINK = "Informations officielles (METEO-FRANCE) : http://vigilance.meteofrance.com/"


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=PARIS)


def poll(bot: Bot, traveller: time_machine.Coordinates, when: datetime, *,
         failing: bool = False) -> list[str]:
    """Run the alerts job at ``when``; ``failing``: every source fails (JobError, counted)."""
    traveller.move_to(when)
    failures = bot.scheduler.failures
    results = bot.scheduler.run(bot.jobs["weather-alerts"], bot.now())
    assert bot.scheduler.failures == failures + (1 if failing else 0)
    return [r.draft.dedup_key for r in results if r.status_id]


def section(source: dict[str, object], **alerts: object) -> dict[str, object]:
    return {"place": "Blois", "alerts": {"sources": [source], **alerts}}


def test_expiry_waits_for_a_successful_fetch(web, cap_doc, weather_bot, civicbot_sandbox
                                             ) -> None:
    yellow = cap_doc(identifier=ALERT_ID, sent="2026-06-10T10:00:00+02:00")
    web.add("/a.xml", yellow, "application/cap+xml")
    source = {"cap": f"{web.url}/a.xml", "areas": ["FRB05"], "label": "Loir-et-Cher"}
    with time_machine.travel(at(10, 5), tick=False) as traveller:
        bot = weather_bot(section(source))
        assert len(poll(bot, traveller, at(10, 5))) == 1
        # the warning expires at 06:00 but the source is down: nothing is said
        web.add("/a.xml", yellow, "application/cap+xml", fail_next=2)
        assert poll(bot, traveller, at(6, 10, day=11), failing=True) == []
        assert poll(bot, traveller, at(6, 20, day=11), failing=True) == []
        assert len(civicbot_sandbox.statuses) == 1
        # the source answers again (still the same document): the announced expiry stands
        [key] = poll(bot, traveller, at(6, 30, day=11))
        assert key.endswith(":end")
        end = civicbot_sandbox.statuses[1]
        assert end["in_reply_to_id"] == civicbot_sandbox.statuses[0]["id"]
        assert end["spoiler_text"] == "Fin de vigilance jaune orages – Loir-et-Cher"
        assert html_to_text(end["content"]) == (
            "✅ Fin de la vigilance jaune orages – Loir-et-Cher\n"
            "Cette vigilance a pris fin le jeudi 11 juin à 6 h 00, comme annoncé par "
            "METEO-FRANCE.\n"
            f"{LINK}")
        assert poll(bot, traveller, at(6, 40, day=11)) == []


def test_a_document_that_no_longer_mentions_the_warning_ends_nothing_before_expiry(
        web, cap_doc, weather_bot, civicbot_sandbox) -> None:
    web.add("/a.xml", cap_doc(identifier=ALERT_ID, sent="2026-06-10T10:00:00+02:00"))
    source = {"cap": f"{web.url}/a.xml", "areas": ["FRB05"], "label": "Loir-et-Cher"}
    with time_machine.travel(at(10, 5), tick=False) as traveller:
        bot = weather_bot(section(source))
        assert len(poll(bot, traveller, at(10, 5))) == 1
        web.add("/a.xml", cap_doc(identifier="other", sent="2026-06-10T12:00:00+02:00",
                                  area=("Haute Garonne", "FR623")))
        assert poll(bot, traveller, at(12, 5)) == []
        assert poll(bot, traveller, at(23, 55)) == []
        assert len(civicbot_sandbox.statuses) == 1
        # by its own expiry time, with the source reachable, it ends
        [key] = poll(bot, traveller, at(6, 5, day=11))
        assert key.endswith(":end")


def test_cancel_without_info_ends_the_referenced_warning(web, cap_doc, weather_bot,
                                                         civicbot_sandbox) -> None:
    web.add("/a.xml", cap_doc(identifier=ALERT_ID, sent="2026-06-10T10:00:00+02:00",
                              level="orange"))
    source = {"cap": f"{web.url}/a.xml", "areas": ["FRB05"], "label": "Loir-et-Cher"}
    with time_machine.travel(at(10, 5), tick=False) as traveller:
        bot = weather_bot(section(source))
        assert len(poll(bot, traveller, at(10, 5))) == 1
        # a Cancel for some other alert: nothing
        web.add("/a.xml", cap_doc(identifier="x1", sent="2026-06-10T11:00:00+02:00",
                                  msg_type="Cancel", with_info=False,
                                  references="vigilance@meteo.fr,unrelated,2026-06-09T10:00:00Z"))
        assert poll(bot, traveller, at(11, 5)) == []
        web.add("/a.xml", cap_doc(identifier="x2", sent="2026-06-10T12:00:00+02:00",
                                  msg_type="Cancel", with_info=False,
                                  references=f"vigilance@meteo.fr,{ALERT_ID},"
                                             "2026-06-10T10:00:00+02:00"))
        [key] = poll(bot, traveller, at(12, 5))
        assert key.endswith(":end")
        end = civicbot_sandbox.statuses[1]
        assert end["spoiler_text"] == "Fin de vigilance orange orages – Loir-et-Cher"
        assert html_to_text(end["content"]) == (
            "✅ Fin de la vigilance orange orages – Loir-et-Cher\n"
            "METEO-FRANCE a annulé cette vigilance.\n"
            f"{LINK}")


def test_min_level_orange_and_lowered_level(web, cap_doc, weather_bot, civicbot_sandbox
                                            ) -> None:
    web.add("/a.xml", cap_doc(identifier="y", sent="2026-06-10T10:00:00+02:00"))
    source = {"cap": f"{web.url}/a.xml", "areas": ["Loir-et-Cher"], "label": "Loir-et-Cher"}
    with time_machine.travel(at(10, 5), tick=False) as traveller:
        bot = weather_bot(section(source, min_level="orange"))
        assert poll(bot, traveller, at(10, 5)) == []  # yellow is below the minimum
        web.add("/a.xml", cap_doc(identifier="o", sent="2026-06-10T11:00:00+02:00",
                                  level="orange", msg_type="Update"))
        assert len(poll(bot, traveller, at(11, 5))) == 1
        first = civicbot_sandbox.statuses[0]
        assert first["spoiler_text"] == "Vigilance orange orages – Loir-et-Cher"
        assert html_to_text(first["content"]).startswith(
            "🟠 Vigilance orange orages – Loir-et-Cher\n")
        web.add("/a.xml", cap_doc(identifier="y2", sent="2026-06-10T15:00:00+02:00",
                                  level="yellow", msg_type="Update"))
        [key] = poll(bot, traveller, at(15, 5))
        assert key.endswith(":end")
        end = civicbot_sandbox.statuses[1]
        assert end["spoiler_text"] == "Fin de vigilance orange orages – Loir-et-Cher"
        assert html_to_text(end["content"]) == (
            "✅ Fin de la vigilance orange orages – Loir-et-Cher\n"
            "METEO-FRANCE a abaissé le niveau à jaune.\n"
            f"{LINK}")


def test_timeout_keeps_the_state_and_is_logged(web, cap_doc, weather_bot, civicbot_sandbox,
                                                run_command, caplog) -> None:
    yellow = cap_doc(identifier=ALERT_ID, sent="2026-06-10T10:00:00+02:00")
    web.add("/a.xml", yellow, "application/cap+xml")
    source = {"cap": f"{web.url}/a.xml", "areas": ["FRB05"], "label": "Loir-et-Cher",
              "name": "cap-41"}
    with time_machine.travel(at(10, 5), tick=False) as traveller:
        bot = weather_bot(section(source, timeout="1s"))
        assert len(poll(bot, traveller, at(10, 5))) == 1
        web.add("/a.xml", yellow, "application/cap+xml", stall_next=1, stall_seconds=2.5)
        with caplog.at_level(logging.WARNING):
            assert poll(bot, traveller, at(6, 30, day=11), failing=True) == []
        assert len(civicbot_sandbox.statuses) == 1
        health = bot.state.namespace("weather").get("health:cap-41")
        assert health["ok"] is False and "timed out" in health["error"]
        # the "vigilance" command says it cannot confirm
        reply = run_command(bot, "vigilance")
        assert reply == (
            "Aucune vigilance en cours pour Loir-et-Cher. Attention : la dernière vérification "
            "auprès de la source officielle a échoué, cette information peut être incomplète.")


def test_preview_changes_nothing(web, cap_doc, weather_bot, civicbot_sandbox) -> None:
    web.add("/a.xml", cap_doc(identifier=ALERT_ID, sent="2026-06-10T10:00:00+02:00"))
    source = {"cap": f"{web.url}/a.xml", "areas": ["FRB05"], "label": "Loir-et-Cher"}
    with time_machine.travel(at(10, 5), tick=False) as traveller:
        bot = weather_bot(section(source))
        drafts = bot.scheduler.preview("weather-alerts", at(10, 5))
        assert [d.spoiler_text for d in drafts] == ["Vigilance jaune orages – Loir-et-Cher"]
        assert bot.state.namespace("weather").items() == {}
        assert civicbot_sandbox.statuses == []
        # the real run still posts it
        assert len(poll(bot, traveller, at(10, 6))) == 1


def test_cap_file_source(tmp_path: Path, cap_doc, weather_bot, civicbot_sandbox) -> None:
    path = tmp_path / "alerte.xml"
    path.write_bytes(cap_doc(identifier=ALERT_ID, sent="2026-06-10T10:00:00+02:00",
                             level="red"))
    source = {"cap": str(path), "areas": ["FRB05"], "label": "Loir-et-Cher"}
    with time_machine.travel(at(10, 5), tick=False) as traveller:
        bot = weather_bot(section(source))
        assert len(poll(bot, traveller, at(10, 5))) == 1
        assert civicbot_sandbox.statuses[0]["spoiler_text"] == (
            "Vigilance rouge orages – Loir-et-Cher")
        path.unlink()  # a missing file is an error, not an all-clear
        assert poll(bot, traveller, at(10, 15), failing=True) == []
        assert len(civicbot_sandbox.statuses) == 1


def test_a_cap_without_web_link_gets_the_source_url(web, cap_doc, weather_bot,
                                                      civicbot_sandbox) -> None:
    data = cap_doc(identifier=ALERT_ID, sent="2026-06-10T10:00:00+02:00").replace(
        b"<web>http://vigilance.meteofrance.com/</web>", b"")
    web.add("/a.xml", data, "application/cap+xml")
    source = {"cap": f"{web.url}/a.xml", "areas": ["FRB05"], "label": "Loir-et-Cher"}
    with time_machine.travel(at(10, 5), tick=False) as traveller:
        bot = weather_bot(section(source))
        assert len(poll(bot, traveller, at(10, 5))) == 1
    text = html_to_text(civicbot_sandbox.statuses[0]["content"])
    assert f"Informations officielles (METEO-FRANCE) : {web.url}/a.xml\n" in text
