"""Every server a town may be on: the sandbox's Mastodon, GoToSocial and snac profiles
reproduce what was observed on the real servers, and civicbot copes with each (issue 14)."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError
from structlog.testing import capture_logs

from civicbot import PostDraft, hookimpl
from civicbot.dispatch import id_key
from civicbot.server import detect_server
from civicbot.testing import SandboxInstance, every_server
from civicbot.testing.sandbox_http import Response
from civicbot.testing.sandbox_profiles import PROFILES, SandboxProfile


class Echo:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.lock = threading.Lock()

    @hookimpl
    def civicbot_on_mention(self, bot, status, notification):
        with self.lock:
            self.seen.append(str(notification["id"]))
        bot.reply(status, "Bien reçu, merci !")


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def replies(sandbox: SandboxInstance) -> Counter[str]:
    return Counter(s["in_reply_to_id"] for s in sandbox.statuses if s["in_reply_to_id"])


def client_of(sandbox: SandboxInstance) -> Mastodon:
    return Mastodon(access_token=sandbox.access_token, api_base_url=sandbox.url,
                    version_check_mode="none")


# -- the profiles reproduce the observed behaviours ----------------------------------------------

def test_identifier_shapes_of_each_server():
    shapes = {
        "mastodon": (r"\d{17,19}", r"\d{17,19}", r"\d{17,19}", r"\d{17,19}"),
        "gotosocial": (r"[0-9A-HJKMNP-TV-Z]{26}",) * 4,
        "snac": (r"\d{10}[0-9a-f]{32}", r"\d{16}", r"[0-9a-f]{32}", r"post-[0-9a-f]{32}\.png"),
    }
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                        "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    for name, (status, notification, account, media) in shapes.items():
        with SandboxInstance(profile=name) as sandbox:
            api = client_of(sandbox)
            posted = api.status_post("Bonjour", visibility="public")
            uploaded = api.media_post(png, mime_type="image/png", description="un point",
                                      file_name="point.png")
            mention = sandbox.inject_mention("bonjour")
            assert re.fullmatch(status, str(posted["id"])), (name, posted["id"])
            assert re.fullmatch(notification, mention["id"]), (name, mention["id"])
            assert re.fullmatch(account, sandbox.account["id"]), (name, sandbox.account["id"])
            assert re.fullmatch(media, str(uploaded["id"])), (name, uploaded["id"])


@pytest.mark.parametrize("name", ["gotosocial", "snac"])
def test_idempotency_key_is_ignored_off_mastodon(name):
    with SandboxInstance(profile=name) as sandbox:
        api = client_of(sandbox)
        api.status_post("Une fois", idempotency_key="k", visibility="public")
        api.status_post("Une fois", idempotency_key="k", visibility="public")
        assert len(sandbox.statuses) == 2
    with SandboxInstance(profile="mastodon") as sandbox:
        api = client_of(sandbox)
        api.status_post("Une fois", idempotency_key="k")
        api.status_post("Une fois", idempotency_key="k")
        assert len(sandbox.statuses) == 1


def test_snac_notifications_api_quirks():
    with SandboxInstance(profile="snac") as sandbox:
        api = client_of(sandbox)
        ids = [sandbox.inject_mention(f"q{i}", acct=f"r{i}@ex.org")["id"] for i in range(100)]
        raw = api._Mastodon__api_request  # the plain JSON, as the server sends it
        assert len(raw("GET", "/api/v1/notifications", {})) == 1  # one without limit
        newest = raw("GET", "/api/v1/notifications", {"limit": 200})
        assert [n["id"] for n in newest] == ids[::-1][:64]  # only the newest 64
        response = raw("GET", "/api/v1/notifications", {"limit": 5},
                       return_response_object=True)
        assert "Link" not in response.headers
        # min_id means since_id: the newest 5 above the id, not the next 5
        above = raw("GET", "/api/v1/notifications", {"limit": 5, "min_id": ids[60]})
        assert [n["id"] for n in above] == ids[::-1][:5]
        assert raw("GET", "/api/v1/notifications", {"limit": 5, "max_id": "1234"}) == []
        below = raw("GET", "/api/v1/notifications", {"limit": 2, "max_id": ids[90]})
        assert [n["id"] for n in below] == [ids[89], ids[88]]
        with pytest.raises(MastodonNotFoundError):
            api.notifications(id=ids[-1])
        with pytest.raises(MastodonNotFoundError):
            api.notifications_dismiss(ids[-1])


def test_snac_instance_scheduling_language_and_names():
    with SandboxInstance(profile="snac", max_characters=5000) as sandbox:
        api = client_of(sandbox)
        with pytest.raises(MastodonNotFoundError):
            api.instance_v2()
        assert api.instance_v1()["configuration"]["statuses"]["max_characters"] == 5000
        status = api.status_post("Bonjour", language="fr", visibility="public")
        assert status["language"] == "en"
        scheduled = api.status_post("Plus tard", scheduled_at=datetime.now(UTC)
                                    + timedelta(hours=2))
        assert scheduled["id"]
        assert api.scheduled_statuses() == []
        with pytest.raises(MastodonNotFoundError):
            api.scheduled_status_delete(scheduled["id"])
        host = sandbox.url.split("://", 1)[1]
        assert api.account_verify_credentials()["acct"] == "ville"
        assert status["account"]["acct"] == f"ville@{host}"
        local = sandbox.inject_mention("salut", acct="alice")
        assert local["account"]["acct"] == f"alice@{host}"


def test_gotosocial_streaming_visibility_and_polls():
    with SandboxInstance(profile="gotosocial") as sandbox:
        api = client_of(sandbox)
        assert api.status_post("Sans visibilité")["visibility"] == "unlisted"
        # Mastodon.py 2.3.3 sends sensitive "0" with a poll; GoToSocial answers 400
        with pytest.raises(MastodonAPIError):
            api.status_post("Sondage", poll=api.make_poll(["oui", "non"], expires_in=3600))
        with pytest.raises(MastodonNotFoundError):  # no /api/v1/streaming/health
            api.stream_healthy()
        assert sandbox.streaming == "websocket"


def test_detect_server_from_the_instance_documents():
    for name, software, idempotency, native in [("mastodon", "mastodon", True, True),
                                                 ("gotosocial", "gotosocial", False, True),
                                                 ("snac", "snac", False, False)]:
        with SandboxInstance(profile=name, max_characters=777) as sandbox:
            api = client_of(sandbox)
            try:
                v2 = dict(api.instance_v2())
            except MastodonNotFoundError:
                v2 = None
            info = detect_server(v2, None if v2 else dict(api.instance_v1()))
            assert (info.software, info.idempotency, info.native_scheduling) == (
                software, idempotency, native)
            assert info.max_characters == 777
            assert info.instance_api == ("v1" if name == "snac" else "v2")


# -- civicbot copes with each --------------------------------------------------------------------

@every_server
def test_ids_of_every_shape_are_ordered_and_compared(civicbot_sandbox):
    ids = [civicbot_sandbox.inject_mention(f"q{i}")["id"] for i in range(30)]
    assert sorted(ids, key=id_key) == ids
    assert all(id_key(b) > id_key(a) for a, b in itertools.pairwise(ids))


@every_server
def test_crash_between_post_and_record_posts_nothing_twice(civicbot_sandbox, civicbot_make_bot,
                                                           tmp_path: Path):
    """The process dies after the server made a part of a 5-part thread and before it was
    recorded: the restart finds that part on the server (whether or not the server honours
    Idempotency-Key) and sends only the parts never made."""
    state = tmp_path / "s.sqlite3"
    bot = civicbot_make_bot(state=state, config={"mastodon": {"max_characters": 120}})
    text = " ".join(f"Phrase numéro {i} du compte rendu du conseil municipal." for i in range(9))
    store = bot.state.store
    real_mark_sent = store.mark_sent
    calls = []

    class Killed(BaseException):
        """kill -9: nothing after this line runs (no except clause catches it)."""

    def dying_mark_sent(account, key, status_id, url):
        calls.append(key)
        if len(calls) == 3:
            raise Killed
        real_mark_sent(account, key, status_id, url)

    store.mark_sent = dying_mark_sent
    with pytest.raises(Killed):
        bot.publish(PostDraft(text=text, dedup_key="cr:2026-12-04"))
    store.mark_sent = real_mark_sent
    assert len(civicbot_sandbox.statuses) == 3
    parts = len(bot.publisher.plan_parts(bot.publisher.prepare(
        PostDraft(text=text, dedup_key="x"))))
    assert parts == 5
    bot.stop()
    with capture_logs() as logs:
        again = civicbot_make_bot(state=state, config={"mastodon": {"max_characters": 120}})
        again.start()
        [result] = again.publish(PostDraft(text=text, dedup_key="cr:2026-12-04"))
    assert result.skipped == "already posted"
    statuses = civicbot_sandbox.statuses
    assert len(statuses) == 5, [s["content"][:30] for s in statuses]
    assert [re.search(r"(\d)/5", s["content"]).group(1) for s in statuses] == list("12345")
    for previous, status in itertools.pairwise(statuses):
        assert status["in_reply_to_id"] == previous["id"]
    if not civicbot_sandbox.profile.honours_idempotency:
        assert any(e["event"] == "pending post found already published; recorded, not resent"
                   for e in logs)


def test_a_5xx_hiding_a_made_post_is_not_resent_on_gotosocial(civicbot_make_bot):
    """The server made the post but the answer was lost (a proxy's 502): before retrying on a
    server that ignores Idempotency-Key, civicbot looks for the post."""
    with SandboxInstance(profile="gotosocial") as sandbox:
        bot = civicbot_make_bot(sandbox=sandbox)
        bot.start()
        original = sandbox._post_status

        def made_then_502(req):
            original(req)  # the post is made...
            return Response(502, {"error": "Bad Gateway"})  # ...but the answer is lost

        sandbox._routes = [(m, p, made_then_502 if f == original else f)
                           for m, p, f in sandbox._routes]
        [result] = bot.publish(PostDraft(text="Collecte des sapins samedi.", dedup_key="sapins"))
        assert len(sandbox.statuses) == 1
        assert result.status_id == sandbox.statuses[0]["id"]


@pytest.mark.parametrize("failure", ["tls", "refused", "close"])
def test_broken_streaming_with_rest_answering_falls_back_to_polling(civicbot_make_bot, failure):
    """The advertised streaming URL fails (wss:// on a plain-http server, nothing listening,
    closed at once) while REST answers: mentions are polled, and streaming is tried again."""
    with SandboxInstance(profile="gotosocial", streaming_failure=failure,
                         heartbeat_interval=0.1) as sandbox:
        bot = civicbot_make_bot(plugins=[Echo()], sandbox=sandbox, config={"stream": {
            "fallback_after": "0.3s", "stream_retry": "1s"}})
        started = time.monotonic()
        bot.start()
        sandbox.inject_mention("la mairie est ouverte ?")
        assert wait_for(lambda: len(sandbox.statuses) == 1, timeout=20)
        assert wait_for(lambda: bot.stream.fallbacks >= 1, timeout=20)
        assert time.monotonic() - started < 60
        if failure == "close":  # the sandbox sees the retries of streaming
            before = sandbox.total_stream_connects
            assert wait_for(lambda: sandbox.total_stream_connects > before, timeout=10)
        # streaming is tried again after stream_retry, and polling resumes at its first failure
        assert wait_for(lambda: bot.stream.fallbacks >= 2, timeout=10)
        sandbox.inject_mention("et demain ?")
        assert wait_for(lambda: len(sandbox.statuses) == 2, timeout=20)
        assert max(replies(sandbox).values()) == 1


def test_default_fallback_reaches_polling_within_a_minute():
    from civicbot.config import StreamConfig

    cfg = StreamConfig()
    # three attempts at most backoff_max apart after fallback_after: polling within 60 s
    assert cfg.fallback_after.total_seconds() <= 30
    assert cfg.stream_retry >= timedelta(minutes=1)


def test_150_mentions_missed_while_stopped_on_snac_are_answered_once(civicbot_make_bot,
                                                                      tmp_path: Path):
    """snac's quirks (one notification without limit, min_id read as since_id, no Link
    header) do not hide any of 150 missed mentions, when the server still holds them."""
    roomy = SandboxProfile(**{**PROFILES["snac"].__dict__, "notifications_kept": 400})
    with SandboxInstance(profile=roomy) as sandbox:
        state = tmp_path / "s.sqlite3"
        bot = civicbot_make_bot(plugins=[Echo()], state=state, sandbox=sandbox)
        bot.start()
        sandbox.inject_mention("avant")
        assert wait_for(lambda: len(sandbox.statuses) == 1)
        bot.stream.dispatcher.wait_idle()
        bot.stop()
        mentions = [sandbox.inject_mention(f"pendant l'arrêt {i}", acct=f"r{i}@ex.org")
                    for i in range(150)]
        echo = Echo()
        with capture_logs() as logs:
            again = civicbot_make_bot(plugins=[echo], state=state, sandbox=sandbox)
            again.start()
            assert wait_for(lambda: len(sandbox.statuses) == 151, timeout=60)
            again.stream.dispatcher.wait_idle()
        counts = replies(sandbox)
        assert {m["status"]["id"] for m in mentions} <= set(counts)
        assert max(counts.values()) == 1
        assert echo.seen == sorted(echo.seen, key=id_key)
        assert not any(e["event"].startswith("more notifications were missed") for e in logs)
        assert all(r.query.get("limit") for r in sandbox.requests
                   if r.path == "/api/v1/notifications")


def test_more_missed_than_snac_keeps_is_logged_and_the_kept_ones_answered(civicbot_make_bot,
                                                                          tmp_path: Path):
    with SandboxInstance(profile="snac") as sandbox:
        state = tmp_path / "s.sqlite3"
        bot = civicbot_make_bot(plugins=[Echo()], state=state, sandbox=sandbox)
        bot.start()
        sandbox.inject_mention("avant")
        assert wait_for(lambda: len(sandbox.statuses) == 1)
        bot.stream.dispatcher.wait_idle()
        bot.stop()
        mentions = [sandbox.inject_mention(f"pendant l'arrêt {i}", acct=f"r{i}@ex.org")
                    for i in range(150)]
        with capture_logs() as logs:
            again = civicbot_make_bot(plugins=[Echo()], state=state, sandbox=sandbox)
            again.start()
            assert wait_for(lambda: len(sandbox.statuses) == 65, timeout=60)
            again.stream.dispatcher.wait_idle()
        counts = replies(sandbox)
        assert {m["status"]["id"] for m in mentions[-64:]} <= set(counts)
        assert max(counts.values()) == 1
        [gap] = [e for e in logs if e["event"].startswith("more notifications were missed")]
        assert gap["server_keeps"] == 64 and gap["software"] == "snac"
        assert again.stream.health()["lost_notifications"] == 1


def test_polling_is_faster_while_residents_talk(civicbot_make_bot):
    with SandboxInstance(profile="snac") as sandbox:
        bot = civicbot_make_bot(plugins=[Echo()], sandbox=sandbox, config={"stream": {
            "poll_interval": "0.8s", "poll_interval_busy": "0.05s"}})
        bot.start()
        assert bot.stream.wait_state({"polling"})
        sandbox.inject_notification("favourite")  # not a resident talking to the bot
        sandbox.inject_mention("bonjour")
        assert wait_for(lambda: len(sandbox.statuses) == 1)
        assert wait_for(lambda: 0.05 in bot.stream.poll_waits, timeout=10), bot.stream.poll_waits
        assert wait_for(lambda: bot.stream.poll_waits[-1] == 0.8, timeout=10)
        waits = list(bot.stream.poll_waits)
        busy = waits.index(0.05)  # right after the mention
        assert waits[busy:busy + 5] == [0.05, 0.1, 0.2, 0.4, 0.8]  # backing off when idle
        assert waits.count(0.05) == 1


def test_character_limit_comes_from_v1_configuration_on_snac(civicbot_make_bot):
    with SandboxInstance(profile="snac", max_characters=200) as sandbox:
        bot = civicbot_make_bot(sandbox=sandbox)
        assert bot.publisher.max_characters == 200
        text = " ".join(["Travaux rue Porte-Chartraine du 3 au 14 décembre."] * 8)
        [result] = bot.publish(PostDraft(text=text, dedup_key="travaux"))
        assert len(result.statuses) == 3
        assert all(s["visibility"] == "public" for s in sandbox.statuses)


@every_server
def test_visibility_is_always_sent(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot()
    bot.publish(PostDraft(text="Public partout", dedup_key="pub"))
    assert civicbot_sandbox.statuses[0]["visibility"] == "public"
    assert all(r.body.get("visibility") == "public" for r in civicbot_sandbox.requests
               if r.path == "/api/v1/statuses")


@every_server
def test_own_name_in_both_forms(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot()
    bot.start()
    own = dict(civicbot_sandbox.account)
    assert bot.is_own_account({"id": "someone-else", "acct": own["acct"]})
    assert bot.is_own_account({"id": "someone-else", "acct": "ville"})
    assert not bot.is_own_account({"id": "x", "acct": "alice@other.example"})


@every_server
def test_start_up_log_says_what_the_server_supports(civicbot_sandbox, civicbot_make_bot):
    with capture_logs() as logs:
        bot = civicbot_make_bot(plugins=[Echo()])
        bot.start()
        assert bot.stream.wait_state({"connected", "polling"})
    [caps] = [e for e in logs if e["event"] == "server capabilities"]
    profile = civicbot_sandbox.profile
    assert caps["software"] == profile.name
    assert caps["idempotency"] is profile.honours_idempotency
    assert caps["native_scheduling"] is profile.lists_scheduled
    assert caps["max_characters"] == 500
    assert caps["scheduling"] == ("native (server side)" if profile.lists_scheduled
                                  else "local (daemon)")
    expected = {"mastodon": "sse", "gotosocial": "websocket", "snac": "poll"}[profile.name]
    assert wait_for(lambda: bot.server.streaming == expected, timeout=10)
    if not profile.lists_scheduled:
        assert any(e["event"].startswith("native scheduling off") for e in logs)


@pytest.mark.parametrize("civicbot_sandbox", ["gotosocial", "snac"], indirect=True)
def test_status_says_what_the_server_supports(civicbot_sandbox, civicbot_make_bot,
                                              tmp_path: Path, capsys):
    from civicbot.cli import main

    state = tmp_path / "state.sqlite3"
    bot = civicbot_make_bot(plugins=[Echo()], state=state)
    bot.start()
    assert bot.stream.wait_state({"connected", "polling"})
    bot.stop()
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text(f"mastodon:\n  api_base_url: {civicbot_sandbox.url}\n"
                   f"  access_token: {civicbot_sandbox.access_token}\nstate: {state}\n")
    assert main(["status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    expected = {
        "gotosocial": "server gotosocial 0.20.0 git-4f3c2a1: streaming (WebSocket); "
                      "Idempotency-Key ignored: pending posts looked up before a resend; "
                      "native scheduling; 500 characters",
        "snac": "server snac 4.0.0 (not true; really snac/2.94): polling (no usable stream); "
                "Idempotency-Key ignored: pending posts looked up before a resend; "
                "scheduled posts cannot be listed: scheduled locally; 500 characters",
    }[civicbot_sandbox.profile.name]
    assert expected in out
    assert main(["status", "--config", str(cfg), "--json"]) == 0
    import json

    [report] = json.loads(capsys.readouterr().out)
    assert report["server"]["software"] == civicbot_sandbox.profile.name


def test_demo_on_snac(capsys):
    from civicbot.cli import main

    assert main(["demo", "--server", "snac", "--duration", "6"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("civicbot demo — a fake snac (Mastodon API) instance")
    assert "server snac" in out and "polling" in out
    assert "╭─ @ville@127.0.0.1:" in out  # snac writes local names with host and port


THREAD_SCRIPT = """
import sys
from civicbot import Bot, PostDraft

url, token, state, text = sys.argv[1:5]
bot = Bot(url, access_token=token, state=state,
          config={"mastodon": {"max_characters": 120}, "stream": {"transport": "poll"}})
bot.start()
[result] = bot.publish(PostDraft(text=text, dedup_key="cr:2026-12-04"))
print("result:", result.skipped or "posted", flush=True)
bot.stop()
"""


def test_kill9_in_the_middle_of_a_5_part_thread_on_gotosocial(tmp_path: Path):
    """A real ``kill -9`` after the server made part 3 and before civicbot recorded it, on a
    server that ignores Idempotency-Key: after the restart no part exists twice."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "thread.py"
    script.write_text(THREAD_SCRIPT)
    state = tmp_path / "state.sqlite3"
    text = " ".join(f"Phrase numéro {i} du compte rendu du conseil municipal." for i in range(9))
    release = threading.Event()
    with SandboxInstance(profile="gotosocial") as sandbox:
        original = sandbox._post_status

        def slow_third(req):
            response = original(req)
            if len(sandbox.statuses) == 3 and not release.is_set():
                release.wait(30)  # the answer to part 3 never reaches the first process
            return response

        sandbox._routes = [(m, p, slow_third if f == original else f)
                           for m, p, f in sandbox._routes]
        args = [sys.executable, str(script), sandbox.url, sandbox.access_token, str(state), text]
        first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            assert wait_for(lambda: len(sandbox.statuses) == 3, timeout=30)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            release.set()
            if first.poll() is None:
                first.kill()
        second = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert "result: already posted" in second.stdout, second.stdout + second.stderr
        statuses = list(sandbox.statuses)
    assert [re.search(r"(\d)/5", s["content"]).group(1) for s in statuses] == list("12345")
    for previous, status in itertools.pairwise(statuses):
        assert status["in_reply_to_id"] == previous["id"]
    assert "pending post found already published" in second.stdout + second.stderr


def test_polling_slows_down_when_the_rate_limit_runs_low(civicbot_make_bot):
    from types import SimpleNamespace

    with SandboxInstance(profile="snac") as sandbox:
        bot = civicbot_make_bot(sandbox=sandbox)
        from civicbot.stream import StreamSupervisor

        stream = StreamSupervisor(bot)
        stream._client = SimpleNamespace(ratelimit_remaining=250, ratelimit_limit=300)
        assert stream._rate_limited_wait(30.0) == 0.0
        stream._client = SimpleNamespace(ratelimit_remaining=60, ratelimit_limit=300)
        assert stream._rate_limited_wait(30.0) == 30.0


@pytest.mark.parametrize("profile", ["mastodon", "gotosocial", "snac"])
def test_accounts_on_one_server_read_it_once_and_streams_do_not_read_it_again(tmp_path: Path,
                                                                              profile: str):
    """A daemon with three accounts on one server reads its instance document once for all
    of them, and each stream opens without Mastodon.py reading the documents again to find
    the streaming address (it is seeded from the read at start)."""
    import yaml

    from civicbot.daemon import Daemon

    with SandboxInstance(profile=profile) as sandbox:
        config = tmp_path / "civicbot.yaml"
        config.write_text(yaml.safe_dump({
            "state": str(tmp_path / "state.sqlite3"), "stream": {"watchdog": "5s"},
            "accounts": [{"name": f"a{i}", "mastodon": {"api_base_url": sandbox.url,
                                                        "access_token": sandbox.access_token}}
                         for i in range(3)]}), encoding="utf-8")
        daemon = Daemon.from_config(config, load_entry_points=False)
        try:
            daemon.start()
            assert daemon.wait_ready(20), daemon.healthy()
            reads = Counter(r.path for r in list(sandbox.requests)
                            if r.path in ("/api/v1/instance", "/api/v2/instance"))
            assert sum(reads.values()) == (2 if profile == "snac" else 1), reads  # snac: no v2
            assert {b.publisher.streaming_api for b in daemon.bots} == {sandbox.streaming_url}
            transports = {b.stream.transport for b in daemon.bots if b.stream is not None}
            assert transports == {"poll" if profile == "snac" else
                                  "websocket" if profile == "gotosocial" else "sse"}
            # each account has a copy of its own (the transport is noted per account)
            assert len({id(b.server) for b in daemon.bots}) == 3
        finally:
            daemon.stop()


def test_streaming_address_as_mastodon_py_derives_it():
    from civicbot.server import streaming_base, streaming_url
    from civicbot.stream_wire import seed_streaming_base

    assert streaming_url({"configuration": {"urls": {"streaming": "wss://s.example"}}},
                         None) == "wss://s.example"
    assert streaming_url({"configuration": {"urls": {"streaming": "wss://v2.example"}}},
                         {"urls": {"streaming_api": "wss://v1.example"}}) == "wss://v1.example"
    assert streaming_url({"configuration": {}}, None) is None
    assert streaming_base("wss://s.example/x", "https://m.example") == "https://s.example"
    assert streaming_base("ws://127.0.0.1:9", "http://127.0.0.1:8") == "http://127.0.0.1:9"
    assert streaming_base("https://m.example", "https://m.example") == "https://m.example"
    assert streaming_base("ftp://s.example", "https://m.example") is None

    client = Mastodon(access_token="t", api_base_url="https://m.example")
    seed_streaming_base(client, "wss://streaming.m.example")
    assert client._Mastodon__streaming_base == "https://streaming.m.example"  # type: ignore[attr-defined]
    seed_streaming_base(client, "wss://other.example")  # set once: never overwritten
    assert client._Mastodon__streaming_base == "https://streaming.m.example"  # type: ignore[attr-defined]

    class Elsewhere:  # a Mastodon.py without that attribute: left alone
        api_base_url = "https://m.example"

    other = Elsewhere()
    seed_streaming_base(other, "wss://streaming.m.example")
    assert not hasattr(other, "_Mastodon__streaming_base")
