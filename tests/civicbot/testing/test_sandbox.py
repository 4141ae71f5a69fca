"""SandboxInstance driven by the real Mastodon.py client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonBadGatewayError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonUnauthorizedError,
    StreamListener,
)

from civicbot.testing.sandbox import SandboxInstance

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture
def sandbox() -> Iterator[SandboxInstance]:
    with SandboxInstance(heartbeat_interval=0.05) as instance:
        yield instance


@pytest.fixture
def api(sandbox: SandboxInstance) -> Mastodon:
    return Mastodon(
        access_token=sandbox.access_token,
        api_base_url=sandbox.url,
        ratelimit_method="throw",
        request_timeout=5,
    )


class Listener(StreamListener):
    def __init__(self) -> None:
        self.notifications: list[Any] = []
        self.updates: list[Any] = []
        self.heartbeats = 0
        self.aborts: list[Exception] = []
        self.got = threading.Condition()

    def on_notification(self, notification: Any) -> None:
        with self.got:
            self.notifications.append(notification)
            self.got.notify_all()

    def on_update(self, status: Any) -> None:
        self.updates.append(status)

    def handle_heartbeat(self) -> None:
        self.heartbeats += 1

    def on_abort(self, err: Exception) -> None:
        self.aborts.append(err)

    def wait(self, n: int, timeout: float = 15.0) -> list[Any]:
        with self.got:
            assert self.got.wait_for(lambda: len(self.notifications) >= n, timeout), (
                f"got {len(self.notifications)} notifications, expected {n}"
            )
            return list(self.notifications)


def eventually(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# --- REST ---------------------------------------------------------------------


def test_post_and_idempotency(sandbox: SandboxInstance, api: Mastodon) -> None:
    first = api.status_post("Bonjour #Lyon", visibility="unlisted", idempotency_key="abc")
    again = api.status_post("Bonjour #Lyon", visibility="unlisted", idempotency_key="abc")
    assert first.id == again.id
    assert len(sandbox.statuses) == 1
    assert sandbox.statuses[0]["visibility"] == "unlisted"
    assert sandbox.statuses[0]["tags"][0]["name"] == "lyon"
    other = api.status_post("Bonjour #Lyon", idempotency_key="other")
    assert other.id != first.id
    assert int(other.id) > int(first.id)
    assert sandbox.wait_for_statuses(2, timeout=1)[1]["id"] == str(other.id)
    record = next(r for r in sandbox.requests if r.path == "/api/v1/statuses")
    assert record.method == "POST" and record.status == 200
    assert record.body["status"] == "Bonjour #Lyon"
    assert record.headers["Idempotency-Key"] == "abc"
    fetched = api.status(first.id)
    assert fetched.content == sandbox.statuses[0]["content"]
    api.status_pin(first.id)
    assert sandbox.statuses[0]["pinned"] is True
    api.status_delete(first.id)
    assert [s["id"] for s in sandbox.statuses] == [str(other.id)]
    with pytest.raises(MastodonNotFoundError):
        api.status(first.id)


def test_character_limit(sandbox: SandboxInstance, api: Mastodon) -> None:
    api.status_post("a" * 500)
    with pytest.raises(MastodonAPIError) as info:
        api.status_post("a" * 501)
    assert info.value.args[1] == 422
    assert info.value.args[3] == "Validation failed: Text character limit of 500 exceeded"
    # a URL counts 23 characters, a remote mention counts as @user only
    url = "https://www.example.com/" + "x" * 200
    api.status_post("a" * (500 - 23 - 1) + " " + url)
    api.status_post("@alice@very-long-domain.example.org " + "a" * (500 - 7))
    with pytest.raises(MastodonAPIError):
        api.status_post("   ")
    assert len(sandbox.statuses) == 3


def test_max_characters_in_instance(api: Mastodon) -> None:
    with SandboxInstance(max_characters=1000) as big:
        m = Mastodon(access_token=big.access_token, api_base_url=big.url)
        assert m.instance_v1().configuration.statuses.max_characters == 1000
        m.status_post("a" * 1000)


def test_media_with_description(sandbox: SandboxInstance, api: Mastodon) -> None:
    media = api.media_post(PNG, mime_type="image/png", description="Plan du marché")
    assert media.url is not None
    assert sandbox.media[str(media.id)]["description"] == "Plan du marché"
    api.media_update(media.id, description="Plan du marché de Noël")
    assert sandbox.media[str(media.id)]["description"] == "Plan du marché de Noël"
    status = api.status_post("Le marché", media_ids=[media.id])
    assert status.media_attachments[0].description == "Plan du marché de Noël"
    assert requests.get(media.url, timeout=5).content == PNG
    with pytest.raises(MastodonAPIError):
        api.status_post("bad", media_ids=["999"])


def test_notifications_pagination(sandbox: SandboxInstance, api: Mastodon) -> None:
    for i in range(200):
        if i % 10 == 0:
            sandbox.inject_notification("favourite", acct=f"fan{i}@other.example")
        else:
            sandbox.inject_mention(f"question {i}", acct=f"user{i}@other.example")
    first = api.notifications(limit=40)
    assert len(first) == 40
    ids = [int(n.id) for n in first]
    assert ids == sorted(ids, reverse=True)
    everything = api.fetch_remaining(first)
    assert len(everything) == 200
    assert len({n.id for n in everything}) == 200
    mentions = api.fetch_remaining(api.notifications(types=["mention"], limit=80))
    assert len(mentions) == 180
    no_mentions = api.notifications(exclude_types=["mention"], limit=80)
    assert {n.type for n in no_mentions} == {"favourite"}
    # min_id: the page just above min_id, newest first
    oldest = sandbox.notifications[0]["id"]
    above = api.notifications(min_id=oldest, limit=5)
    assert [str(n.id) for n in above] == [n["id"] for n in sandbox.notifications[1:6]][::-1]
    previous = api.fetch_previous(above)
    assert [str(n.id) for n in previous] == [n["id"] for n in sandbox.notifications[6:11]][::-1]
    newer = api.notifications(since_id=sandbox.notifications[-3]["id"])
    assert len(newer) == 2
    assert (
        api.notifications(id=oldest).id == int(oldest)
        or str(api.notifications(id=oldest).id) == oldest
    )


def test_markers(sandbox: SandboxInstance, api: Mastodon) -> None:
    n = sandbox.inject_mention("bonjour")
    api.markers_set(["notifications"], [n["id"]])
    assert sandbox.markers["notifications"]["last_read_id"] == n["id"]
    got = api.markers_get(["notifications"])
    assert str(got["notifications"].last_read_id) == n["id"]
    api.markers_set(["notifications"], [n["id"]])
    assert sandbox.markers["notifications"]["version"] == 2


def test_unauthorized_and_revoked(sandbox: SandboxInstance, api: Mastodon) -> None:
    wrong = Mastodon(access_token="nope", api_base_url=sandbox.url)
    with pytest.raises(MastodonUnauthorizedError):
        wrong.me()
    api.me()
    sandbox.revoke_token()
    with pytest.raises(MastodonUnauthorizedError) as info:
        api.status_post("hello")
    assert info.value.args[3] == "The access token was revoked"
    response = requests.get(
        sandbox.url + "/api/v1/streaming/user",
        headers={"Authorization": f"Bearer {sandbox.access_token}"},
        timeout=5,
    )
    assert response.status_code == 401


def test_fail_next_and_unknown(sandbox: SandboxInstance, api: Mastodon) -> None:
    sandbox.fail_next(2, 502)
    with pytest.raises(MastodonBadGatewayError):
        api.status_post("hello")
    with pytest.raises(MastodonBadGatewayError):
        api.me()
    api.status_post("hello")
    assert [r.status for r in sandbox.requests] == [502, 502, 200]
    sandbox.fail_next(1, 500, path_prefix="/api/v1/notifications")
    api.me()
    with pytest.raises(MastodonAPIError):
        api.notifications()
    response = requests.get(sandbox.url + "/api/v1/nothing", timeout=5)
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}


def test_rate_limit(sandbox: SandboxInstance, api: Mastodon) -> None:
    api.me()
    assert api.ratelimit_limit == 300
    remaining = api.ratelimit_remaining
    api.me()
    assert api.ratelimit_remaining == remaining - 1
    sandbox.rate_limit_next(1, reset_in=0.2)
    with pytest.raises(MastodonRatelimitError):
        api.me()
    record = sandbox.requests[-1]
    assert record.status == 429
    response = requests.get(
        sandbox.url + "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {sandbox.access_token}"},
        timeout=5,
    )
    assert response.headers["X-RateLimit-Limit"] == "300"
    sandbox.rate_limit_next(1, reset_in=0.3)
    limited = requests.get(
        sandbox.url + "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {sandbox.access_token}"},
        timeout=5,
    )
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    reset = datetime.fromisoformat(limited.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert timedelta(0) < reset - datetime.now(UTC) < timedelta(seconds=2)
    # the "wait" method sleeps until the reset and retries
    waiting = Mastodon(access_token=sandbox.access_token, api_base_url=sandbox.url)
    sandbox.rate_limit_next(1, reset_in=0.1)
    assert waiting.me().acct == "ville"


def test_scheduled_statuses(sandbox: SandboxInstance, api: Mastodon) -> None:
    now = datetime.now(UTC)
    with pytest.raises(MastodonAPIError):
        api.status_post("too soon", scheduled_at=now + timedelta(minutes=2))
    day = (now + timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
    for i in range(25):
        api.status_post(f"scheduled {i}", scheduled_at=day + timedelta(minutes=i))
    with pytest.raises(MastodonAPIError) as info:
        api.status_post("26th", scheduled_at=day + timedelta(hours=3))
    assert "25" in info.value.args[3]
    assert len(sandbox.scheduled_statuses) == 25
    assert sandbox.statuses == []
    listed = api.scheduled_statuses()
    assert len(listed) == 20
    one = api.scheduled_status(listed[0].id)
    moved = api.scheduled_status_update(one.id, day + timedelta(days=1))
    assert moved.scheduled_at > one.scheduled_at
    api.scheduled_status_delete(one.id)
    assert len(sandbox.scheduled_statuses) == 24
    for i in range(300 - 24):
        sandbox.scheduled_statuses.append(
            {
                **sandbox.scheduled_statuses[0],
                "id": str(10**6 + i),
                "scheduled_at": "4000-01-01T00:00:00.000Z",
            }
        )
    with pytest.raises(MastodonAPIError) as info:
        api.status_post("301st", scheduled_at=now + timedelta(days=30))
    assert "300" in info.value.args[3]


def test_scheduled_status_publication_with_clock() -> None:
    clock = [datetime(2030, 1, 1, 8, 0, tzinfo=UTC)]
    with SandboxInstance(now=lambda: clock[0]) as sandbox:
        api = Mastodon(access_token=sandbox.access_token, api_base_url=sandbox.url)
        api.status_post("plus tard", scheduled_at=clock[0] + timedelta(hours=1))
        assert sandbox.publish_due_scheduled_statuses() == []
        clock[0] += timedelta(hours=2)
        published = sandbox.publish_due_scheduled_statuses()
        assert [p["content"] for p in published] == ["<p>plus tard</p>"]
        assert sandbox.statuses[0]["created_at"] == "2030-01-01T10:00:00.000Z"


# --- streaming ------------------------------------------------------------------


def test_sse_stream_receives_mentions_and_heartbeats(
    sandbox: SandboxInstance, api: Mastodon
) -> None:
    listener = Listener()
    handle = api.stream_user(listener, run_async=True)
    try:
        sandbox.wait_for_stream()
        assert sandbox.stream_connections == 1
        sent = sandbox.inject_mention("Quand ouvre la piscine ?", acct="bob@ville.example")
        got = listener.wait(1)
        assert str(got[0].id) == sent["id"]
        assert got[0].type == "mention"
        assert "piscine" in got[0].status.content
        assert got[0].status.mentions[0].acct == "ville"
        eventually(lambda: listener.heartbeats >= 3)
        api.status_post("Réponse")
        eventually(lambda: len(listener.updates) == 1)
    finally:
        handle.close()
    eventually(lambda: sandbox.stream_connections == 0)


def test_sse_drop_refuse_and_reconnect(sandbox: SandboxInstance, api: Mastodon) -> None:
    listener = Listener()
    handle = api.stream_user(
        listener, run_async=True, reconnect_async=True, reconnect_async_wait_sec=0.5
    )
    try:
        sandbox.wait_for_stream()
        sandbox.refuse_streams(1)
        sandbox.drop_streams()
        # the drop, a refused attempt (503), then a working connection again
        sandbox.wait_for_requests(lambda r: r.path == "/api/v1/streaming/user", n=3, timeout=30)
        sandbox.wait_for_stream_connects(2, timeout=20)
        refused = [r for r in sandbox.requests if r.path == "/api/v1/streaming/user"]
        assert [r.status for r in refused][:3] == [200, 503, 200]
        sandbox.inject_mention("encore là ?")
        listener.wait(1)
    finally:
        handle.close()


def test_sse_stall_and_resume(sandbox: SandboxInstance, api: Mastodon) -> None:
    listener = Listener()
    handle = api.stream_user(listener, run_async=True)
    try:
        sandbox.wait_for_stream()
        eventually(lambda: listener.heartbeats >= 2)
        sandbox.stall_streams()
        time.sleep(0.1)
        beats = listener.heartbeats
        held = sandbox.inject_mention("pendant le blocage")
        time.sleep(0.3)
        assert listener.heartbeats == beats
        assert listener.notifications == []
        assert sandbox.notifications[-1]["id"] == held["id"]
        assert sandbox.stream_connections == 1
        sandbox.resume_streams()
        eventually(lambda: listener.heartbeats > beats)
        sandbox.inject_mention("après")
        got = listener.wait(1)
        assert len(got) == 1 and "après" in got[0].status.content
        # REST catch-up finds the held-back mention
        assert str(api.notifications(limit=2)[1].id) == held["id"]
    finally:
        handle.close()


def test_sse_clean_close(sandbox: SandboxInstance, api: Mastodon) -> None:
    listener = Listener()
    handle = api.stream_user(listener, run_async=True)
    sandbox.wait_for_stream()
    sandbox.close_streams_cleanly()
    eventually(lambda: not handle.is_alive())
    assert listener.aborts == []
    eventually(lambda: sandbox.stream_connections == 0)


def test_websocket_stream(sandbox: SandboxInstance, api: Mastodon) -> None:
    listener = Listener()
    ws = api.stream_open_websocket(listener)
    try:
        api.stream_user(listener, websocket_handle=ws)
        sandbox.wait_for_stream()
        eventually(lambda: any("user" in c.streams for c in sandbox._streams))
        sent = sandbox.inject_mention("par websocket")
        got = listener.wait(1)
        assert str(got[0].id) == sent["id"]
        sandbox.inject_notification("follow", acct="carol@other.example")
        got = listener.wait(2)
        assert got[1].type == "follow"
        assert sandbox.total_stream_connects == 1
    finally:
        ws.close()
    eventually(lambda: sandbox.stream_connections == 0)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_websocket_drop(sandbox: SandboxInstance, api: Mastodon) -> None:
    listener = Listener()
    ws = api.stream_open_websocket(listener)
    api.stream_user(listener, websocket_handle=ws)
    sandbox.wait_for_stream()
    sandbox.drop_streams()
    eventually(lambda: listener.aborts != [])
    ws.close()


def test_websocket_only_instance_has_no_sse() -> None:
    with SandboxInstance(streaming="websocket") as gts:
        api = Mastodon(access_token=gts.access_token, api_base_url=gts.url)
        response = requests.get(
            gts.url + "/api/v1/streaming/user",
            headers={"Authorization": f"Bearer {gts.access_token}"},
            timeout=5,
        )
        assert response.status_code == 404
        listener = Listener()
        ws = api.stream_open_websocket(listener)
        try:
            api.stream_user_notifications(listener, websocket_handle=ws)
            gts.wait_for_stream()
            eventually(lambda: any(c.streams for c in gts._streams))
            gts.inject_mention("salut")
            listener.wait(1)
        finally:
            ws.close()
    with SandboxInstance(streaming="sse") as sse_only:
        api = Mastodon(access_token=sse_only.access_token, api_base_url=sse_only.url)
        with pytest.raises(MastodonNetworkError):
            api.stream_open_websocket(Listener())


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_stop_is_prompt_with_open_streams() -> None:
    sandbox = SandboxInstance(heartbeat_interval=10).start()
    api = Mastodon(access_token=sandbox.access_token, api_base_url=sandbox.url)
    handle = api.stream_user(Listener(), run_async=True)
    sandbox.wait_for_stream()
    started = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - started < 2
    handle.close()
