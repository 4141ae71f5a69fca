"""The wire side of the stream: Mastodon.py's listener, closing a blocked connection, reading
notification pages as plain JSON, classifying connection failures, and the backoff."""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import threading
from typing import TYPE_CHECKING, Any

from mastodon import (
    MastodonAPIError,
    MastodonMalformedEventError,
    MastodonNetworkError,
    MastodonUnauthorizedError,
    StreamListener,
)
from mastodon.errors import MastodonReadTimeout
from requests.exceptions import ChunkedEncodingError, ReadTimeout
from requests.exceptions import ConnectionError as RequestsConnectionError

from civicbot.errors import AuthenticationError
from civicbot.mastodon_plain import plain_get
from civicbot.server import streaming_base

if TYPE_CHECKING:
    from civicbot.stream import StreamSupervisor


class Unsupported(Exception):
    """The server does not offer this streaming transport (404, not advertised)."""


class Backoff:
    """Exponential backoff with full jitter, capped; ``reset()`` after a healthy connection."""

    def __init__(self, initial: float, cap: float) -> None:
        self.initial, self.cap, self.attempt = max(initial, 0.001), max(cap, initial), 0

    def next(self) -> float:
        base = min(self.cap, self.initial * 2 ** self.attempt)
        self.attempt += 1
        return random.uniform(base / 2, base)

    def reset(self) -> None:
        self.attempt = 0


class SupervisedListener(StreamListener):
    """Hands notifications to the supervisor; never raises into Mastodon.py."""

    def __init__(self, supervisor: StreamSupervisor) -> None:
        self.supervisor = supervisor
        self.response: Any = None
        self.connected = threading.Event()
        self.aborted: BaseException | None = None
        #: Set when the supervisor stopped waiting for this connection to open (it timed out
        #: or the supervisor stops): a connection that opens afterwards is closed at once.
        self.abandoned = False

    def handle_stream(self, response: Any) -> None:
        """Read server-sent events a chunk at a time (Mastodon.py reads one byte at a time,
        which caps a stream near 100 notifications/s), then parse and dispatch each event
        with Mastodon.py's own parser."""
        self.response = response
        if self.abandoned or self.supervisor._stop.is_set():
            # opened after the supervisor gave up on it (or stopped): never read it, or an
            # orphan stream would live on beside the next one (or after the account left)
            abort_response(response)
            return
        self.connected.set()
        self.supervisor._activity()
        event: dict[str, str] = {}
        buffer = b""
        try:
            for chunk in response.iter_content(chunk_size=None):
                if not chunk:
                    continue
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as err:
                        raise MastodonMalformedEventError("Malformed UTF-8") from err
                    if line == "":
                        self._event(event.get("event"), event.get("data"))
                        event = {}
                    elif line.startswith(":"):
                        self.supervisor._activity()
                    else:
                        key, _, value = line.partition(": ")
                        event[key] = f"{event[key]}\n{value}" if key in event else value
        except ChunkedEncodingError as err:
            raise MastodonNetworkError("Server ceased communication.") from err
        except ReadTimeout as err:
            raise MastodonReadTimeout("Timed out while reading from server.") from err
        except RequestsConnectionError as err:
            raise MastodonNetworkError("Requests reports connection error.") from err

    def handle_websocket_message(self, message: dict[str, Any]) -> None:
        self._event(message.get("event"), message.get("payload"))

    def _event(self, name: str | None, data: str | None) -> None:
        """Notifications are decoded as plain JSON (Mastodon.py's typed entities cost ~5 ms
        each to build); other events only count as activity."""
        self.supervisor._activity(event=True)
        if name != "notification":
            return
        try:
            notification = json.loads(data or "")
        except ValueError:
            self.supervisor.log.warning("malformed stream event skipped", data=str(data)[:200])
            return
        if not isinstance(notification, dict) or "id" not in notification:
            self.supervisor.log.warning("stream notification without id skipped")
            return
        try:
            self.supervisor._from_stream(notification)
        except Exception as exc:  # never raise into Mastodon.py
            self.supervisor.log.error("stream event handling failed", exc_info=exc)

    def handle_heartbeat(self) -> None:
        self.supervisor._activity()

    def on_abort(self, err: BaseException) -> None:
        self.aborted = err
        self.supervisor._wake.set()


def seed_streaming_base(client: Any, url: str | None) -> None:
    """Give Mastodon.py the streaming address read from the instance documents at start.

    Before its first stream, each new Mastodon.py client reads ``/api/v2/instance`` and
    ``/api/v1/instance`` again to find it: two requests per account (a daemon with 500
    accounts: 1,000 requests at start). Mastodon.py keeps the address in a private attribute
    and has no public way to set it, so it is set only when that attribute exists and is still
    empty, with the value Mastodon.py itself would derive; otherwise Mastodon.py reads it as
    before."""
    if url is None or getattr(client, "_Mastodon__streaming_base", "missing") is not None:
        return
    base = streaming_base(url, str(client.api_base_url))
    if base is not None:
        client._Mastodon__streaming_base = base


def abort_response(response: Any) -> None:
    """Close a streaming response now, even while a thread is blocked reading it."""
    if response is None:
        return
    raw = getattr(response, "raw", None)
    sock = None
    for path in (("_connection", "sock"), ("_fp", "fp", "raw", "_sock")):
        obj = raw
        for attr in path:
            obj = getattr(obj, attr, None)
        if isinstance(obj, socket.socket):
            sock = obj
            break
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        response.close()


def refused(exc: BaseException) -> bool:
    """True for a 401/403 answer: the token or the account is refused, retrying is useless."""
    if isinstance(exc, MastodonUnauthorizedError):
        return True
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    return isinstance(exc, MastodonAPIError) and len(args) > 1 and args[1] in (401, 403)


def classify_failure(exc: BaseException) -> BaseException:
    """Map a connection failure to Unsupported (404/not offered), AuthenticationError or itself."""
    text = " ".join(str(a) for a in getattr(exc, "args", ())) or str(exc)
    lowered = text.lower()
    if any(marker in lowered for marker in _UNREACHABLE):
        return exc  # no answer at all (refused, DNS, timeout): not a verdict on the token
    if _AUTH_STATUS.search(text) or "unauthorized" in lowered or "forbidden" in lowered:
        return AuthenticationError(f"the streaming server refused the token: {text}")
    if _NOT_FOUND.search(text) or "not found" in lowered or isinstance(exc, NotImplementedError):
        return Unsupported(text)
    return exc


# status codes as whole numbers ("port=40135" is not a 401)
_AUTH_STATUS = re.compile(r"(?<![\d=:])(401|403)(?!\d)")
_NOT_FOUND = re.compile(r"(?<![\d=:])404(?!\d)")
_UNREACHABLE = ("connection refused", "failed to establish", "max retries exceeded",
                "name or service not known", "timed out", "connection reset")


def notifications_page(client: Any, **params: Any) -> list[dict[str, Any]]:
    """One page of ``GET /api/v1/notifications`` as plain JSON (typed entities cost ~5 ms
    per notification to build, which would cap a catch-up after an outage near 200
    notifications per second)."""
    data = plain_get(client, "/api/v1/notifications", params,
                     public=lambda: client.notifications(**params))
    return [n for n in data if isinstance(n, dict)] if isinstance(data, list) else []
