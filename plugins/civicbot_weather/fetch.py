"""Fetching a source: an http(s) URL or a local file, every failure as a :class:`SourceError`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx

from civicbot import __version__
from civicbot_weather.model import SourceError

USER_AGENT = f"civicbot/{__version__} (weather plugin)"


def fetch(url: str, *, timeout: float, headers: Mapping[str, str] | None = None,
          params: Mapping[str, str] | None = None) -> bytes:
    """The body of ``url`` (or the content of a local file).

    Raises :class:`SourceError` for network errors, timeouts and HTTP error statuses.
    """
    if not url.startswith(("http://", "https://")):
        try:
            return Path(url).read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {url}: {exc.strerror or exc}") from exc
    try:
        response = httpx.get(url, params=params, timeout=timeout, follow_redirects=True,
                             headers={"User-Agent": USER_AGENT, **(headers or {})})
    except httpx.TimeoutException as exc:
        raise SourceError(f"{url}: timed out after {timeout:g}s") from exc
    except httpx.HTTPError as exc:
        raise SourceError(f"{url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 400:
        raise SourceError(f"{url}: HTTP {response.status_code}")
    return response.content
