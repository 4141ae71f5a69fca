"""A post written on the desk goes to the channels the team ticks (Mastodon, Bluesky...)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import time_machine
from argon2 import PasswordHasher
from desk_support import PASSWORDS, running_daemon

from civicbot.desk import posts
from civicbot.testing import SandboxInstance
from civicbot.testing.fake_channel import FakeChannel, FakeChannelPlugin

NOON = datetime(2026, 12, 9, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))


def _wait(predicate, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_desk_post_for_the_other_channel_only_never_reaches_mastodon(
        civicbot_sandbox, civicbot_make_bot, tmp_path: Path) -> None:
    channel = FakeChannel("fake")
    hashed = PasswordHasher(time_cost=1, memory_cost=8192).hash("pw")
    desk = {"secret_key": "k" * 32,
            "users": [{"name": "mehdi", "role": "editor", "password_hash": hashed}]}
    with time_machine.travel(NOON, tick=False) as clock:
        bot = civicbot_make_bot(plugins=[FakeChannelPlugin(channel)],
                                config={"timezone": "Europe/Paris", "desk": desk})
        bot.start()
        post = posts.DeskPost(text="Seulement sur l'autre réseau", channels=("fake",),
                              when=NOON + timedelta(minutes=5))
        record = posts.save(bot, post, author="mehdi", approval_required=False)
        assert record.drafts[0]["channels"] == ["fake"]
        clock.move_to(NOON + timedelta(minutes=5, seconds=1))
        bot.scheduler.wakeup()
        relay = bot.channel_relay
        assert relay is not None
        _wait(lambda: bool(channel.sent) or (relay.wakeup() and False), "sent on the channel")
    assert [p["text"] for p in channel.sent] == ["Seulement sur l'autre réseau"]
    assert civicbot_sandbox.statuses == []


def test_the_write_form_offers_the_channels_and_keeps_the_choice(tmp_path: Path) -> None:
    channel = FakeChannel("fake")
    with SandboxInstance(heartbeat_interval=0.2) as sandbox, \
            running_daemon(tmp_path, sandbox, plugins=(FakeChannelPlugin(channel),)) as daemon:
        client = httpx.Client(base_url=daemon.http.url, timeout=30)
        token = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        assert client.post("/login", data={"username": "mehdi", "password": PASSWORDS["mehdi"],
                                           "csrftoken": token.group(1)}).status_code == 303
        page = client.get("/write").text
        assert re.search(r'name="channels" value="mastodon" checked', page)
        assert re.search(r'name="channels" value="fake">', page)
        when = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(days=2)).strftime(
            "%Y-%m-%dT%H:%M")
        empty = client.post("/write", data={"csrftoken": token.group(1), "text": "Essai",
                                            "when": "at", "at": when, "action": "save"})
        assert empty.status_code == 400 and "Choisissez au moins un réseau" in empty.text
        saved = client.post("/write", data={"csrftoken": token.group(1), "text": "Essai",
                                            "when": "at", "at": when, "action": "save",
                                            "channels": ["mastodon", "fake"]})
        assert saved.status_code in (200, 303)
        [record] = daemon.store.list_approvals(job_id="desk:")
        assert record.drafts[0]["channels"] == ["mastodon", "fake"]
