"""civicbot.fetch against local servers: deadline, decompressed size cap, redirects and
credentials, conditional requests, files, charsets, typed errors."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

from civicbot import Fetcher, FetchError
from civicbot.fetch import (
    FetchDecodeError,
    FetchHTTPStatus,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
    FetchUnreachable,
    safe_url,
)
from civicbot.testing.webserver import FakeWebServer


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, object]]] = []

    def info(self, event: str, **kw: object) -> None:
        self.lines.append(("info", event, kw))

    def warning(self, event: str, **kw: object) -> None:
        self.lines.append(("warning", event, kw))


@pytest.fixture
def web():
    with FakeWebServer() as server:
        yield server


@pytest.fixture
def fetcher():
    with Fetcher(user_agent="civicbot-test", timeout=5, max_bytes=1_000_000) as f:
        yield f


def test_plain_fetch_gives_bytes_final_url_and_headers(web, fetcher):
    web.add("/feed.xml", b"<rss/>", "application/rss+xml; charset=utf-8")
    result = fetcher.fetch(web.url + "/feed.xml")
    assert result.content == b"<rss/>"
    assert result.url == web.url + "/feed.xml"
    assert result.content_type == "application/rss+xml"
    assert result.charset == "utf-8"
    assert not result.not_modified
    assert web.requests_to("/feed.xml")[0].headers["user-agent"] == "civicbot-test"


def test_a_server_sending_one_byte_per_second_is_cut_at_the_total_deadline(web):
    # issue 13 item 5: with per-read timeouts only, 1 byte/s never times out
    web.add("/slow", b"x" * 100, trickle=0.3)
    with Fetcher(timeout=1.0) as slow:
        started = time.monotonic()
        with pytest.raises(FetchTimeout, match="within 1 s"):
            slow.fetch(web.url + "/slow")
        assert time.monotonic() - started < 3.0


def test_headers_sent_one_byte_at_a_time_are_cut_at_the_deadline_too(web):
    web.add("/slow-headers", b"x", trickle=0.3, trickle_headers=True,
            headers={"X-Padding": "p" * 200})
    with Fetcher(timeout=1.0) as slow:
        started = time.monotonic()
        with pytest.raises(FetchTimeout):
            slow.fetch(web.url + "/slow-headers")
        assert time.monotonic() - started < 3.0


def _bomb(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9)


def test_stacked_gzip_is_refused_without_decompressing(web, fetcher):
    # issue 13 item 2: 1,826 bytes of gzip-of-gzip made the fetchers use 2.16 GB
    inner = _bomb(100_000_000)  # 100 MB of zeros
    outer = gzip.compress(inner, compresslevel=9)
    assert len(outer) < 10_000
    web.add("/bomb", outer, "text/calendar", headers={"Content-Encoding": "gzip, gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(FetchRefused, match="stacked Content-Encoding gzip, gzip"):
            fetcher.fetch(web.url + "/bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


def test_stacked_encoding_in_two_headers_is_refused_too(web, fetcher):
    web.add("/bomb2", gzip.compress(gzip.compress(b"hello")),
            headers={"Content-Encoding": "gzip", "content-encoding": "gzip"})
    # http.server sends both lines; httpx joins them
    with pytest.raises(FetchRefused, match="stacked"):
        fetcher.fetch(web.url + "/bomb2")


def test_a_gzip_bomb_is_stopped_at_the_cap_counted_decompressed(web, fetcher):
    body = _bomb(50_000_000)
    web.add("/one-layer", body, headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(FetchTooLarge, match="decompressed"):
            fetcher.fetch(web.url + "/one-layer")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # the cap is 1 MB


def test_gzip_and_deflate_bodies_are_decoded(web, fetcher):
    text = "Fête de la musique\n".encode() * 1000
    web.add("/g", gzip.compress(text), headers={"Content-Encoding": "gzip"})
    web.add("/d", zlib.compress(text), headers={"Content-Encoding": "deflate"})
    raw = zlib.compressobj(wbits=-15)
    web.add("/raw", raw.compress(text) + raw.flush(), headers={"Content-Encoding": "deflate"})
    web.add("/multi", gzip.compress(b"one ") + gzip.compress(b"two"),
            headers={"Content-Encoding": "gzip"})
    assert fetcher.fetch(web.url + "/g").content == text
    assert fetcher.fetch(web.url + "/d").content == text
    assert fetcher.fetch(web.url + "/raw").content == text
    assert fetcher.fetch(web.url + "/multi").content == b"one two"


def test_unknown_or_corrupt_encodings_are_refused(web, fetcher):
    web.add("/br", b"\x1b\x00", headers={"Content-Encoding": "br"})
    web.add("/bad", b"not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchRefused, match="unsupported Content-Encoding br"):
        fetcher.fetch(web.url + "/br")
    with pytest.raises(FetchRefused, match="corrupt gzip"):
        fetcher.fetch(web.url + "/bad")


def test_plain_body_over_the_cap(web):
    web.add("/big", b"x" * 2000)
    with Fetcher(max_bytes=1000) as small, pytest.raises(FetchTooLarge):
        small.fetch(web.url + "/big")


def test_credentials_are_dropped_on_a_redirect_to_another_origin(web):
    # issue 13 item 7: OpenAgenda's key and Météo-France's apikey followed redirects
    with FakeWebServer() as other, Fetcher() as f:
        other.add("/landing", b"ok")
        web.add("/moved", b"", status=302, headers={"Location": other.url + "/landing"})
        result = f.fetch(web.url + "/moved", headers={
            "key": "OA-SECRET", "apikey": "MF-SECRET", "Authorization": "Bearer T",
            "Cookie": "session=1", "X-Api-Key": "K", "Accept": "application/json"})
        assert result.content == b"ok"
        assert result.url == other.url + "/landing"
        sent = other.requests_to("/landing")[0].headers
        for name in ("key", "apikey", "authorization", "cookie", "x-api-key"):
            assert name not in sent, name
        assert sent["accept"] == "application/json"
        assert web.requests_to("/moved")[0].headers["apikey"] == "MF-SECRET"


def test_credentials_are_kept_on_a_same_origin_redirect(web, fetcher):
    web.add("/old", b"", status=301, headers={"Location": "/new"})
    web.add("/new", b"ok")
    assert fetcher.fetch(web.url + "/old", headers={"apikey": "S"}).content == b"ok"
    assert web.requests_to("/new")[0].headers["apikey"] == "S"


def test_redirect_limit_and_schemes(web):
    web.add("/loop", b"", status=302, headers={"Location": "/loop"})
    web.add("/file", b"", status=302, headers={"Location": "file:///etc/passwd"})
    web.add("/nowhere", b"", status=302)
    with Fetcher(max_redirects=3) as f:
        with pytest.raises(FetchRefused, match="more than 3 redirects"):
            f.fetch(web.url + "/loop")
        assert len(web.requests_to("/loop")) == 4
        with pytest.raises(FetchRefused, match="file"):
            f.fetch(web.url + "/file")
        with pytest.raises(FetchHTTPStatus, match="without Location"):
            f.fetch(web.url + "/nowhere")


def test_conditional_requests_answer_not_modified_with_the_kept_body(web, fetcher):
    web.add("/cal.ics", b"BEGIN:VCALENDAR", last_modified=1_700_000_000)
    first = fetcher.fetch(web.url + "/cal.ics")
    second = fetcher.fetch(web.url + "/cal.ics")
    assert not first.not_modified
    assert second.not_modified and second.status == 304
    assert second.content == b"BEGIN:VCALENDAR"
    asked = web.requests_to("/cal.ics")[1].headers
    assert asked["if-none-match"].startswith('"')
    assert "if-modified-since" in asked
    # another fetcher (another plugin instance) has its own cache
    with Fetcher() as other:
        assert not other.fetch(web.url + "/cal.ics").not_modified
    # conditional=False neither asks nor keeps
    assert not fetcher.fetch(web.url + "/cal.ics", conditional=False).not_modified


def test_errors_are_typed_and_never_show_the_query_string(web, fetcher):
    web.add("/gone", b"", status=410)
    with pytest.raises(FetchHTTPStatus) as caught:
        fetcher.fetch(web.url + "/gone", params={"apikey": "SECRET"})
    assert caught.value.status == 410
    assert "SECRET" not in str(caught.value)
    assert isinstance(caught.value, FetchError)
    with pytest.raises(FetchUnreachable):
        fetcher.fetch("http://127.0.0.1:9/nothing?key=SECRET")
    assert safe_url("https://u:p@example.org:8443/a?key=s#f") == "https://example.org:8443/a"


def test_files_are_read_with_the_same_cap(tmp_path: Path):
    small, big = tmp_path / "a.ics", tmp_path / "b.ics"
    small.write_bytes(b"hello")
    big.write_bytes(b"x" * 2000)
    with Fetcher(max_bytes=1000) as f:
        assert f.fetch(str(small)).content == b"hello"
        assert f.fetch(small.as_uri()).content == b"hello"
        with pytest.raises(FetchTooLarge):
            f.fetch(str(big))
        with pytest.raises(FetchUnreachable):
            f.fetch(str(tmp_path / "missing.ics"))
    with Fetcher(allow_files=False) as f, pytest.raises(FetchRefused):
        f.fetch(str(small))


def test_text_uses_the_declared_charset(web, fetcher):
    web.add("/latin", "Fête à l'église".encode("latin-1"), "text/plain; charset=ISO-8859-1")
    assert fetcher.fetch(web.url + "/latin").text() == "Fête à l'église"


def test_text_detects_an_undeclared_charset_and_logs_it(tmp_path: Path):
    path = tmp_path / "cal.ics"
    path.write_bytes(("SUMMARY:Fête de la Saint-Éloi à l'église, réservée aux aînés\n" * 20)
                     .encode("cp1252"))
    log = Log()
    with Fetcher(log=log) as f:
        text = f.fetch(str(path)).text()
    assert "Fête de la Saint-Éloi" in text
    assert "\ufffd" not in text
    assert any(event.startswith("fetched text is not valid") for _, event, _ in log.lines)


def test_text_logs_what_could_not_be_decoded(web):
    web.add("/broken", b"ok \xff\xfe then ok", "text/calendar; charset=utf-8")
    log = Log()
    with Fetcher(log=log) as f:
        text = f.fetch(web.url + "/broken").text()
    assert text.startswith("ok ") and text.endswith(" then ok")
    warning = [kw for level, _, kw in log.lines if level == "warning"]
    assert warning and warning[0]["count"] == 2 and warning[0]["first_offset"] == 3


def test_json(web, fetcher):
    web.add("/ok.json", '{"a": "é"}', "application/json")
    web.add("/html", "<html>maintenance</html>", "text/html")
    assert fetcher.fetch(web.url + "/ok.json").json() == {"a": "é"}
    with pytest.raises(FetchDecodeError, match="not valid JSON"):
        fetcher.fetch(web.url + "/html").json()


def test_proxies_from_the_environment_keep_the_deadline(web, monkeypatch):
    # the fake server routes by path, so it answers proxied requests (GET http://host/path)
    monkeypatch.setenv("HTTP_PROXY", web.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    web.add("/via-proxy", b"proxied")
    web.add("/slow", b"x" * 100, trickle=0.3)
    with Fetcher(timeout=1.0) as f:
        assert f.fetch("http://feeds.invalid/via-proxy").content == b"proxied"
        started = time.monotonic()
        with pytest.raises(FetchTimeout):
            f.fetch("http://feeds.invalid/slow")
        assert time.monotonic() - started < 3.0


def test_the_conditional_cache_is_bounded_in_bytes(web):
    for i in range(4):
        web.add(f"/f{i}", bytes([65 + i]) * 1000)
    with Fetcher(cache_bytes=2500) as f:
        for i in range(4):
            f.fetch(f"{web.url}/f{i}")
        # two answers fit in 2,500 bytes: the last two are kept, the first ones dropped
        assert [f.fetch(f"{web.url}/f{i}").not_modified for i in (3, 2, 0)] == \
            [True, True, False]


def test_same_origin_rules():
    from civicbot.fetch import _same_origin

    assert _same_origin(("http", "a.fr", 80), ("https", "a.fr", 443))  # upgrade
    assert not _same_origin(("https", "a.fr", 443), ("http", "a.fr", 80))  # downgrade
    assert not _same_origin(("https", "a.fr", 443), ("https", "b.fr", 443))
    assert not _same_origin(("https", "a.fr", 443), ("https", "a.fr", 8443))
    assert not _same_origin(("http", "a.fr", 8080), ("https", "a.fr", 443))


def test_a_slow_dns_answer_is_cut_at_the_deadline(monkeypatch):
    import socket

    real = socket.getaddrinfo

    def slow(host, *args, **kwargs):
        if host == "slow-dns.invalid":
            time.sleep(4)
        if host == "no-such-host.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    with Fetcher(timeout=1.0) as f:
        started = time.monotonic()
        with pytest.raises(FetchTimeout):
            f.fetch("http://slow-dns.invalid/feed")
        assert time.monotonic() - started < 3.0
        with pytest.raises(FetchUnreachable, match="cannot resolve"):
            f.fetch("http://no-such-host.invalid/feed")


def test_not_modified_keeps_the_declared_charset(web, fetcher):
    web.add("/latin.ics", "Fête".encode("latin-1"), "text/calendar; charset=ISO-8859-1")
    assert fetcher.fetch(web.url + "/latin.ics").text() == "Fête"
    again = fetcher.fetch(web.url + "/latin.ics")
    assert again.not_modified and again.charset == "iso8859-1" and again.text() == "Fête"
