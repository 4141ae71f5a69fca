"""``native: true``: Mastodon's own scheduled statuses, kept in line with the posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from scheduled_posts_helpers import (
    config,
    paris,
    run_due,
    texts,
    tiny_png,
    write_post,
)
from structlog.testing import capture_logs

import civicbot_scheduled_posts as plugin
from civicbot.testing import SandboxInstance

NOW = paris(2026, 12, 1, 12, 0)


def _native(post_id: str, when: str, text: str, **extra):
    return {"id": post_id, "at": when, "text": text, "native": True, **extra}


def _record(bot, post_id):
    return bot.state.namespace("scheduled_posts").get(f"native:{post_id}")


def _params(sandbox):
    return sorted((s["params"]["text"], s["scheduled_at"][:16]) for s in sandbox.scheduled_statuses)


def _refusals(logs):
    return {e["post"]: e["reason"] for e in logs if e["event"] == "native post not scheduled"}


def test_a_native_post_is_scheduled_on_the_server_at_start(civicbot_sandbox, civicbot_make_bot,
                                                           tmp_path):
    image = tmp_path / "sapin.png"
    image.write_bytes(tiny_png())
    post = _native("horaires-noel", "2026-12-20T09:00:00+01:00", "Horaires des fêtes.",
                   visibility="unlisted",
                   media=[{"path": str(image), "description": "Le sapin de la place"}])
    state = tmp_path / "state.sqlite3"
    with time_machine.travel(NOW, tick=False) as traveller:
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]), state=state)
        bot.start()
        [scheduled] = civicbot_sandbox.scheduled_statuses
        assert civicbot_sandbox.statuses == []
        assert scheduled["scheduled_at"].startswith("2026-12-20T08:00:00")
        assert scheduled["params"]["text"] == "Horaires des fêtes."
        assert scheduled["params"]["visibility"] == "unlisted"
        assert scheduled["media_attachments"][0]["description"] == "Le sapin de la place"
        record = _record(bot, "horaires-noel")
        assert record["scheduled_id"] == scheduled["id"]
        assert record["dedup_key"].startswith(
            "scheduled_posts:horaires-noel:2026-12-20T08:00:00+00:00:native:")
        assert "horaires-noel" in bot.jobs  # listed by `civicbot jobs`, previewable
        [draft] = bot.scheduler.preview("horaires-noel")
        assert draft.scheduled_at == paris(2026, 12, 20, 9, 0)
        bot.stop()
        # a restart submits nothing again
        again = civicbot_make_bot(plugins=[plugin], config=config([post]), state=state)
        again.start()
        assert [s["id"] for s in civicbot_sandbox.scheduled_statuses] == [scheduled["id"]]
        # at its time the server publishes it; the daemon's own run posts nothing
        when = paris(2026, 12, 20, 9, 0)
        traveller.move_to(when + timedelta(seconds=1))
        assert len(civicbot_sandbox.publish_due_scheduled_statuses()) == 1
        run_due(again, "horaires-noel", when)
    assert texts(civicbot_sandbox.statuses) == ["Horaires des fêtes."]


def test_editing_or_deleting_a_native_post_file_updates_the_server(civicbot_sandbox,
                                                                   civicbot_make_bot, tmp_path):
    posts = tmp_path / "posts"
    write_post(posts, "voeux.md", "at: 2027-01-01T10:00:00+01:00\nnative: true",
               "Bonne année 2027 !")
    with time_machine.travel(NOW, tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts_dir=str(posts)))
        bot.start()
        [first] = civicbot_sandbox.scheduled_statuses
        first_key = _record(bot, "voeux")["dedup_key"]
        write_post(posts, "voeux.md", "at: 2027-01-01T10:30:00+01:00\nnative: true",
                   "Bonne année 2027 à toutes et à tous !")
        assert plugin.reload(bot).changed == ["voeux"]
        [second] = civicbot_sandbox.scheduled_statuses
        assert second["id"] != first["id"]
        assert _params(civicbot_sandbox) == [
            ("Bonne année 2027 à toutes et à tous !", "2027-01-01T09:30")]
        record = _record(bot, "voeux")
        assert record["scheduled_id"] == second["id"]
        assert record["dedup_key"] != first_key
        (posts / "voeux.md").unlink()
        assert plugin.reload(bot).removed == ["voeux"]
        assert civicbot_sandbox.scheduled_statuses == []
        assert _record(bot, "voeux") is None
    assert civicbot_sandbox.statuses == []


def test_a_native_post_removed_from_the_config_is_cancelled_at_start(civicbot_sandbox,
                                                                     civicbot_make_bot,
                                                                     tmp_path):
    state = tmp_path / "state.sqlite3"
    posts = [_native("expo", "2026-12-15T10:00:00+01:00", "Vernissage de l'exposition."),
             _native("concert", "2026-12-16T20:00:00+01:00", "Concert de Noël.")]
    with time_machine.travel(NOW, tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts), state=state)
        bot.start()
        assert len(civicbot_sandbox.scheduled_statuses) == 2
        bot.stop()
        # "concert" no longer native, "expo" deleted: both server-side posts are cancelled
        again = civicbot_make_bot(plugins=[plugin], config=config(
            [{"id": "concert", "at": "2026-12-16T20:00:00+01:00", "text": "Concert de Noël."}]),
            state=state)
        again.start()
        assert civicbot_sandbox.scheduled_statuses == []
        assert again.state.namespace("scheduled_posts").items() == {}
        assert "concert" in again.jobs


def test_less_than_five_minutes_ahead_is_refused_then_posted_by_the_daemon(civicbot_sandbox,
                                                                          civicbot_make_bot):
    post = _native("flash", "2026-12-01T12:03:00+01:00", "Info flash : la mairie ferme à 16 h.")
    with capture_logs() as logs, time_machine.travel(NOW, tick=False) as traveller:
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
        bot.start()
        assert civicbot_sandbox.scheduled_statuses == []
        assert not [r for r in civicbot_sandbox.requests if r.path == "/api/v1/statuses"]
        traveller.move_to(paris(2026, 12, 1, 12, 3, 1))
        run_due(bot, "flash", paris(2026, 12, 1, 12, 3))
    assert _refusals(logs) == {"flash": (
        "post 'flash': a native post must be scheduled at least 5 minutes ahead (scheduled at "
        "2026-12-01T12:03:00+01:00, now 2026-12-01T12:00:00+01:00)")}
    assert texts(civicbot_sandbox.statuses) == ["Info flash : la mairie ferme à 16 h."]


def test_at_most_25_native_posts_per_day(civicbot_sandbox, civicbot_make_bot):
    posts = [_native(f"avent-{n:02d}", f"2026-12-24T{8 + n // 4:02d}:{(n % 4) * 15:02d}:00+01:00",
                     f"Calendrier de l'Avent, case {n}.") for n in range(26)]
    with capture_logs() as logs, time_machine.travel(NOW, tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts))
        bot.start()
    assert len(civicbot_sandbox.scheduled_statuses) == 25
    assert _refusals(logs) == {"avent-25": (
        "post 'avent-25': the instance accepts at most 25 scheduled posts per day and 25 are "
        "already scheduled on 2026-12-24 (UTC)")}
    assert _record(bot, "avent-25") is None
    assert all(_record(bot, f"avent-{n:02d}") for n in range(25))


def test_at_most_300_native_posts_in_total(civicbot_make_bot):
    day0 = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    posts = [_native(f"p{n:03d}", (day0 + timedelta(days=n // 25, minutes=n % 25)).isoformat(),
                     f"Post {n}.") for n in range(301)]
    with SandboxInstance(rate_limit=100_000) as sandbox, \
            capture_logs() as logs, time_machine.travel(NOW, tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts), sandbox=sandbox)
        bot.start()
        assert len(sandbox.scheduled_statuses) == 300
        bot.stop()
    assert _refusals(logs) == {"p300": (
        "post 'p300': the instance accepts at most 300 scheduled posts and 300 are already "
        "scheduled")}


def test_posts_scheduled_by_someone_else_count_toward_the_daily_limit(civicbot_sandbox,
                                                                      civicbot_make_bot):
    """The server's list is read page by page (20 per page here), so scheduled posts the plugin
    did not make count too, and the plugin refuses before the server has to."""
    post = _native("marche-noel", "2026-12-24T17:00:00+01:00", "Marché de Noël ce soir.")
    with capture_logs() as logs, time_machine.travel(NOW, tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
        for n in range(25):
            bot.client.status_post(f"Autre post {n}",
                                   scheduled_at=paris(2026, 12, 24, 8, n))
        bot.start()
    assert len(civicbot_sandbox.scheduled_statuses) == 25
    assert ("at most 25 scheduled posts per day and 25 are already scheduled on 2026-12-24"
            in _refusals(logs)["marche-noel"])
    assert not [r for r in civicbot_sandbox.requests if r.status == 422]
    assert _record(bot, "marche-noel") is None


@pytest.mark.parametrize(("extra", "message"), [
    ({"thread": ["Suite."]}, "a native post cannot have a thread"),
    ({"pin": True}, "a native post cannot be pinned"),
])
def test_native_posts_cannot_be_threads_or_pinned(civicbot_make_bot, extra, message):
    from civicbot import ConfigError

    with pytest.raises(ConfigError) as caught:
        civicbot_make_bot(plugins=[plugin], config=config(
            [_native("x", "2026-12-20T09:00:00+01:00", "Texte.", **extra)]))
    assert f"post 'x': {message}" in str(caught.value)


def test_native_posts_are_not_sent_in_dry_run(civicbot_sandbox, civicbot_make_bot):
    post = _native("voeux", "2027-01-01T10:00:00+01:00", "Bonne année !")
    with capture_logs() as logs, time_machine.travel(NOW, tick=False):
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]), dry_run=True)
        bot.start()
    assert civicbot_sandbox.scheduled_statuses == []
    assert [e["post"] for e in logs
            if e["event"] == "dry run: native post would be scheduled on the server"] == ["voeux"]


@pytest.mark.parametrize("civicbot_sandbox", ["snac"], indirect=True)
def test_on_a_server_that_cannot_list_scheduled_posts_the_daemon_publishes_them(
        civicbot_sandbox, civicbot_make_bot):
    """snac accepts scheduled_at but never lists nor cancels what it holds: native posts are
    scheduled locally instead (detected at start, logged), published once at their time."""
    post = _native("voeux", "2026-12-31T18:00:00+01:00", "Bonne année à toutes et à tous !")
    with capture_logs() as logs, time_machine.travel(NOW, tick=False) as traveller:
        bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
        bot.start()
        assert bot.server.native_scheduling is False
        assert civicbot_sandbox.scheduled_statuses == []
        assert not [r for r in civicbot_sandbox.requests if r.path == "/api/v1/statuses"]
        when = paris(2026, 12, 31, 18, 0)
        traveller.move_to(when + timedelta(seconds=1))
        assert civicbot_sandbox.publish_due_scheduled_statuses() == []
        run_due(bot, "voeux", when)
    assert texts(civicbot_sandbox.statuses) == ["Bonne année à toutes et à tous !"]
    assert any(e["event"].startswith("native posts scheduled locally") for e in logs)
