"""Fetching a source: an http(s) URL or a local file, every failure as a :class:`SourceError`.

Answers are read up to :data:`MAX_BYTES` (a runaway or hostile server cannot fill the memory):
a bigger one is a source error, so the last known state is kept.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import httpx

from civicbot import __version__
from civicbot_weather.model import SourceError

USER_AGENT = f"civicbot/{__version__} (weather plugin)"
#: The largest answer read (real feeds: a few hundred kilobytes at most).
MAX_BYTES = 10_000_000


@cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every request (loading the CA bundle costs about 1 MB each time)."""
    return httpx.create_ssl_context()


def _too_big(url: str) -> SourceError:
    return SourceError(f"{url}: larger than {MAX_BYTES} bytes")


def fetch(url: str, *, timeout: float, headers: Mapping[str, str] | None = None,
          params: Mapping[str, str] | None = None) -> bytes:
    """The body of ``url`` (or the content of a local file).

    Raises :class:`SourceError` for network errors, timeouts, HTTP error statuses and answers
    larger than :data:`MAX_BYTES`.
    """
    if not url.startswith(("http://", "https://")):
        try:
            path = Path(url)
            if path.stat().st_size > MAX_BYTES:
                raise _too_big(url)
            return path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {url}: {exc.strerror or exc}") from exc
    try:
        with httpx.stream("GET", url, params=params, timeout=timeout, follow_redirects=True,
                          headers={"User-Agent": USER_AGENT, **(headers or {})},
                          verify=_ssl_context()) as response:
            if response.status_code >= 400:
                raise SourceError(f"{url}: HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise _too_big(url)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise _too_big(url)
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException as exc:
        raise SourceError(f"{url}: timed out after {timeout:g}s") from exc
    except httpx.HTTPError as exc:
        raise SourceError(f"{url}: {type(exc).__name__}: {exc}") from exc
