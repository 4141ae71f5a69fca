"""HTTP and file access for the sources: timeouts, a size cap, conditional requests.

The last body of every URL is kept in memory with its ETag/Last-Modified, so the next request
is conditional and a ``304 Not Modified`` costs no download.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx

Params = list[tuple[str, str | int | float | bool | None]]


class SourceError(Exception):
    """A source could not be loaded (network, HTTP status, size, parse error)."""


@dataclass
class _Cached:
    body: bytes
    etag: str | None
    last_modified: str | None


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (CA bundle loaded once, about 1 MB) for every account's client."""
    return httpx.create_ssl_context()


class Fetcher:
    def __init__(self, *, timeout: timedelta, max_bytes: int, user_agent: str) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._client = httpx.Client(follow_redirects=True, headers={"User-Agent": user_agent},
                                    verify=shared_ssl_context())
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def read(self, where: str, *, timeout: timedelta | None = None) -> bytes:
        """The bytes of a URL or of a local file."""
        if where.startswith(("http://", "https://")):
            return self.get(where, timeout=timeout)
        path = Path(where)
        try:
            if path.stat().st_size > self.max_bytes:
                raise SourceError(f"{path} is larger than {self.max_bytes} bytes")
            return path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc

    def get(self, url: str, *, params: Params | None = None,
            headers: dict[str, str] | None = None, timeout: timedelta | None = None) -> bytes:
        request = self._client.build_request("GET", url, params=params, headers=headers or {})
        cache_key = str(request.url)
        with self._lock:
            cached = self._cache.get(cache_key)
        if cached is not None:
            if cached.etag:
                request.headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                request.headers["If-Modified-Since"] = cached.last_modified
        seconds = (timeout or self.timeout).total_seconds()
        request.extensions["timeout"] = httpx.Timeout(seconds).as_dict()
        try:
            response = self._client.send(request, stream=True)
            try:
                if response.status_code == 304 and cached is not None:
                    return cached.body
                if response.status_code != 200:
                    raise SourceError(f"HTTP {response.status_code} from {_safe(url)}")
                body = self._read_capped(response, url)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise SourceError(f"timed out after {seconds:g} s: {_safe(url)}") from exc
        except httpx.HTTPError as exc:
            raise SourceError(f"{type(exc).__name__} on {_safe(url)}: {exc}") from exc
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if etag or modified:
            with self._lock:
                self._cache[cache_key] = _Cached(body, etag, modified)
        return body

    def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise SourceError(f"{_safe(url)} is larger than {self.max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise SourceError(f"{_safe(url)} is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _safe(url: str) -> str:
    """The URL without its query string (which may hold an API key)."""
    return url.split("?", 1)[0]


def json_or_error(data: bytes, what: str) -> Any:
    import json

    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"{what}: not valid JSON ({exc})") from exc
