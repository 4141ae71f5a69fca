"""Fetching what plugins read from the web (feeds, calendars, APIs) or from local files, safely.

One :class:`Fetcher` per plugin instance (it keeps the conditional-request cache)::

    from civicbot import Fetcher, FetchError

    fetcher = Fetcher(user_agent="civicbot (news plugin)", timeout=15, max_bytes=5_000_000)
    try:
        result = fetcher.fetch("https://example.org/feed.xml")
    except FetchError as exc:       # never read a failure as "nothing new"
        log.warning("feed failed", error=str(exc))
    else:
        if not result.not_modified:
            parse(result.content, base_url=result.url)

What every fetch guarantees:

* **a total deadline**: ``timeout`` bounds the whole fetch, redirects and a server that sends
  one byte per second included (not only each read);
* **a size cap counted after decompression**, as the body streams: one ``gzip`` or ``deflate``
  layer is decoded with bounded output, stacked encodings (``gzip, gzip``) and unknown ones are
  refused (:class:`FetchRefused`);
* **redirects** followed up to ``max_redirects``, http(s) only; on a redirect to another origin
  (scheme, host or port; ``http`` to ``https`` on the same host is an upgrade, not another
  origin) every header the caller added is dropped except harmless ones
  (``Accept``, ``Accept-Language``), so API keys (``key``, ``apikey``, ``Authorization``...)
  never reach a third party;
* **conditional requests**: a ``200`` carrying ``ETag`` or ``Last-Modified`` is kept, the next
  fetch of the same URL (and headers) asks ``If-None-Match`` / ``If-Modified-Since``, and a
  ``304`` answers ``not_modified=True`` with the kept body;
* **typed errors**: every failure raises a :class:`FetchError` subclass whose message names the
  URL without its query string (which may hold a key).

A source that is not an ``http(s)://`` URL is read as a local file (``file://`` URLs too), with
the same size cap.
"""

from __future__ import annotations

import codecs
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

from civicbot.errors import CivicbotError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FetchDecodeError",
    "FetchError",
    "FetchHTTPStatus",
    "FetchRefused",
    "FetchResult",
    "FetchTimeout",
    "FetchTooLarge",
    "FetchUnreachable",
    "Fetcher",
    "safe_url",
]

#: Query parameters: a list of pairs (repeated names allowed) or a mapping.
Params = Sequence[tuple[str, str | int | float | bool | None]] | Mapping[str, Any]

#: Request headers kept on a redirect to another origin; every other header the caller set
#: (API keys, ``Authorization``, cookies...) is dropped.
SAFE_HEADERS = frozenset({"accept", "accept-language", "user-agent", "accept-encoding",
                          "cache-control", "if-none-match", "if-modified-since"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchError(CivicbotError):
    """A fetch failed; ``url`` is the address asked for, without its query string."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class FetchTimeout(FetchError):
    """The fetch did not finish within its total deadline (or a connection timed out)."""


class FetchTooLarge(FetchError):
    """The body (counted decompressed) or the file is larger than ``max_bytes``."""


class FetchHTTPStatus(FetchError):
    """The server answered an error status (or a redirect without ``Location``)."""

    def __init__(self, message: str, *, url: str = "", status: int = 0) -> None:
        super().__init__(message, url=url)
        self.status = status


class FetchRefused(FetchError):
    """civicbot refused the answer: stacked or unknown ``Content-Encoding``, too many
    redirects, a redirect to something else than http(s), corrupt compressed data."""


class FetchUnreachable(FetchError):
    """The server could not be reached (DNS, connection refused, TLS) or the file not read."""


class FetchDecodeError(FetchError):
    """The body is not what was asked for (:meth:`FetchResult.json` on something else)."""


def safe_url(url: str) -> str:
    """``url`` without user info, query string and fragment (fit for logs and messages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0]
    if not parts.scheme or parts.scheme == "file":
        return url.split("?", 1)[0]
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{netloc}{parts.path}"


_NOTE_ERRORS = "civicbot.fetch.note"
_undecodable = threading.local()


def _note(error: UnicodeError) -> tuple[str, int]:
    """A decode error handler: replace with U+FFFD and remember where (thread-local)."""
    assert isinstance(error, UnicodeDecodeError)
    positions: list[int] | None = getattr(_undecodable, "positions", None)
    if positions is not None:
        positions.append(error.start)
    return "\ufffd", error.end


codecs.register_error(_NOTE_ERRORS, _note)


@dataclass
class FetchResult:
    """What a fetch gave.

    ``content`` is the decompressed body (the kept one when ``not_modified``); ``url`` the
    final URL after redirects (the base for relative links), or the file's path; ``headers``
    the final answer's headers (case-insensitive; empty for a file).
    """

    content: bytes
    url: str
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    not_modified: bool = False
    log: Any = field(default=None, repr=False, compare=False)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case (``""`` when not given)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset declared in ``Content-Type``, if any (and known to Python)."""
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                value = value.strip().strip('"').strip("'")
                try:
                    return codecs.lookup(value).name
                except LookupError:
                    return None
        return None

    def text(self, default: str = "utf-8", legacy: str | None = "cp1252") -> str:
        """The body decoded: with a byte-order mark's charset, else the declared charset, else
        ``default`` when the bytes are valid in it, else ``legacy`` (Windows-1252, what French
        and Western European sites used before UTF-8) when they are valid in it, else the
        charset detected by charset-normalizer. What still cannot be decoded is replaced
        (U+FFFD) and logged."""
        data = self.content
        for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
            if data.startswith(bom):
                return self._decode(name)
        declared = self.charset
        if declared is not None:
            return self._decode(declared)
        for encoding in (default, legacy):
            if encoding is None:
                continue
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if encoding != default and self.log is not None:
                self.log.info(f"fetched text is not valid {default}; read as {encoding}",
                              url=safe_url(self.url))
            return text
        import charset_normalizer

        best = charset_normalizer.from_bytes(data[:200_000]).best()
        detected = best.encoding if best is not None else None
        if self.log is not None:
            self.log.info(f"fetched text is not valid {default}", url=safe_url(self.url),
                          detected=detected)
        return self._decode(detected or default)

    def _decode(self, encoding: str) -> str:
        bad: list[int] = []
        _undecodable.positions = bad
        try:
            text = self.content.decode(encoding, errors=_NOTE_ERRORS)
        finally:
            _undecodable.positions = []
        if bad and self.log is not None:
            self.log.warning("undecodable bytes in fetched text replaced", url=safe_url(self.url),
                             encoding=encoding, count=len(bad), first_offset=bad[0])
        return text

    def json(self) -> Any:
        """The body parsed as JSON (UTF-8, -16 or -32, with or without a BOM)."""
        try:
            return json.loads(self.content)
        except (UnicodeDecodeError, ValueError) as exc:
            raise FetchDecodeError(f"not valid JSON from {safe_url(self.url)}: {exc}",
                                   url=safe_url(self.url)) from exc


@dataclass
class _Kept:
    result: FetchResult
    etag: str | None
    last_modified: str | None


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _same_origin(first: tuple[str, str, int | None], then: tuple[str, str, int | None]) -> bool:
    """Same scheme, host and port, or the upgrade of ``http://host`` to ``https://host`` on
    the default ports (as requests allows it)."""
    return first == then or (first == ("http", then[1], 80) and then == ("https", first[1], 443))


class Fetcher:
    """Fetches URLs and files for one plugin instance; thread-safe; close it when done.

    ``timeout`` is the total time one fetch may take (redirects included); ``max_bytes`` the
    largest body accepted, counted after decompression; ``max_redirects`` the longest redirect
    chain followed; ``allow_files`` whether non-URL sources are read as local files;
    ``cache_entries`` and ``cache_bytes`` how many answers (and bytes) are kept for conditional
    requests, the least recently used dropped first; ``log`` a structlog
    logger (``bot.log``) for what :meth:`FetchResult.text` could not decode.
    """

    def __init__(self, *, user_agent: str = "civicbot", timeout: float | timedelta = 15.0,
                 max_bytes: int = 10_000_000, max_redirects: int = 5, allow_files: bool = True,
                 cache_entries: int = 64, cache_bytes: int = 64_000_000,
                 log: Any = None) -> None:
        self.user_agent = user_agent
        self.timeout = _seconds(timeout)
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allow_files = allow_files
        self.cache_entries = cache_entries
        self.cache_bytes = cache_bytes
        self.log = log
        self._client: httpx.Client | None = None
        self._cache: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                from civicbot.fetch_transport import new_client

                self._client = new_client(self.user_agent)
            return self._client

    # -- the one entry point ------------------------------------------------------------------
    def fetch(self, source: str, *, params: Params | None = None,
              headers: Mapping[str, str] | None = None, timeout: float | timedelta | None = None,
              conditional: bool = True) -> FetchResult:
        """GET an ``http(s)://`` URL, or read a local file (a path or a ``file://`` URL).

        ``params`` are added to the query string, ``headers`` to the request (dropped on a
        redirect to another origin unless harmless); ``timeout`` overrides the fetcher's total
        deadline for this fetch; ``conditional=False`` neither sends nor keeps validators.
        Raises a :class:`FetchError` subclass on any failure.
        """
        if not source.startswith(("http://", "https://")):
            return self._read_file(source)
        seconds = _seconds(timeout) if timeout is not None else self.timeout
        try:
            client = self._http()  # built (TLS context, imports) before the clock starts
        except (ImportError, ValueError) as exc:  # e.g. a socks5:// proxy without socksio
            raise FetchRefused(f"cannot set up HTTP: {exc}", url=safe_url(source)) from exc
        from civicbot.fetch_transport import set_deadline

        set_deadline(time.monotonic() + seconds)
        try:
            return self._get(client, source, params, dict(headers or {}), seconds, conditional)
        finally:
            set_deadline(None)

    def _read_file(self, source: str) -> FetchResult:
        where = unquote(urlsplit(source).path) if source.startswith("file://") else source
        if not self.allow_files:
            raise FetchRefused(f"not an http(s) URL: {safe_url(source)}", url=safe_url(source))
        path = Path(where)
        try:
            with path.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise FetchUnreachable(f"cannot read {path}: {exc.strerror or exc}",
                                   url=str(path)) from exc
        if len(data) > self.max_bytes:
            raise FetchTooLarge(f"{path} is larger than {self.max_bytes} bytes", url=str(path))
        return FetchResult(content=data, url=str(path), log=self.log)

    def _get(self, client: httpx.Client, url: str, params: Params | None,
             headers: dict[str, str], seconds: float, conditional: bool) -> FetchResult:
        import httpx

        shown = safe_url(url)
        try:
            query = list(params) if isinstance(params, Sequence) else params
            request = client.build_request("GET", url, params=query, headers=headers)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise FetchRefused(f"invalid URL {shown}: {exc}", url=shown) from exc
        key = (str(request.url), tuple(sorted((k.lower(), v) for k, v in headers.items())))
        kept = None
        if conditional:
            with self._lock:
                kept = self._cache.get(key)
        if kept is not None:
            if kept.etag:
                request.headers["If-None-Match"] = kept.etag
            if kept.last_modified:
                request.headers["If-Modified-Since"] = kept.last_modified
        origin = _origin(request.url)
        request.extensions["timeout"] = httpx.Timeout(seconds).as_dict()
        try:
            for _ in range(self.max_redirects + 1):
                response = client.send(request, stream=True)
                try:
                    if response.status_code not in _REDIRECTS:
                        return self._finish(response, key, kept, shown, conditional)
                    request = self._redirect(request, response, origin, shown)
                finally:
                    response.close()
            raise FetchRefused(f"more than {self.max_redirects} redirects from {shown}", url=shown)
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"timed out: no complete answer within {seconds:g} s "
                               f"from {shown}", url=shown) from exc
        except (httpx.ConnectError, httpx.NetworkError, httpx.ProxyError) as exc:
            raise FetchUnreachable(f"cannot reach {shown}: {exc}", url=shown) from exc
        except httpx.HTTPError as exc:
            raise FetchUnreachable(f"{type(exc).__name__} on {shown}: {exc}", url=shown) from exc

    def _redirect(self, request: httpx.Request, response: httpx.Response,
                  origin: tuple[str, str, int | None], shown: str) -> httpx.Request:
        import httpx

        location = response.headers.get("Location")
        if not location:
            raise FetchHTTPStatus(f"HTTP {response.status_code} without Location from {shown}",
                                  url=shown, status=response.status_code)
        try:
            target = httpx.URL(urljoin(str(request.url), location))
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchRefused(f"invalid redirect from {shown}: {exc}", url=shown) from exc
        if target.scheme not in ("http", "https"):
            raise FetchRefused(f"redirect to a {target.scheme or 'relative'} URL refused "
                               f"({shown})", url=shown)
        headers = httpx.Headers(request.headers)
        headers.pop("Host", None)
        if not _same_origin(origin, _origin(target)):
            # another origin: nothing the caller added may follow (API keys, Authorization)
            for name in list(headers.keys()):
                if name.lower() not in SAFE_HEADERS:
                    del headers[name]
        new = httpx.Request("GET", target, headers=headers)
        new.extensions = dict(request.extensions)
        return new

    def _finish(self, response: httpx.Response, key: tuple[str, tuple[tuple[str, str], ...]],
                kept: _Kept | None, shown: str, conditional: bool) -> FetchResult:
        import httpx

        status = response.status_code
        final = str(response.request.url)
        if status == 304 and kept is not None:
            with self._lock:
                self._cache.move_to_end(key)
            previous = kept.result
            # the kept answer's headers (its Content-Type and charset), refreshed by the 304's
            headers = httpx.Headers(previous.headers)
            for name in ("etag", "last-modified", "date", "cache-control", "expires"):
                if name in response.headers:
                    headers[name] = response.headers[name]
            return FetchResult(content=previous.content, url=previous.url, status=304,
                               headers=headers, not_modified=True, log=self.log)
        if not 200 <= status < 300:
            raise FetchHTTPStatus(f"HTTP {status} from {shown}", url=shown, status=status)
        content = self._read_body(response, shown)
        result = FetchResult(content=content, url=final, status=status,
                             headers=response.headers, log=self.log)
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if (conditional and (etag or modified) and self.cache_entries > 0
                and len(content) <= self.cache_bytes):
            with self._lock:
                self._cache[key] = _Kept(result, etag, modified)
                self._cache.move_to_end(key)
                kept_bytes = sum(len(k.result.content) for k in self._cache.values())
                while len(self._cache) > self.cache_entries or kept_bytes > self.cache_bytes:
                    _, dropped = self._cache.popitem(last=False)
                    kept_bytes -= len(dropped.result.content)
        return result

    def _read_body(self, response: httpx.Response, shown: str) -> bytes:
        from civicbot.fetch_transport import TooLarge, decoded_chunks

        encodings = _encodings(response.headers.get_list("Content-Encoding", split_commas=True))
        if len(encodings) > 1:
            raise FetchRefused(f"stacked Content-Encoding {', '.join(encodings)} refused "
                               f"from {shown}", url=shown)
        if encodings and encodings[0] not in ("gzip", "x-gzip", "deflate"):
            raise FetchRefused(f"unsupported Content-Encoding {encodings[0]} from {shown}",
                               url=shown)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchTooLarge(f"{shown} is larger than {self.max_bytes} bytes", url=shown)
        chunks: list[bytes] = []
        try:
            for chunk in decoded_chunks(response.iter_raw(), encodings, self.max_bytes):
                chunks.append(chunk)
        except TooLarge:
            raise FetchTooLarge(f"{shown} is larger than {self.max_bytes} bytes "
                                "(decompressed)" if encodings else
                                f"{shown} is larger than {self.max_bytes} bytes",
                                url=shown) from None
        except ValueError as exc:
            raise FetchRefused(f"{exc} from {shown}", url=shown) from exc
        return b"".join(chunks)


def _encodings(values: Iterable[str]) -> list[str]:
    return [v.strip().lower() for v in values if v.strip() and v.strip().lower() != "identity"]
