"""The network layer under :mod:`civicbot.fetch`: an httpx transport whose every socket
operation is bounded by the fetch's total deadline, and bounded decompression.

httpx's timeouts are per operation: a server sending one byte per second never trips a 15 s
read timeout (neither while sending headers nor the body). Here the connection pool is built on
a network backend whose streams cap each connect, read, write and TLS handshake at the time left
before the deadline of the fetch running in the calling thread (httpx's sync client does all
its I/O in that thread), so a fetch ends at its deadline whatever the server does.

Imported on the first fetch (httpx and httpcore are not loaded when civicbot starts).
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
import time
import typing
import zlib
from collections.abc import Iterable, Iterator

import httpcore
import httpx

_local = threading.local()


class DeadlineExceeded(Exception):
    """Raised inside the transport when the fetch's deadline has passed."""


def set_deadline(deadline: float | None) -> None:
    """The ``time.monotonic()`` instant the current thread's fetch must end by (None: none)."""
    _local.deadline = deadline


def _bounded(timeout: float | None) -> float | None:
    deadline: float | None = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the fetch's total deadline has passed")
    return left if timeout is None else min(timeout, left)


def _resolve(host: str, port: int, timeout: float | None) -> list[str]:
    """The addresses of ``host``, resolved in a daemon thread so that a slow DNS answer is cut
    at ``timeout`` like everything else."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [host.strip("[]")]
    found: list[str] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
                if str(sockaddr[0]) not in found:
                    found.append(str(sockaddr[0]))
        except OSError as exc:
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=lookup, name="civicbot-dns", daemon=True).start()
    if not done.wait(timeout):
        raise httpcore.ConnectTimeout(f"no DNS answer for {host} within the deadline")
    if failure:
        raise httpcore.ConnectError(f"cannot resolve {host}: {failure[0]}")
    return found


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: typing.Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        # the name is resolved first, within the deadline too (getaddrinfo has no timeout),
        # then each address is tried in turn, as socket.create_connection does
        last: Exception | None = None
        for address in _resolve(host, port, _bounded(timeout)):
            try:
                return _Stream(self._inner.connect_tcp(address, port, _bounded(timeout),
                                                       local_address, socket_options))
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[typing.Any] | None = None
                            ) -> httpcore.NetworkStream:  # pragma: no cover - not used
        return _Stream(self._inner.connect_unix_socket(path, _bounded(timeout), socket_options))

    def sleep(self, seconds: float) -> None:  # pragma: no cover - retries are off
        self._inner.sleep(seconds)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every transport: each would otherwise load the CA bundle again
    (about 1 MB per account's fetcher). ``SSL_CERT_FILE``/``SSL_CERT_DIR`` are read, as httpx
    reads them."""
    return httpx.create_ssl_context()


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport (direct or through a proxy), its connection pool on the
    deadline-aware network backend."""

    def __init__(self, proxy: str | None = None) -> None:
        super().__init__(proxy=proxy, verify=shared_ssl_context())
        pool = getattr(self, "_pool", None)
        if pool is None or not hasattr(pool, "_network_backend"):  # pragma: no cover
            # never fetch without the deadline: an httpx/httpcore change must be noticed
            raise RuntimeError("httpx/httpcore internals changed: update civicbot.fetch_transport")
        pool._network_backend = _Backend()


def _proxy_mounts() -> dict[str, httpx.BaseTransport | None]:
    """Proxies from the environment (``HTTPS_PROXY``, ``NO_PROXY``...), read as httpx reads
    them, each on a deadline-aware transport."""
    from urllib.request import getproxies

    info = getproxies()
    mounts: dict[str, httpx.BaseTransport | None] = {}
    for scheme in ("http", "https", "all"):
        url = info.get(scheme)
        if url:
            mounts[f"{scheme}://"] = DeadlineTransport(url if "://" in url else f"http://{url}")
    if not mounts:
        return {}
    for host in (h.strip() for h in info.get("no", "").split(",")):
        if host == "*":
            return {}
        if not host:
            continue
        if "://" in host:
            mounts[host] = None
        elif ":" in host:
            mounts[f"all://[{host}]"] = None
        elif host.replace(".", "").isdigit() or host == "localhost":
            mounts[f"all://{host}"] = None
        else:
            mounts[f"all://*{host}"] = None
    return mounts


def new_client(user_agent: str) -> httpx.Client:
    # trust_env=False: httpx would mount plain transports for the proxies of the environment;
    # _proxy_mounts() mounts deadline-aware ones instead
    return httpx.Client(transport=DeadlineTransport(), mounts=_proxy_mounts(),
                        follow_redirects=False, trust_env=False,
                        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"})


class TooLarge(Exception):
    """More than the cap came out of the decoder."""


def decoded_chunks(raw: Iterator[bytes], encodings: list[str], cap: int) -> Iterator[bytes]:
    """The body, decompressed when ``encodings`` holds one layer (``gzip`` or ``deflate``),
    never producing more than ``cap + 1`` bytes in all (each decompress call is bounded, so a
    bomb costs at most the cap in memory). Raises :class:`TooLarge` past the cap and
    :class:`ValueError` for corrupt data."""
    size = 0
    if not encodings:
        for chunk in raw:
            size += len(chunk)
            if size > cap:
                raise TooLarge
            yield chunk
        return
    (encoding,) = encodings
    gzip = encoding in ("gzip", "x-gzip")
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
    first = True
    for chunk in raw:
        data = chunk
        while data:
            try:
                out = decoder.decompress(data, cap + 1 - size)
            except zlib.error as exc:
                if first and not gzip:  # "deflate" sent as a raw stream, without zlib header
                    decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                    first = False
                    continue
                raise ValueError(f"corrupt {encoding} data: {exc}") from exc
            first = False
            size += len(out)
            if size > cap:
                raise TooLarge
            if out:
                yield out
            if decoder.unconsumed_tail:
                data = decoder.unconsumed_tail
            elif decoder.eof and decoder.unused_data and gzip:  # a multi-member gzip
                data = decoder.unused_data
                decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:
                data = b""
    tail = decoder.flush()  # at most what zlib holds back (its window), not the whole body
    size += len(tail)
    if size > cap:
        raise TooLarge
    if tail:
        yield tail
