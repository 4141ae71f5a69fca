"""Review: an oversized answer is a source error, read no further than the cap; issue 13: the
plugin fetches through civicbot.Fetcher (the Météo-France key is not sent on to another origin,
a stacked-gzip answer is refused)."""

from __future__ import annotations

import gzip

import pytest

from civicbot import Fetcher
from civicbot.testing.webserver import FakeWebServer
from civicbot_weather.config import SourceConfig
from civicbot_weather.fetch import fetch
from civicbot_weather.model import SourceError
from civicbot_weather.sources import read_source


class Log:
    def __init__(self) -> None:
        self.warnings: list[dict[str, object]] = []

    def warning(self, event: str, **kw: object) -> None:
        self.warnings.append({"event": event, **kw})

    def info(self, event: str, **kw: object) -> None:
        pass

    error = warning


def test_an_oversized_answer_is_refused(web, tmp_path) -> None:
    fetcher = Fetcher(max_bytes=100_000)
    web.add("/big.xml", b"<feed>" + b" " * 200_000 + b"</feed>", "application/xml")
    web.add("/small.xml", b"<feed/>", "application/xml")
    with pytest.raises(SourceError, match="larger than 100000 bytes"):
        fetch(fetcher, f"{web.url}/big.xml", timeout=5)
    assert fetch(fetcher, f"{web.url}/small.xml", timeout=5) == b"<feed/>"
    (tmp_path / "big.xml").write_bytes(b" " * 200_001)
    with pytest.raises(SourceError, match="larger than 100000 bytes"):
        fetch(fetcher, str(tmp_path / "big.xml"), timeout=5)


def test_the_vigilance_apikey_does_not_follow_a_redirect_to_another_origin(web) -> None:
    with FakeWebServer() as elsewhere, Fetcher() as fetcher:
        elsewhere.add("/encours", b"{}", "application/json")
        path = "/public/DPVigilance/v1/cartevigilance/encours"
        web.add(path, b"", status=302, headers={"Location": f"{elsewhere.url}/encours"})
        source = SourceConfig.model_validate({"vigilance": {
            "departement": 41, "api_key": "MF-SECRET",
            "base_url": f"{web.url}/public/DPVigilance/v1"}})
        read_source(source, fetcher=fetcher, language="fr", timeout=5, log=Log())
        assert web.requests_to(path)[0].headers["apikey"] == "MF-SECRET"
        assert "apikey" not in elsewhere.requests_to("/encours")[0].headers


def test_a_stacked_gzip_cap_feed_is_a_failed_source_not_an_all_clear(web) -> None:
    bomb = gzip.compress(gzip.compress(b"\0" * 5_000_000, 9), 9)
    web.add("/cap.xml", bomb, "application/xml", headers={"Content-Encoding": "gzip, gzip"})
    source = SourceConfig.model_validate({"cap": f"{web.url}/cap.xml", "areas": ["FRB05"],
                                          "label": "Loir-et-Cher"})
    log = Log()
    with Fetcher() as fetcher:
        report = read_source(source, fetcher=fetcher, language="fr", timeout=5, log=log)
    assert not report.ok and "stacked Content-Encoding" in (report.error or "")
    assert log.warnings
