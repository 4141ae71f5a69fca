"""HTTP plumbing for the sandbox instance: server, handler, request parsing, responses."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "HttpRequest",
    "RequestRecord",
    "Response",
    "SandboxHTTPServer",
    "SandboxRequestHandler",
    "UploadedFile",
    "parse_form_pairs",
]


@dataclass
class RequestRecord:
    """One request the sandbox answered (what the bot did, as seen on the wire)."""

    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]
    body: dict[str, Any]
    status: int
    time: datetime


@dataclass
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class HttpRequest:
    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]
    body: dict[str, Any]
    files: dict[str, UploadedFile]
    raw_query: str


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


def _assign(target: dict[str, Any], key: str, value: Any) -> None:
    """Rails-style parameter names: ``a[]`` appends, ``a[b]`` nests, ``a`` sets."""
    if key.endswith("[]"):
        base = key[:-2]
        if "[" in base and base.endswith("]"):
            outer, inner = base[:-1].split("[", 1)
            nested = target.setdefault(outer, {})
            if isinstance(nested, dict):
                existing = nested.setdefault(inner, [])
                if isinstance(existing, list):
                    existing.append(value)
            return
        existing = target.setdefault(base, [])
        if isinstance(existing, list):
            existing.append(value)
        else:
            target[base] = [existing, value]
        return
    if "[" in key and key.endswith("]"):
        outer, inner = key[:-1].split("[", 1)
        nested = target.setdefault(outer, {})
        if isinstance(nested, dict):
            nested[inner] = value
            return
    target[key] = value


def parse_form_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        _assign(out, key, value)
    return out


def _parse_multipart(
    content_type: str, raw: bytes
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    parser = email.parser.BytesParser(policy=email.policy.HTTP)
    message = parser.parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    fields: list[tuple[str, Any]] = []
    files: dict[str, UploadedFile] = {}
    if not message.is_multipart():
        return {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = UploadedFile(filename, part.get_content_type(), data)
        else:
            charset = part.get_content_charset() or "utf-8"
            fields.append((name, data.decode(charset, errors="replace")))
    return parse_form_pairs(fields), files


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        dispatch: Callable[[SandboxRequestHandler], None],
    ) -> None:
        self.dispatch = dispatch
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, SandboxRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Mastodon"
    sys_version = ""
    server: SandboxHTTPServer

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _dispatch(self) -> None:
        self.server.dispatch(self)

    do_GET = _dispatch
    do_POST = _dispatch
    do_PUT = _dispatch
    do_PATCH = _dispatch
    do_DELETE = _dispatch
    do_HEAD = _dispatch

    # --- request helpers -----------------------------------------------------

    def header_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items()}

    def read_request(self) -> HttpRequest:
        split = urlsplit(self.path)
        query = parse_form_pairs(parse_qsl(split.query, keep_blank_values=True))
        raw = self._read_body()
        ctype = self.headers.get("Content-Type", "") or ""
        body: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        if raw:
            lower = ctype.lower()
            if lower.startswith("application/json"):
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = {}
                body = parsed if isinstance(parsed, dict) else {"_json": parsed}
            elif lower.startswith("multipart/form-data"):
                body, files = _parse_multipart(ctype, raw)
            else:
                text = raw.decode("utf-8", errors="replace")
                body = parse_form_pairs(parse_qsl(text, keep_blank_values=True))
        return HttpRequest(
            method=self.command,
            path=split.path,
            query=query,
            headers=self.header_dict(),
            body=body,
            files=files,
            raw_query=split.query,
        )

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        return b""

    # --- response helpers -----------------------------------------------------

    def head_bytes(self, status: int, headers: list[tuple[str, str]]) -> bytes:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        lines = [f"HTTP/1.1 {status} {phrase}", f"Date: {formatdate(usegmt=True)}"]
        lines.extend(f"{k}: {v}" for k, v in headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send_full(self, response: Response) -> None:
        if isinstance(response.body, bytes):
            payload = response.body
        elif isinstance(response.body, str):
            payload = response.body.encode("utf-8")
        else:
            payload = json.dumps(response.body, separators=(",", ":"), ensure_ascii=False).encode(
                "utf-8"
            )
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(payload)))]
        headers.extend(response.headers.items())
        if self.close_connection:
            headers.append(("Connection", "close"))
        data = self.head_bytes(response.status, headers)
        if self.command != "HEAD":
            data += payload
        self.wfile.write(data)
