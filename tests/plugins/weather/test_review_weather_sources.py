"""Review: malformed vigilance maps never crash the poll (the other sources still count),
unknown phenomenon ids are not silently dropped, and a CAP with several <info> blocks for one
area and phenomenon gives the highest level."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from civicbot import html_to_text
from civicbot_weather.cap import parse_cap
from civicbot_weather.model import SourceError
from civicbot_weather.vigilance import parse_vigilance

PARIS = ZoneInfo("Europe/Paris")


def vigilance_doc(items: object, timelaps: object = None) -> bytes:
    period = {"echeance": "J", "begin_validity_time": "2026-06-10T00:00:00Z",
              "end_validity_time": "2026-06-11T00:00:00Z",
              "timelaps": timelaps if timelaps is not None else {"domain_ids": [
                  {"domain_id": "41", "phenomenon_items": items}]}}
    return json.dumps({"product": {"update_time": "2026-06-10T14:00:00Z",
                                   "periods": [period]}}).encode()


@pytest.mark.parametrize("data", [
    vigilance_doc([None]),
    vigilance_doc(["3"]),
    vigilance_doc([], timelaps=[{"domain_id": "41"}]),
])
def test_malformed_vigilance_maps_are_source_errors(data: bytes) -> None:
    with pytest.raises(SourceError):
        parse_vigilance(data, departement="41", area="Loir-et-Cher", web="")


def test_a_malformed_vigilance_map_does_not_stop_the_other_sources(
        web, cap_doc, weather_bot, civicbot_sandbox) -> None:
    web.add("/cap.xml", cap_doc(identifier="a1", sent="2026-06-10T10:00:00+02:00",
                                level="orange"), "application/xml")
    path = "/public/DPVigilance/v1/cartevigilance/encours"
    web.add(path, vigilance_doc([None]), "application/json")
    section = {"place": "Blois", "alerts": {"sources": [
        {"vigilance": {"departement": 41, "api_key": "k",
                       "base_url": f"{web.url}/public/DPVigilance/v1"}},
        {"cap": f"{web.url}/cap.xml", "areas": ["FRB05"], "label": "Loir-et-Cher"}]}}
    with time_machine.travel(datetime(2026, 6, 10, 10, 5, tzinfo=PARIS), tick=False):
        bot = weather_bot(section)
        job = bot.jobs["weather-alerts"]
        bot.scheduler.run(job, bot.now())
    assert [s["spoiler_text"] for s in civicbot_sandbox.statuses] == [
        "Vigilance orange orages – Loir-et-Cher"]


def test_an_unknown_vigilance_phenomenon_is_relayed_not_dropped() -> None:
    data = vigilance_doc([{"phenomenon_id": "42", "phenomenon_max_color_id": 3,
                           "timelaps_items": [{"begin_time": "2026-06-10T14:00:00Z",
                                               "end_time": "2026-06-10T22:00:00Z",
                                               "color_id": 3}]}])
    [alert] = parse_vigilance(data, departement="41", area="Loir-et-Cher", web="")
    assert (alert.level, alert.phenomenon) == ("orange", "vigilance:42")


CAP_TWO_INFOS = b"""<?xml version="1.0" encoding="utf-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>two-infos</identifier><sender>vigilance@meteo.fr</sender>
  <sent>2026-06-10T10:00:00+02:00</sent><status>Actual</status><msgType>Alert</msgType>
  <scope>Public</scope>
  <info><language>fr-FR</language><category>Met</category><event>Vigilance jaune orages</event>
    <urgency>Future</urgency><severity>Moderate</severity><certainty>Likely</certainty>
    <onset>2026-06-10T12:00:00+02:00</onset><expires>2026-06-10T18:00:00+02:00</expires>
    <parameter><valueName>awareness_level</valueName><value>2; yellow; Moderate</value></parameter>
    <parameter><valueName>awareness_type</valueName><value>3; Thunderstorm</value></parameter>
    <area><areaDesc>Loir et Cher</areaDesc>
      <geocode><valueName>NUTS3</valueName><value>FRB05</value></geocode></area></info>
  <info><language>fr-FR</language><category>Met</category><event>Vigilance orange orages</event>
    <urgency>Future</urgency><severity>Severe</severity><certainty>Likely</certainty>
    <onset>2026-06-10T18:00:00+02:00</onset><expires>2026-06-11T06:00:00+02:00</expires>
    <parameter><valueName>awareness_level</valueName><value>3; orange; Severe</value></parameter>
    <parameter><valueName>awareness_type</valueName><value>3; Thunderstorm</value></parameter>
    <area><areaDesc>Loir et Cher</areaDesc>
      <geocode><valueName>NUTS3</valueName><value>FRB05</value></geocode></area>
    <area><areaDesc>Indre et Loire</areaDesc>
      <geocode><valueName>NUTS3</valueName><value>FRB04</value></geocode></area></info>
</alert>"""


def test_several_info_blocks_for_one_warning_give_the_highest_level(
        tmp_path, weather_bot, civicbot_sandbox) -> None:
    assert len(parse_cap(CAP_TWO_INFOS, areas=["FRB05"])) == 2
    (tmp_path / "cap.xml").write_bytes(CAP_TWO_INFOS)
    section = {"place": "Blois", "alerts": {"sources": [
        {"cap": str(tmp_path / "cap.xml"), "areas": ["FRB05"], "label": "Loir-et-Cher"}]}}
    with time_machine.travel(datetime(2026, 6, 10, 10, 5, tzinfo=PARIS), tick=False):
        bot = weather_bot(section)
        bot.scheduler.run(bot.jobs["weather-alerts"], bot.now())
    [post] = civicbot_sandbox.statuses
    assert post["spoiler_text"] == "Vigilance orange orages – Loir-et-Cher"
    assert html_to_text(post["content"]).splitlines()[:2] == [
        "🟠 Vigilance orange orages – Loir-et-Cher",
        "Du mercredi 10 juin à 12 h 00 au jeudi 11 juin à 6 h 00."]
