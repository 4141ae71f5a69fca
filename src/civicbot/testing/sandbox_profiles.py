"""Server profiles of the sandbox: Mastodon, GoToSocial and snac, as observed on real servers.

Towns run lighter servers than Mastodon; they speak the Mastodon client API with differences
that silently break bots. Each :class:`SandboxProfile` reproduces what was observed on real
GoToSocial 0.20 and snac 2.94 servers (issue 14):

========================  ====================  =====================  ==========================
behaviour                 ``mastodon``          ``gotosocial``         ``snac``
========================  ====================  =====================  ==========================
status ids                snowflake digits      26-char ULID           10-digit time + 32 hex
notification ids          snowflake digits      ULID                   16 digits
account ids               snowflake digits      ULID                   32 hex digits
media ids                 snowflake digits      ULID                   ``post-<md5>.<ext>``
Idempotency-Key           honoured (1 h)        ignored                ignored
streaming                 SSE + WebSocket       WebSocket only, no     none
                                                ``/streaming/health``
``/api/v2/instance``      yes                   yes                    404 (v1 only)
scheduled statuses        listed, cancellable   listed, cancellable    accepted, list always
                                                                       ``[]``, no cancel
language                  as sent               as sent                always ``en``
default visibility        public                unlisted               public
``sensitive="0"`` + poll  accepted              400                    poll ignored
notifications API         Mastodon's            Mastodon's             1 without ``limit``;
                                                                       newest 64 only;
                                                                       ``min_id`` = since_id;
                                                                       no Link; ``max_id``
                                                                       must exist; no GET by
                                                                       id nor dismiss
local accounts' ``acct``  ``alice``             ``alice``              ``alice@host:port``
                                                                       (``verify_credentials``
                                                                       says ``bot``)
========================  ====================  =====================  ==========================
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from civicbot.testing.sandbox_entities import IdGenerator

__all__ = ["PROFILES", "ProfileIds", "SandboxProfile", "StreamingFailure", "profile_named"]

StreamingFailure = Literal["tls", "refused", "close"]
IdShape = Literal["snowflake", "ulid", "snac"]


@dataclass(frozen=True)
class SandboxProfile:
    """What one kind of server does differently from Mastodon."""

    name: str
    #: ``version`` of ``/api/v1/instance`` (as the real server words it)
    version: str
    source_url: str | None
    ids: IdShape = "snowflake"
    streaming: Literal["sse", "websocket", "both", "none"] = "both"
    streaming_health: bool = True
    honours_idempotency: bool = True
    instance_v2: bool = True
    lists_scheduled: bool = True
    forced_language: str | None = None
    default_visibility: str = "public"
    refuses_string_sensitive_with_poll: bool = False
    snac_notifications: bool = False
    #: how many of the newest notifications the API reaches (None: all)
    notifications_kept: int | None = None
    acct_with_host: bool = False


PROFILES: dict[str, SandboxProfile] = {
    "mastodon": SandboxProfile(
        name="mastodon", version="4.6.4", source_url="https://github.com/mastodon/mastodon"),
    "gotosocial": SandboxProfile(
        name="gotosocial", version="0.20.0 git-4f3c2a1",
        source_url="https://codeberg.org/superseriousbusiness/gotosocial",
        ids="ulid", streaming="websocket", streaming_health=False, honours_idempotency=False,
        default_visibility="unlisted", refuses_string_sensitive_with_poll=True),
    "snac": SandboxProfile(
        name="snac", version="4.0.0 (not true; really snac/2.94)",
        source_url="https://codeberg.org/grunfink/snac2",
        ids="snac", streaming="none", streaming_health=False, honours_idempotency=False,
        instance_v2=False, lists_scheduled=False, forced_language="en",
        snac_notifications=True, notifications_kept=64, acct_with_host=True),
}


def profile_named(name: str) -> SandboxProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown sandbox profile {name!r}; one of {', '.join(PROFILES)}") \
            from None


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class _Ulid:
    """Monotonic ULIDs: 48-bit milliseconds + 80 random bits, 26 Crockford base32 characters,
    strictly increasing as text (as GoToSocial's)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now: datetime) -> str:
        candidate = (int(now.timestamp() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
        with self._lock:
            value = candidate if candidate > self._last else self._last + 1
            self._last = value
        return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


class _Digits16:
    """snac's notification ids: 16 digits (microseconds), strictly increasing."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now: datetime) -> str:
        candidate = int(now.timestamp() * 1_000_000)
        with self._lock:
            value = max(candidate, self._last + 1)
            self._last = value
        return f"{value:016d}"[-16:]


class ProfileIds:
    """The identifiers a profile's server hands out, per kind of entity."""

    def __init__(self, shape: IdShape) -> None:
        self.shape = shape
        self._snowflake = IdGenerator()
        self._ulid = _Ulid()
        self._digits = _Digits16()

    def next(self, now: datetime) -> str:
        """A Mastodon-style id (what every entity used before profiles)."""
        return self._snowflake.next(now)

    def status(self, now: datetime) -> str:
        if self.shape == "ulid":
            return self._ulid.next(now)
        if self.shape == "snac":  # ordered to the second only
            return f"{int(now.timestamp()):010d}{uuid.uuid4().hex}"
        return self._snowflake.next(now)

    def notification(self, now: datetime) -> str:
        if self.shape == "ulid":
            return self._ulid.next(now)
        if self.shape == "snac":
            return self._digits.next(now)
        return self._snowflake.next(now)

    def account(self, now: datetime, acct: str) -> str:
        if self.shape == "ulid":
            return self._ulid.next(now)
        if self.shape == "snac":
            return hashlib.md5(acct.encode(), usedforsecurity=False).hexdigest()
        return self._snowflake.next(now)

    def media(self, now: datetime, data: bytes, filename: str) -> str:
        if self.shape == "ulid":
            return self._ulid.next(now)
        if self.shape == "snac":
            ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
            digest = hashlib.md5(data + uuid.uuid4().bytes, usedforsecurity=False).hexdigest()
            return f"post-{digest}.{ext}"
        return self._snowflake.next(now)

    def scheduled(self, now: datetime) -> str:
        return self.status(now) if self.shape != "snowflake" else self._snowflake.next(now)


def id_sort_key(value: str) -> tuple[int, int, str]:
    """Servers' own order of ids: digits numerically, the rest (ULIDs, snac's) as text."""
    text = str(value)
    return (0, len(text), text) if text.isdigit() else (1, 0, text)
