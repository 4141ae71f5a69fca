"""Review: an oversized answer is a source error, read no further than the cap."""

from __future__ import annotations

import pytest

from civicbot_weather import fetch as fetch_module
from civicbot_weather.fetch import fetch
from civicbot_weather.model import SourceError


def test_an_oversized_answer_is_refused(web, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(fetch_module, "MAX_BYTES", 100_000)
    web.add("/big.xml", b"<feed>" + b" " * 200_000 + b"</feed>", "application/xml")
    web.add("/small.xml", b"<feed/>", "application/xml")
    with pytest.raises(SourceError, match="larger than 100000 bytes"):
        fetch(f"{web.url}/big.xml", timeout=5)
    assert fetch(f"{web.url}/small.xml", timeout=5) == b"<feed/>"
    (tmp_path / "big.xml").write_bytes(b" " * 200_001)
    with pytest.raises(SourceError, match="larger than 100000 bytes"):
        fetch(str(tmp_path / "big.xml"), timeout=5)
