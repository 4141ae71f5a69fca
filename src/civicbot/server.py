"""What the account's server supports, and what civicbot does about it.

Towns run Mastodon, GoToSocial or snac; they all speak the Mastodon client API, with
differences that silently break bots (observed on real GoToSocial 0.20 and snac 2.94 servers):

* ``Idempotency-Key`` is honoured by Mastodon only (for one hour): elsewhere a pending post is
  first looked for among the account's latest statuses before it is sent again;
* scheduled statuses: snac accepts ``scheduled_at`` but never lists them and cannot cancel
  them, so native scheduling is turned off there and the post is published by the daemon;
* the character limit comes from ``/api/v2/instance``, or ``/api/v1/instance``'s
  ``configuration`` on servers without v2 (snac);
* streaming (SSE, WebSocket, none) is found by the stream supervisor, which falls back to
  polling when the stream fails while REST answers.

:func:`detect_server` reads the instance documents once per start; :class:`ServerInfo` is what
``bot.server`` returns, logged at start and shown by ``civicbot status``. A daemon serving many
accounts on one server reads its documents once for all of them (:class:`ServerProbes`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ServerInfo", "ServerProbes", "detect_server", "server_summary", "streaming_url"]

#: How long a daemon keeps what a server supports before reading it again for the next start.
PROBE_TTL = 3600.0

#: Software known to list and cancel the scheduled statuses it holds.
LISTS_SCHEDULED = frozenset({"mastodon", "gotosocial", "pleroma", "akkoma"})
#: Software known to honour ``Idempotency-Key``.
HONOURS_IDEMPOTENCY = frozenset({"mastodon", "pleroma", "akkoma"})
_SOFTWARE = ("snac", "gotosocial", "pleroma", "akkoma", "sharkey", "misskey", "hometown",
             "glitch")


@dataclass
class ServerInfo:
    """The server's software and what it supports (``bot.server``)."""

    software: str = "unknown"
    version: str = ""
    #: ``v2`` or ``v1`` (snac has no ``/api/v2/instance``), or ``none`` when unreachable
    instance_api: str = "none"
    max_characters: int | None = None
    #: the server is known to honour ``Idempotency-Key`` (else pending posts are looked up)
    idempotency: bool = False
    #: the server can list and cancel scheduled statuses (else posts are scheduled locally)
    native_scheduling: bool = False
    #: the transport in use, filled in by the stream supervisor (sse, websocket, poll)
    streaming: str | None = None

    def describe(self) -> dict[str, Any]:
        """The capabilities and civicbot's answer to each, for the log and ``civicbot status``."""
        out = asdict(self)
        out["on_resend"] = ("resend with the same Idempotency-Key" if self.idempotency
                            else "look for the post among the latest statuses first")
        out["scheduling"] = "native (server side)" if self.native_scheduling else "local (daemon)"
        return out


def software_of(version: str, source_url: str | None) -> str:
    """``mastodon``, ``gotosocial``, ``snac``... from the instance's version and source URL."""
    text = f"{version} {source_url or ''}".casefold()
    for name in _SOFTWARE:
        if name in text:
            return "mastodon" if name in ("hometown", "glitch") else name
    if "mastodon" in text or re.match(r"^\d+\.\d+\.\d+", version or ""):
        return "mastodon"
    return "unknown"


def detect_server(instance_v2: Mapping[str, Any] | None,
                  instance_v1: Mapping[str, Any] | None) -> ServerInfo:
    """Read the instance documents (either may be None: missing or unreachable)."""
    info = ServerInfo()
    doc = instance_v2 or instance_v1
    if doc is None:
        return info
    info.instance_api = "v2" if instance_v2 is not None else "v1"
    info.version = str(doc.get("version") or "")
    source = doc.get("source_url") if instance_v2 is not None else None
    # a Mastodon version string alone is not proof when v2 is missing (snac says "4.0.0 ...")
    info.software = software_of(info.version, str(source) if source else None)
    if info.software == "mastodon" and instance_v2 is None and not source:
        info.software = "unknown"
    info.max_characters = _max_characters(doc)
    info.idempotency = info.software in HONOURS_IDEMPOTENCY
    info.native_scheduling = info.software in LISTS_SCHEDULED
    return info


def streaming_url(instance_v2: Mapping[str, Any] | None,
                  instance_v1: Mapping[str, Any] | None) -> str | None:
    """The streaming API's address the instance documents give (``urls.streaming_api`` of
    v1, as Mastodon.py reads it first, else ``configuration.urls.streaming`` of v2)."""
    for doc, path in ((instance_v1, ("urls", "streaming_api")),
                      (instance_v2, ("configuration", "urls", "streaming"))):
        node: Any = doc
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, str) and node:
            return node
    return None


def streaming_base(url: str, api_base_url: str) -> str | None:
    """The HTTP base Mastodon.py derives from a streaming address (``wss://h`` ->
    ``https://h``); None when it would refuse it."""
    if url == api_base_url:
        return api_base_url
    parts = urlsplit(url)
    scheme = {"wss": "https", "ws": "http", "https": "https", "http": "http"}.get(parts.scheme)
    return f"{scheme}://{parts.netloc}" if scheme and parts.netloc else None


class ServerProbes:
    """What each server supports, read once per ``api_base_url`` for all the accounts a
    daemon serves there (hundreds of communes on one instance: one read, not hundreds). A
    failed read is never kept; a good one for :data:`PROBE_TTL` seconds. Each account gets its
    own copy (the stream supervisor notes its transport in it)."""

    def __init__(self, ttl: float = PROBE_TTL) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._entries: dict[str, tuple[float, ServerInfo, str | None]] = {}

    def get(self, url: str, read: Callable[[], tuple[ServerInfo, str | None]]
            ) -> tuple[ServerInfo, str | None]:
        """``(info, streaming address)`` of the server at ``url``; ``read`` reads them when
        they are not known (accounts on one server starting together wait for one read)."""
        with self._lock:
            lock = self._locks.setdefault(url, threading.Lock())
        with lock:
            entry = self._entries.get(url)
            if entry is not None and time.monotonic() - entry[0] < self.ttl:
                return replace(entry[1]), entry[2]
            info, streaming = read()
            if info.instance_api != "none":
                self._entries[url] = (time.monotonic(), replace(info), streaming)
            return info, streaming


def _max_characters(doc: Mapping[str, Any]) -> int | None:
    for path in (("configuration", "statuses", "max_characters"), ("max_toot_chars",)):
        node: Any = doc
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        try:
            if node is not None and int(node) > 0:
                return int(node)
        except (TypeError, ValueError):
            continue
    return None


def server_summary(info: Mapping[str, Any], transport: str | None = None) -> str:
    """One line for ``civicbot status``: the server, and civicbot's answer to each gap."""
    streaming = transport or info.get("streaming") or "unknown"
    how = {"sse": "streaming (SSE)", "websocket": "streaming (WebSocket)",
           "poll": "polling (no usable stream)"}.get(str(streaming), str(streaming))
    idempotency = ("Idempotency-Key honoured" if info.get("idempotency") else
                   "Idempotency-Key ignored: pending posts looked up before a resend")
    scheduling = ("native scheduling" if info.get("native_scheduling") else
                  "scheduled posts cannot be listed: scheduled locally")
    limit = info.get("max_characters") or 500
    return (f"server {info.get('software', 'unknown')} {info.get('version', '')}".rstrip()
            + f": {how}; {idempotency}; {scheduling}; {limit} characters")
