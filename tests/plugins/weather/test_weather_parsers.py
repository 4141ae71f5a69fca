"""The source parsers on the real fixtures, and their refusals (malformed documents)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from civicbot_weather.cap import parse_cap
from civicbot_weather.meteoalarm import cap_links
from civicbot_weather.model import Alert, Cancellation, SourceError
from civicbot_weather.openmeteo import parse_forecast
from civicbot_weather.vigilance import parse_vigilance

CEST = timezone(timedelta(hours=2))
CET = timezone(timedelta(hours=1))


def test_meteofrance_cap_alert(fixtures_dir) -> None:
    data = (fixtures_dir / "meteofrance_cap_alert_orages_yellow.xml").read_bytes()
    alerts = parse_cap(data, areas=["FR623", "Alpes Maritimes"])
    assert [(a.area_key, a.area) for a in alerts] == [
        ("alpes-maritimes", "Alpes Maritimes"), ("FR623", "Haute Garonne")]
    alert = alerts[1]
    assert isinstance(alert, Alert)
    assert (alert.phenomenon, alert.level, alert.kind) == ("thunderstorm", "yellow", "active")
    assert alert.onset == datetime(2022, 8, 10, 16, 11, tzinfo=CEST)
    assert alert.expires == datetime(2022, 8, 11, 16, 0, tzinfo=CEST)
    assert alert.sent == datetime(2022, 8, 10, 16, 12, 20, tzinfo=CEST)
    assert alert.language == "fr-FR" and alert.event == "Vigilance jaune orages"
    assert alert.web == "http://vigilance.meteofrance.com/" and alert.sender == "METEO-FRANCE"
    assert alert.identifier == "2.49.0.0.250.0.FR.20220810161220.589023"
    # English preferred: the en-GB block
    [english] = parse_cap(data, areas=["FR623"], language="en")
    assert english.language == "en-GB" and english.event == "Moderate thunderstorm warning"
    # a label merges the areas under one name
    merged = parse_cap(data, areas=["FR821", "FR822"], label="Alpes du Sud")
    assert [(a.area_key, a.area) for a in merged] == [("alpes-du-sud", "Alpes du Sud")]
    assert parse_cap(data, areas=["FRB05"]) == []


def test_meteoalarm_allclear_update(fixtures_dir) -> None:
    data = (fixtures_dir / "meteoalarm_fr_cap_update_avalanches.xml").read_bytes()
    [alert] = parse_cap(data, areas=["FR718"])
    assert isinstance(alert, Alert)
    assert alert.kind == "allclear"
    assert alert.level == "yellow"  # the old level is kept: responseType alone ends it
    assert alert.phenomenon == "avalanches"
    assert alert.references == ("2.49.0.0.250.0.FR.20221206160108.315028",)
    assert alert.expires == datetime(2022, 12, 7, 6, 1, tzinfo=CET)


def test_dwd_update(fixtures_dir) -> None:
    data = (fixtures_dir / "dwd_cap_update.xml").read_bytes()
    [alert] = parse_cap(data, areas=["814626190"])
    assert isinstance(alert, Alert)
    assert alert.language == "de-DE"
    assert alert.phenomenon == "thunderstorm"  # from eventCode GROUP
    assert alert.level == "yellow"  # from severity Moderate (no awareness_level)
    assert alert.area == "Gemeinde Hohendubrau"
    assert alert.headline == "Amtliche WARNUNG vor STARKEM GEWITTER"
    assert alert.references == (
        "2.49.0.0.276.0.DWD.PVW.1661542140000.7462e657-ce54-473f-91c8-abe408afe703.MUL",)


def test_cap_cancel_without_info(cap_doc) -> None:
    data = cap_doc(identifier="c", sent="2026-06-10T12:00:00+02:00", msg_type="Cancel",
                   with_info=False, references="vigilance@meteo.fr,a1,2026-06-10T10:00:00+02:00")
    [cancel] = parse_cap(data, areas=["FRB05"])
    assert isinstance(cancel, Cancellation)
    assert cancel.references == ("a1",)


def test_cap_test_messages_are_never_relayed(cap_doc) -> None:
    data = cap_doc(identifier="t", sent="2026-06-10T12:00:00+02:00").replace(
        b"<status>Actual</status>", b"<status>Exercise</status>")
    assert parse_cap(data, areas=["FRB05"]) == []


@pytest.mark.parametrize("data", [
    b"", b"   ", b"<alert", b"<html><body>Maintenance</body></html>",
    b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><msgType>Alert</msgType></alert>',
    b'<!DOCTYPE x [<!ENTITY a "aaaa">]><alert>&a;</alert>',
])
def test_cap_malformed(data: bytes) -> None:
    with pytest.raises(SourceError):
        parse_cap(data, areas=[])


def test_meteoalarm_feed(fixtures_dir) -> None:
    data = (fixtures_dir / "meteoalarm_fr_atom_feed.xml").read_bytes()
    base = "https://feeds.meteoalarm.org/api/v1/warnings/feeds-france/"
    expected = [base + "04d497d4-d114-4d6b-93ba-13fa7ed577fe",
                base + "2f32f9f9-06df-48aa-b0a0-10493ea07c51"]
    assert cap_links(data, areas=["FR718"], feed_url="https://x/feed") == expected
    assert cap_links(data, areas=["haute savoie"], feed_url="https://x/feed") == expected
    assert cap_links(data, areas=["FRB05"], feed_url="https://x/feed") == []
    with pytest.raises(SourceError):
        cap_links(b"<rss/>", areas=["FR718"], feed_url="https://x/feed")


def test_vigilance_document(fixtures_dir) -> None:
    data = (fixtures_dir / "synthetic_vigilance_encours_41.json").read_bytes()
    alerts = {a.phenomenon: a for a in parse_vigilance(
        data, departement="41", area="Loir-et-Cher", web="https://v/41")}
    assert set(alerts) == {"wind", "rain-flood", "thunderstorm", "flood", "snow-ice", "heat",
                           "cold"}
    storm = alerts["thunderstorm"]
    assert storm.level == "orange"
    assert storm.onset == datetime(2026, 6, 10, 14, tzinfo=UTC)
    assert storm.expires == datetime(2026, 6, 11, 4, tzinfo=UTC)
    assert alerts["wind"].level == "yellow"
    assert alerts["heat"].level == "green" and alerts["heat"].expires is None
    assert storm.area_key == "loir-et-cher" and storm.sender == "Météo-France"
    # the neighbour département and the coastal sub-area are separate
    [neighbour] = parse_vigilance(data, departement="37", area="Indre-et-Loire", web="")
    assert (neighbour.phenomenon, neighbour.level) == ("thunderstorm", "yellow")
    with pytest.raises(SourceError, match="département 45 is not in the document"):
        parse_vigilance(data, departement="45", area="Loiret", web="")
    for broken in (b"", b"{", b"[]", b'{"product": {"periods": []}}',
                   json.dumps({"product": {"periods": [{}]}}).encode()):
        with pytest.raises(SourceError):
            parse_vigilance(broken, departement="41", area="Loir-et-Cher", web="")


def test_openmeteo_legacy_names(fixtures_dir) -> None:
    data = (fixtures_dir / "openmeteo_forecast_current_hourly_daily.json").read_bytes()
    forecast = parse_forecast(data, date(2026, 10, 4))
    assert (forecast.weather_code, forecast.temperature_min, forecast.temperature_max,
            forecast.precipitation, forecast.wind_max) == (3, 11.2, 20.1, 0.0, 9.4)
    assert (forecast.temperature_unit, forecast.wind_unit) == ("°C", "km/h")
    with pytest.raises(SourceError, match="no forecast for 2026-10-06"):
        parse_forecast(data, date(2026, 10, 6))
    for broken in (b"", b"{}", b'{"daily": {"time": []}}', b'{"daily": 3}'):
        with pytest.raises(SourceError):
            parse_forecast(broken, date(2026, 10, 4))
