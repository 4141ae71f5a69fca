"""The real fixtures (tests/fixtures/PROVENANCE.md) served over HTTP: MeteoAlarm's Atom feed and
the CAP documents it links to, a Météo-France CAP Alert, a DWD Update; and Météo-France's
official vigilance API (synthetic document: see PROVENANCE-synthetic.md)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from civicbot import Bot, html_to_text

PARIS = ZoneInfo("Europe/Paris")
ALERT_PATH = "/api/v1/warnings/feeds-france/04d497d4-d114-4d6b-93ba-13fa7ed577fe"
ALLCLEAR_PATH = "/api/v1/warnings/feeds-france/2f32f9f9-06df-48aa-b0a0-10493ea07c51"
FEED_PATH = "/feeds/meteoalarm-legacy-atom-france"
MF_LINK = "Informations officielles (METEO-FRANCE) : http://vigilance.meteofrance.com/"
AVALANCHE_TEXT = (
    "Des phenomenes habituels dans la region mais occasionnellement et localement dangereux "
    "sont prevus , (ex. mistral, orage d?ete, montee des eaux, fortes vagues submergeant le "
    "littoral)\n\n"
    "Conseils : Soyez attentifs; si vous pratiquez des activites sensibles au risque "
    "meteorologique ou a proximite d'un rivage ou d'un cours d'eau; tenez-vous au courant de "
    "l?evolution de la situation.")


def run(bot: Bot, traveller: time_machine.Coordinates, when: datetime, *,
        failing: bool = False) -> list[str]:
    """Run the alerts job at ``when``; ``failing``: every source fails (JobError, counted)."""
    traveller.move_to(when)
    failures = bot.scheduler.failures
    results = bot.scheduler.run(bot.jobs["weather-alerts"], bot.now())
    assert bot.scheduler.failures == failures + (1 if failing else 0)
    return [r.draft.dedup_key for r in results if r.status_id]


def thread(statuses: list[dict[str, Any]]) -> str:
    """The text of a post split into a numbered thread by the core: each part carries the
    content warning and answers the previous one; parts are joined without their "i/n"."""
    total = len(statuses)
    texts = []
    for i, status in enumerate(statuses, 1):
        text = html_to_text(status["content"])
        if total > 1:
            assert text.endswith(f"\n{i}/{total}")
            text = text.removesuffix(f"\n{i}/{total}")
        if i > 1:
            assert status["in_reply_to_id"] == statuses[i - 2]["id"]
            assert status["spoiler_text"] == statuses[0]["spoiler_text"]
        texts.append(text)
    return "\n".join(texts)


def same_words(a: str, b: str) -> bool:
    """Equal but for the whitespace where the thread was cut."""
    return a.split() == b.split()


def serve_feed(web, fixtures_dir, *, drop_alerts: bool = False) -> None:
    feed = (fixtures_dir / "meteoalarm_fr_atom_feed.xml").read_text(encoding="utf-8")
    feed = feed.replace("https://feeds.meteoalarm.org", web.url)
    if drop_alerts:  # the feed as it was before the 15:00 UTC alert: only the Update entries
        feed = re.sub(r"<entry>(?:(?!</entry>).)*<cap:message_type>Alert</cap:message_type>"
                      r"(?:(?!</entry>).)*</entry>", "", feed, flags=re.S)
        assert "<cap:message_type>Alert" not in feed and feed.count("<entry>") == 6
    web.add(FEED_PATH, feed, "application/atom+xml")


def test_meteoalarm_feed_latest_message_wins(web, fixtures_dir, weather_bot,
                                             civicbot_sandbox) -> None:
    serve_feed(web, fixtures_dir)
    web.add_file(ALERT_PATH, fixtures_dir / "synthetic_meteoalarm_fr_cap_alert_avalanches.xml",
                 "application/cap+xml")
    web.add_file(ALLCLEAR_PATH, fixtures_dir / "meteoalarm_fr_cap_update_avalanches.xml",
                 "application/cap+xml")
    section = {"place": "Annecy", "alerts": {"sources": [
        {"meteoalarm": f"{web.url}{FEED_PATH}", "areas": ["FR718"]}]}}
    with time_machine.travel(datetime(2022, 12, 7, 17, 0, tzinfo=PARIS), tick=False) as t:
        bot = weather_bot(section)
        # the feed has the 06:01 all-clear (of the day before's warning) and the 16:00 alert
        assert run(bot, t, datetime(2022, 12, 7, 17, 0, tzinfo=PARIS)) == [
            "weather:alert:FR718|avalanches:20221207T150058Z"]
        assert sorted(r.path for r in web.requests) == sorted(
            [FEED_PATH, ALERT_PATH, ALLCLEAR_PATH])
        statuses = list(civicbot_sandbox.statuses)
        assert len(statuses) == 2  # too long for one post: a thread of two
        assert statuses[0]["spoiler_text"] == "Vigilance jaune avalanches – Haute Savoie"
        assert all(s["visibility"] == "public" for s in statuses)
        first = html_to_text(statuses[0]["content"])
        assert first.startswith(
            "🟡 Vigilance jaune avalanches – Haute Savoie\n"
            "Du mercredi 7 décembre à 16 h 00 au jeudi 8 décembre à 16 h 00.\n"
            f"{MF_LINK}\n\n")  # the official link is in the first part
        assert same_words(thread(statuses), (
            "🟡 Vigilance jaune avalanches – Haute Savoie\n"
            "Du mercredi 7 décembre à 16 h 00 au jeudi 8 décembre à 16 h 00.\n"
            f"{MF_LINK}\n\n{AVALANCHE_TEXT}"))
        # fetched again: silent
        assert run(bot, t, datetime(2022, 12, 7, 17, 10, tzinfo=PARIS)) == []
        # the feed breaks: silent
        web.add(FEED_PATH, "<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "text/xml")
        assert run(bot, t, datetime(2022, 12, 7, 17, 20, tzinfo=PARIS), failing=True) == []
        assert len(civicbot_sandbox.statuses) == 2


def test_meteoalarm_allclear_update_ends_the_previous_warning(
        web, fixtures_dir, cap_doc, weather_bot, civicbot_sandbox) -> None:
    # the day before: the alert that the real all-clear refers to (synthetic, same areas)
    previous = (fixtures_dir / "synthetic_meteoalarm_fr_cap_alert_avalanches.xml").read_text(
        encoding="utf-8")
    previous = previous.replace("20221207160058.764028", "20221206160108.315028").replace(
        "2022-12-07T16:00:58+01:00", "2022-12-06T16:01:08+01:00").replace(
        "2022-12-08T16:00:00+01:00", "2022-12-07T16:00:00+01:00").replace(
        "2022-12-07T16:00:00+01:00</onset>", "2022-12-06T16:00:00+01:00</onset>")
    section = {"place": "Annecy", "alerts": {"sources": [
        {"meteoalarm": f"{web.url}{FEED_PATH}", "areas": ["Haute Savoie"],
         "label": "Haute-Savoie"}]}}
    serve_feed(web, fixtures_dir, drop_alerts=True)
    web.add(ALLCLEAR_PATH, previous, "application/cap+xml")
    with time_machine.travel(datetime(2022, 12, 6, 17, 0, tzinfo=PARIS), tick=False) as t:
        bot = weather_bot(section)
        assert len(run(bot, t, datetime(2022, 12, 6, 17, 0, tzinfo=PARIS))) == 1
        first = civicbot_sandbox.statuses[0]
        assert first["spoiler_text"] == "Vigilance jaune avalanches – Haute-Savoie"
        # next morning the link serves the real Update with responseType AllClear
        web.add_file(ALLCLEAR_PATH, fixtures_dir / "meteoalarm_fr_cap_update_avalanches.xml",
                     "application/cap+xml")
        [key] = run(bot, t, datetime(2022, 12, 7, 6, 10, tzinfo=PARIS))
        assert key == "weather:alert:haute-savoie|avalanches:20221206T150108Z:end"
        end = civicbot_sandbox.statuses[-1]
        assert end["in_reply_to_id"] == first["id"]
        assert end["spoiler_text"] == "Fin de vigilance jaune avalanches – Haute-Savoie"
        assert html_to_text(end["content"]) == (
            "✅ Fin de la vigilance jaune avalanches – Haute-Savoie\n"
            "METEO-FRANCE a levé cette vigilance.\n"
            f"{MF_LINK}")


def test_meteofrance_cap_alert_fixture(web, fixtures_dir, weather_bot, civicbot_sandbox
                                       ) -> None:
    web.add_file("/mf.xml", fixtures_dir / "meteofrance_cap_alert_orages_yellow.xml",
                 "application/cap+xml")
    section = {"place": "Toulouse", "alerts": {"sources": [
        {"cap": f"{web.url}/mf.xml", "areas": ["FR623"], "label": "Haute-Garonne"}]}}
    when = datetime(2022, 8, 10, 16, 20, tzinfo=PARIS)
    with time_machine.travel(when, tick=False) as t:
        bot = weather_bot(section)
        assert len(run(bot, t, when)) == 1
        statuses = list(civicbot_sandbox.statuses)
        assert statuses[0]["spoiler_text"] == "Vigilance jaune orages – Haute-Garonne"
        assert same_words(thread(statuses), (
            "🟡 Vigilance jaune orages – Haute-Garonne\n"
            "Du mercredi 10 août à 16 h 11 au jeudi 11 août à 16 h 00.\n"
            f"{MF_LINK}\n\n"
            "Des phenomenes habituels dans la region mais occasionnellement et localement "
            "dangereux sont prevus , (ex. mistral, orage d?ete, montee des eaux, fortes vagues "
            "submergeant le littoral)\n\n"
            "Conseils : Soyez attentifs; si vous pratiquez des activites sensibles au risque "
            "meteorologique ou a proximite d'un rivage ou d'un cours d'eau; tenez-vous au "
            "courant de l?evolution de la situation."))


def test_meteofrance_cap_in_english(web, fixtures_dir, weather_bot, civicbot_sandbox) -> None:
    web.add_file("/mf.xml", fixtures_dir / "meteofrance_cap_alert_orages_yellow.xml")
    section = {"place": "Nice", "language": "en", "alerts": {"sources": [
        {"cap": f"{web.url}/mf.xml", "areas": ["FR823"]}]}}
    when = datetime(2022, 8, 10, 16, 20, tzinfo=PARIS)
    with time_machine.travel(when, tick=False) as t:
        bot = weather_bot(section)
        assert len(run(bot, t, when)) == 1
        status = civicbot_sandbox.statuses[0]
        assert status["language"] == "en"
        assert status["spoiler_text"] == "Yellow warning: thunderstorms – Alpes Maritimes"
        text = html_to_text(status["content"])
        assert text.startswith(
            "🟡 Yellow warning: thunderstorms – Alpes Maritimes\n"
            "From Wednesday 10 August, 16:11 to Thursday 11 August, 16:00.\n"
            "Official information (METEO-FRANCE): http://vigilance.meteofrance.com/\n\n"
            "Although rather usual in this region")  # the en-GB info block was chosen


def test_dwd_update_de(web, fixtures_dir, weather_bot, civicbot_sandbox) -> None:
    web.add_file("/dwd.xml", fixtures_dir / "dwd_cap_update.xml", "application/cap+xml")
    section = {"place": "Hohendubrau", "alerts": {"sources": [
        {"cap": f"{web.url}/dwd.xml", "areas": ["814626190"]}]}}
    when = datetime(2022, 8, 26, 22, 10, tzinfo=PARIS)
    with time_machine.travel(when, tick=False) as t:
        bot = weather_bot(section)
        assert len(run(bot, t, when)) == 1
        status = civicbot_sandbox.statuses[0]
        assert status["spoiler_text"] == "Vigilance jaune orages – Gemeinde Hohendubrau"
        text = html_to_text(status["content"])
        assert text.startswith(
            "🟡 Vigilance jaune orages – Gemeinde Hohendubrau\n"
            "Du vendredi 26 août à 22 h 03 au vendredi 26 août à 23 h 00.\n"
            "Informations officielles (Deutscher Wetterdienst) : https://www.wettergefahren.de"
            "\n\nEs treten einzelne Gewitter auf.")
        # expired at 23:00 by the source's own word, the source still answering
        [key] = run(bot, t, datetime(2022, 8, 26, 23, 5, tzinfo=PARIS))
        assert key.endswith(":end")
        end = civicbot_sandbox.statuses[-1]
        assert end["in_reply_to_id"] == status["id"]
        assert html_to_text(end["content"]) == (
            "✅ Fin de la vigilance jaune orages – Gemeinde Hohendubrau\n"
            "Cette vigilance a pris fin le vendredi 26 août à 23 h 00, comme annoncé par "
            "Deutscher Wetterdienst.\n"
            "Informations officielles (Deutscher Wetterdienst) : https://www.wettergefahren.de")


def test_meteofrance_vigilance_api(web, fixtures_dir, weather_bot, civicbot_sandbox,
                                   run_command) -> None:
    doc = json.loads((fixtures_dir / "synthetic_vigilance_encours_41.json").read_text())
    path = "/public/DPVigilance/v1/cartevigilance/encours"
    web.add(path, json.dumps(doc), "application/json")
    section = {"place": "Blois", "alerts": {"sources": [{"vigilance": {
        "departement": 41, "api_key": "cle-secrete-1234",
        "base_url": f"{web.url}/public/DPVigilance/v1"}}]}}
    when = datetime(2026, 6, 10, 16, 5, tzinfo=PARIS)
    with time_machine.travel(when, tick=False) as t:
        bot = weather_bot(section)
        assert run_command(bot, "vigilance") == (
            "Aucune vigilance en cours pour Loir-et-Cher. Attention : les sources officielles "
            "n'ont pas encore été consultées, cette information peut être incomplète.")
        assert run(bot, t, when) == [
            "weather:alert:loir-et-cher|thunderstorm:20260610T140000Z",
            "weather:alert:loir-et-cher|wind:20260610T140000Z"]
        assert web.requests[-1].headers["apikey"] == "cle-secrete-1234"
        storm, wind = civicbot_sandbox.statuses
        assert storm["spoiler_text"] == "Vigilance orange orages – Loir-et-Cher"
        assert html_to_text(storm["content"]) == (
            "🟠 Vigilance orange orages – Loir-et-Cher\n"
            "Du mercredi 10 juin à 16 h 00 au jeudi 11 juin à 6 h 00.\n"
            "Informations officielles (Météo-France) : "
            "https://vigilance.meteofrance.fr/fr/loir-et-cher")
        assert wind["spoiler_text"] == "Vigilance jaune vent violent – Loir-et-Cher"
        assert run_command(bot, "vigilance") == (
            "🟠 Vigilance orange orages – Loir-et-Cher, jusqu'au jeudi 11 juin à 6 h 00. "
            "https://vigilance.meteofrance.fr/fr/loir-et-cher\n"
            "🟡 Vigilance jaune vent violent – Loir-et-Cher, du mercredi 10 juin à 17 h 00 au "
            "jeudi 11 juin à 0 h 00. https://vigilance.meteofrance.fr/fr/loir-et-cher")

        # a map without the département is malformed for us: nothing changes
        broken = json.loads(json.dumps(doc))
        for period in broken["product"]["periods"]:
            period["timelaps"]["domain_ids"] = [
                d for d in period["timelaps"]["domain_ids"] if d["domain_id"] != "41"]
        web.add(path, json.dumps(broken), "application/json")
        assert run(bot, t, datetime(2026, 6, 10, 16, 15, tzinfo=PARIS), failing=True) == []
        web.add(path, '{"product": {}}', "application/json")
        assert run(bot, t, datetime(2026, 6, 10, 16, 25, tzinfo=PARIS), failing=True) == []

        # thunderstorms back to green on a newer map: the source itself ends that warning
        green = json.loads(json.dumps(doc))
        green["product"]["update_time"] = "2026-06-10T20:00:00Z"
        for period in green["product"]["periods"]:
            for domain in period["timelaps"]["domain_ids"]:
                for item in domain["phenomenon_items"]:
                    if domain["domain_id"] == "41" and item["phenomenon_id"] == "3":
                        item["phenomenon_max_color_id"] = 1
                        item["timelaps_items"] = []
        web.add(path, json.dumps(green), "application/json")
        assert run(bot, t, datetime(2026, 6, 10, 22, 5, tzinfo=PARIS)) == [
            "weather:alert:loir-et-cher|thunderstorm:20260610T140000Z:end"]
        end = civicbot_sandbox.statuses[2]
        assert end["in_reply_to_id"] == storm["id"]
        assert end["spoiler_text"] == "Fin de vigilance orange orages – Loir-et-Cher"
        assert html_to_text(end["content"]) == (
            "✅ Fin de la vigilance orange orages – Loir-et-Cher\n"
            "Météo-France a levé cette vigilance.\n"
            "Informations officielles (Météo-France) : "
            "https://vigilance.meteofrance.fr/fr/loir-et-cher")
