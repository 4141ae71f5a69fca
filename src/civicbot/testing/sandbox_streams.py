"""Streaming connections of the sandbox instance: server-sent events and WebSocket.

Each open stream owns a small pending list guarded by a condition variable. The
producer (``SandboxInstance.inject_*``) appends pre-encoded bytes and notifies; the
connection's writer thread drains everything pending and sends it with one
``sendall`` so that bursts of thousands of events cost few system calls.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable
from io import BufferedIOBase
from typing import Any, Literal

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage

__all__ = ["StreamConnection", "StreamEvent", "stream_accepts", "websocket_accept_key"]

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#: WebSocket stream names Mastodon knows; subscribing to others is an error.
KNOWN_STREAMS = frozenset(
    {
        "user",
        "user:notification",
        "public",
        "public:local",
        "public:remote",
        "public:media",
        "public:local:media",
        "public:remote:media",
        "hashtag",
        "hashtag:local",
        "list",
        "direct",
    }
)


def websocket_accept_key(key: str) -> str:
    digest = hashlib.sha1((key.strip() + _WS_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def stream_accepts(stream: str, event: str) -> bool:
    """Which events a stream carries (the sandbox only produces user events)."""
    if stream == "user":
        return True
    return stream == "user:notification" and event == "notification"


class StreamEvent:
    """One event, encoded lazily once per wire format and shared by all connections."""

    __slots__ = ("_sse", "_ws", "name", "payload")

    def __init__(self, name: str, payload: str) -> None:
        self.name = name
        self.payload = payload
        self._sse: bytes | None = None
        self._ws: dict[str, str] = {}

    def sse(self) -> bytes:
        if self._sse is None:
            self._sse = f"event: {self.name}\ndata: {self.payload}\n\n".encode()
        return self._sse

    def ws(self, stream: str) -> str:
        text = self._ws.get(stream)
        if text is None:
            parts = stream.split(":", 1) if stream.startswith("hashtag") else [stream]
            text = json.dumps(
                {"stream": parts, "event": self.name, "payload": self.payload},
                separators=(",", ":"),
                ensure_ascii=False,
            )
            self._ws[stream] = text
        return text


_END = object()


class StreamConnection:
    """An open streaming connection, driven by the HTTP handler thread that accepted it."""

    def __init__(
        self,
        *,
        kind: Literal["sse", "websocket"],
        sock: socket.socket,
        rfile: BufferedIOBase,
        heartbeat_interval: float,
        streams: set[str] | None = None,
        on_close: Callable[[StreamConnection], None] | None = None,
    ) -> None:
        self.kind = kind
        self.sock = sock
        self.rfile = rfile
        self.heartbeat_interval = heartbeat_interval
        self.streams: set[str] = set(streams or ())
        self.on_close = on_close
        self.events_sent = 0
        self.heartbeats_sent = 0
        self._cond = threading.Condition()
        self._pending: list[Any] = []
        self._closed = False
        self._stalled = False
        self._end = False
        self._send_lock = threading.Lock()
        self._ws: Connection | None = (
            Connection(ConnectionType.SERVER) if kind == "websocket" else None
        )
        self._ws_text_buffer: list[str] = []

    # --- control (called from any thread) ------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def stalled(self) -> bool:
        return self._stalled

    def push(self, event: StreamEvent) -> None:
        if self._closed or self._stalled:
            return
        if self.kind == "sse":
            if not any(stream_accepts(s, event.name) for s in self.streams):
                return
            item: Any = event.sse()
        else:
            wanted = [s for s in tuple(self.streams) if stream_accepts(s, event.name)]
            if not wanted:
                return
            item = [event.ws(s) for s in wanted]
        with self._cond:
            self._pending.append(item)
            if len(self._pending) == 1:
                self._cond.notify()

    def stall(self) -> None:
        with self._cond:
            self._stalled = True
            self._pending.clear()

    def resume(self) -> None:
        with self._cond:
            self._stalled = False
            self._cond.notify()

    def end(self) -> None:
        """Finish the stream cleanly (chunked terminator / WebSocket close frame)."""
        with self._cond:
            self._end = True
            self._cond.notify()

    def drop(self) -> None:
        """Abruptly cut the TCP connection (no terminator, no close frame)."""
        with self._cond:
            self._closed = True
            self._pending.clear()
            self._cond.notify()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    # --- wire helpers -------------------------------------------------------

    def _sendall(self, data: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(data)

    def _ws_send(self, events: list[Any]) -> None:
        assert self._ws is not None
        with self._send_lock:
            if self._ws.state is not ConnectionState.OPEN:
                return
            data = b"".join(self._ws.send(e) for e in events)
            self.sock.sendall(data)

    def _write_items(self, items: list[Any]) -> None:
        if self.kind == "sse":
            body = items[0] if len(items) == 1 else b"".join(items)
            self._sendall(b"%x\r\n%b\r\n" % (len(body), body))
            self.events_sent += len(items)
        else:
            frames = [TextMessage(data=text) for group in items for text in group]
            self._ws_send(frames)
            self.events_sent += len(frames)

    def _heartbeat(self) -> None:
        if self.kind == "sse":
            self._sendall(b"7\r\n:thump\n\r\n")
        else:
            self._ws_send([Ping(payload=b"")])
        self.heartbeats_sent += 1

    # --- reader thread ------------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            while not self._closed:
                data = self.rfile.read1(65536)
                if not data:
                    break
                if self._ws is not None:
                    self._ws_receive(data)
                    if self._ws.state is ConnectionState.CLOSED:
                        break
        except Exception:  # connection reset, protocol error...
            pass
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _ws_receive(self, data: bytes) -> None:
        assert self._ws is not None
        with self._send_lock:
            self._ws.receive_data(data)
            events = list(self._ws.events())
        for event in events:
            if isinstance(event, TextMessage):
                self._ws_text_buffer.append(event.data)
                if event.message_finished:
                    text = "".join(self._ws_text_buffer)
                    self._ws_text_buffer.clear()
                    self._ws_command(text)
            elif isinstance(event, Ping):
                self._ws_send([event.response()])
            elif isinstance(event, CloseConnection):
                with self._send_lock:
                    if self._ws.state is ConnectionState.REMOTE_CLOSING:
                        with contextlib.suppress(OSError):
                            self.sock.sendall(self._ws.send(event.response()))

    def _ws_command(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        stream = message.get("stream")
        if not isinstance(stream, str):
            return
        if kind == "subscribe":
            if stream not in KNOWN_STREAMS:
                error = json.dumps({"error": "Unknown stream type", "status": 400})
                self._ws_send([TextMessage(data=error)])
                return
            self.streams.add(stream)
        elif kind == "unsubscribe":
            self.streams.discard(stream)

    # --- writer loop (handler thread) -----------------------------------------------

    def run(self) -> None:
        """Serve the stream until it is dropped, ended, or the peer goes away."""
        reader = threading.Thread(target=self._read_loop, name="sandbox-stream-reader", daemon=True)
        reader.start()
        try:
            self._serve()
        except OSError:
            pass
        finally:
            with self._cond:
                self._closed = True
                self._pending.clear()
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            reader.join(timeout=1.0)
            if self.on_close is not None:
                self.on_close(self)

    def _serve(self) -> None:
        interval = self.heartbeat_interval
        next_beat = time.monotonic() + interval
        while True:
            with self._cond:
                while not self._pending and not self._closed and not self._end:
                    remaining = next_beat - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                items = self._pending
                self._pending = []
                closed, end, stalled = self._closed, self._end, self._stalled
            if closed:
                return
            if items:
                self._write_items(items)
            now = time.monotonic()
            if now >= next_beat:
                if not stalled:
                    self._heartbeat()
                next_beat = now + interval
            if end:
                self._finish_cleanly()
                return

    def _finish_cleanly(self) -> None:
        if self.kind == "sse":
            self._sendall(b"0\r\n\r\n")
            return
        self._ws_send([CloseConnection(code=1000, reason="")])
        # Give the client a moment to answer with its own close frame.
        deadline = time.monotonic() + 1.0
        with self._cond:
            while not self._closed and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
