"""The sandbox's entities and stream have the shapes of a real Mastodon server."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon, StreamListener

from civicbot.testing.sandbox import SandboxInstance

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mastodon"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_diff(real: Any, ours: Any, path: str = "$") -> list[str]:
    """Differences in keys (recursively) and JSON types; ``null`` in ``real`` allows anything."""
    if real is None:
        return []
    problems: list[str] = []
    if json_type(real) != json_type(ours):
        return [f"{path}: real is {json_type(real)}, sandbox is {json_type(ours)}"]
    if isinstance(real, dict):
        missing = sorted(set(real) - set(ours))
        extra = sorted(set(ours) - set(real))
        if missing:
            problems.append(f"{path}: missing keys {missing}")
        if extra:
            problems.append(f"{path}: extra keys {extra}")
        for key in set(real) & set(ours):
            problems.extend(shape_diff(real[key], ours[key], f"{path}.{key}"))
    elif isinstance(real, list) and real and ours:
        for item in ours:
            problems.extend(shape_diff(real[0], item, f"{path}[]"))
    elif isinstance(real, str) and real.endswith("Z") and "T" in real[:11]:
        assert isinstance(ours, str)
        if not (ours.endswith("Z") and len(ours) == len(real)):
            problems.append(f"{path}: date format {ours!r} differs from {real!r}")
    return problems


def test_shape_diff_detects_problems() -> None:
    assert shape_diff({"a": 1, "b": {"c": "x"}}, {"a": 2, "b": {"c": "y"}}) == []
    assert shape_diff({"a": 1}, {"a": "1"}) == ["$.a: real is number, sandbox is string"]
    assert shape_diff({"a": None, "b": 1}, {"a": [1], "c": 1}) == [
        "$: missing keys ['b']",
        "$: extra keys ['c']",
    ]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxInstance]:
    with SandboxInstance(heartbeat_interval=0.05) as instance:
        yield instance


def raw(sandbox: SandboxInstance, method: str, path: str, **kw: Any) -> Any:
    import requests

    headers = {"Authorization": f"Bearer {sandbox.access_token}"}
    response = requests.request(method, sandbox.url + path, headers=headers, timeout=5, **kw)
    assert response.status_code == 200, response.text
    return response.json()


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def test_instance_shapes(sandbox: SandboxInstance) -> None:
    assert shape_diff(load("instance_v1.json"), raw(sandbox, "GET", "/api/v1/instance")) == []
    assert shape_diff(load("instance_v2.json"), raw(sandbox, "GET", "/api/v2/instance/")) == []


def test_account_and_status_shapes(sandbox: SandboxInstance) -> None:
    post = raw(sandbox, "POST", "/api/v1/statuses", data={"status": "Toot!", "sensitive": "1"})
    assert shape_diff(load("status_post.json"), post) == []
    # (last_status_at is null until the account has posted, as on a real server)
    creds = raw(sandbox, "GET", "/api/v1/accounts/verify_credentials")
    assert shape_diff(load("verify_credentials.json"), creds) == []
    mention = sandbox.inject_mention("hello!")
    reply = raw(
        sandbox,
        "POST",
        "/api/v1/statuses",
        data={"status": "@alice@other.example same!", "in_reply_to_id": mention["status"]["id"]},
    )
    assert shape_diff(load("status_reply.json"), reply) == []
    assert reply["in_reply_to_account_id"] == mention["account"]["id"]
    assert reply["mentions"][0]["acct"] == "alice@other.example"


def test_notification_shape(sandbox: SandboxInstance) -> None:
    sandbox.inject_mention("hello!")
    page = raw(sandbox, "GET", "/api/v1/notifications", params={"limit": 1})
    assert shape_diff(load("notifications.json")[0], page[0]) == []


def test_media_scheduled_markers_shapes(sandbox: SandboxInstance) -> None:
    media = raw(
        sandbox,
        "POST",
        "/api/v2/media",
        files={"file": ("pixel.png", PNG, "image/png")},
        data={"description": "un pixel"},
    )
    assert shape_diff(load("media_v2.json"), media) == []
    assert media["description"] == "un pixel"
    assert media["meta"]["original"]["width"] == 1
    scheduled = raw(
        sandbox,
        "POST",
        "/api/v1/statuses",
        data={"status": "later", "scheduled_at": "4000-01-01T14:33:14+00:00"},
    )
    assert shape_diff(load("scheduled_status.json"), scheduled) == []
    assert scheduled["scheduled_at"] == "4000-01-01T14:33:14.000Z"
    markers = raw(
        sandbox, "POST", "/api/v1/markers", json={"home": {"last_read_id": "117020574841135347"}}
    )
    assert shape_diff(load("markers_set.json"), markers) == []


class Recorder(StreamListener):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.heartbeats = 0

    def on_any_event(self, name: str, data: Any = None) -> None:
        self.events.append((name, type(data).__name__))

    def handle_heartbeat(self) -> None:
        self.heartbeats += 1


class FakeResponse:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def iter_content(self, chunk_size: int = 1) -> Iterator[bytes]:
        stream = io.BytesIO(self._data)
        while chunk := stream.read(chunk_size):
            yield chunk


def test_sse_stream_parses_like_real_stream(sandbox: SandboxInstance) -> None:
    import socket

    real = Recorder()
    real.handle_stream(FakeResponse((FIXTURES / "stream_user.sse").read_bytes()))
    assert real.events == [("update", "Status")]
    assert real.heartbeats >= 1

    # Read the sandbox's raw SSE body (de-chunked) and feed it through the same parser.
    sock = socket.create_connection(("127.0.0.1", sandbox.port))
    sock.sendall(
        b"GET /api/v1/streaming/user HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {sandbox.access_token}\r\n\r\n".encode()
    )
    sandbox.wait_for_stream()
    raw(sandbox, "POST", "/api/v1/statuses", data={"status": "it's cool guy"})  # own post echo
    notification = sandbox.inject_mention("hello")
    sandbox.edit_status(notification["status"]["id"], "hello (edited)")
    sandbox.inject_delete(notification["status"]["id"])
    time.sleep(0.2)
    sandbox.close_streams_cleanly()
    data = b""
    sock.settimeout(5)
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"text/event-stream" in head
    assert b"Transfer-Encoding: chunked" in head
    payload = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        payload += body[:size]
        body = body[size + 2 :]
    assert payload.startswith(b":)\n")
    ours = Recorder()
    ours.handle_stream(FakeResponse(payload))
    kinds = [e for e in ours.events]
    assert kinds == [
        ("update", "Status"),
        ("notification", "Notification"),
        ("status.update", "AttribAccessDict"),  # Mastodon.py maps by name
        ("delete", "str"),
    ]
    assert ours.heartbeats >= 2  # ":)" and at least one ":thump"
    update = json.loads(payload.split(b"event: update\ndata: ")[1].split(b"\n")[0])
    real_update = json.loads(
        (FIXTURES / "stream_user.sse").read_bytes().split(b"data: ")[1].split(b"\n")[0]
    )
    assert shape_diff(real_update, update) == []


def test_mastodon_py_reads_everything(sandbox: SandboxInstance) -> None:
    api = Mastodon(access_token=sandbox.access_token, api_base_url=sandbox.url)
    assert api.retrieve_mastodon_version() == "4.6.4"
    assert api.stream_healthy()
    assert api.me().acct == sandbox.account_username
    assert api.instance_v2().configuration.statuses.max_characters == 500
