"""The posting pipeline against the sandbox, through the real Mastodon.py client."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from mastodon import Mastodon
from structlog.testing import capture_logs

from civicbot import PREVIOUS, Media, PostDraft, PostVetoed, hookimpl
from civicbot.testing import SERVER_PROFILES, SandboxInstance, every_server

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def post_requests(sandbox: SandboxInstance) -> list:
    return [r for r in sandbox.requests if r.method == "POST" and r.path == "/api/v1/statuses"]


@every_server
def test_post_sends_dedup_key_as_idempotency_key_and_language(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot()
    [result] = bot.publish(PostDraft(text="Bonjour Blois !", dedup_key="hello:1"))
    assert result.status_id == civicbot_sandbox.statuses[0]["id"]
    status = civicbot_sandbox.statuses[0]
    assert status["language"] == (civicbot_sandbox.profile.forced_language or "fr")
    assert post_requests(civicbot_sandbox)[0].body["language"] == "fr"
    assert status["visibility"] == "public"
    [request] = post_requests(civicbot_sandbox)
    assert request.headers["Idempotency-Key"] == "hello:1"
    record = bot.state.post("hello:1")
    assert record.state == "sent" and record.status_id == status["id"]


def test_same_key_is_never_posted_twice_even_after_restart(civicbot_sandbox, civicbot_make_bot,
                                                           tmp_path: Path):
    state = tmp_path / "s.sqlite3"
    bot = civicbot_make_bot(state=state)
    bot.publish(PostDraft(text="Conseil municipal jeudi", dedup_key="cm:2026-12-10"))
    [again] = bot.publish(PostDraft(text="Conseil municipal jeudi", dedup_key="cm:2026-12-10"))
    assert again.skipped == "already posted"
    bot.stop()
    restarted = civicbot_make_bot(state=state)
    [after] = restarted.publish(PostDraft(text="Conseil municipal jeudi", dedup_key="cm:2026-12-10"))
    assert after.skipped == "already posted"
    assert len(civicbot_sandbox.statuses) == 1
    assert len(post_requests(civicbot_sandbox)) == 1


@every_server
def test_crash_between_sending_and_recording_is_resolved_by_resending(civicbot_sandbox,
                                                                     civicbot_make_bot,
                                                                     tmp_path: Path):
    state = tmp_path / "s.sqlite3"
    bot = civicbot_make_bot(state=state)
    draft = bot.publisher.prepare(PostDraft(text="Marché de Noël", dedup_key="noel"))
    # the draft was recorded as pending and sent, then the process died before recording
    bot.state.store.add_pending(bot.name, bot.publisher.plan_parts(draft))
    client = Mastodon(access_token=civicbot_sandbox.access_token,
                      api_base_url=civicbot_sandbox.url)
    original = client.status_post("Marché de Noël", idempotency_key="noel")
    bot.stop()
    restarted = civicbot_make_bot(state=state)
    restarted.start()  # resends pending drafts first
    record = restarted.state.post("noel")
    assert record.state == "sent" and record.status_id == str(original["id"])
    assert len(civicbot_sandbox.statuses) == 1
    if civicbot_sandbox.profile.honours_idempotency:
        assert len(post_requests(civicbot_sandbox)) == 2  # resent with the same key
    else:  # GoToSocial, snac: found among the latest statuses, not resent
        assert len(post_requests(civicbot_sandbox)) == 1


@pytest.mark.parametrize("profile", SERVER_PROFILES)
def test_long_text_becomes_numbered_thread_at_word_boundaries(civicbot_make_bot, profile):
    sandbox = SandboxInstance(max_characters=120, profile=profile).start()
    try:
        bot = civicbot_make_bot(sandbox=sandbox)
        words = " ".join(f"mot{i}" for i in range(80))
        [result] = bot.publish(PostDraft(text=words, dedup_key="long"))
        statuses = sandbox.statuses
        assert len(statuses) == len(result.statuses) >= 3
        texts = [bot_text(s["content"]) for s in statuses]
        total = len(texts)
        for i, text in enumerate(texts, 1):
            assert text.endswith(f"{i}/{total}")
            assert len(text) <= 120
        rebuilt = " ".join(t[: t.rfind(f"{i}/{total}")].strip()
                           for i, t in enumerate(texts, 1))
        assert rebuilt.split() == words.split()  # no word cut, none lost, order kept
        assert statuses[0]["in_reply_to_id"] is None
        for previous, status in itertools.pairwise(statuses):
            assert status["in_reply_to_id"] == previous["id"]
    finally:
        sandbox.stop()


def bot_text(html: str) -> str:
    from civicbot import html_to_text

    return html_to_text(html)


@every_server
def test_thread_of_drafts_answers_previous(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot()
    bot.publish(
        PostDraft(text="Festival : le programme 🧵", dedup_key="fest:1"),
        PostDraft(text="Vendredi : concerts", dedup_key="fest:2", in_reply_to=PREVIOUS),
        PostDraft(text="Samedi : défilé", dedup_key="fest:3", in_reply_to=PREVIOUS),
    )
    first, second, third = civicbot_sandbox.statuses
    assert second["in_reply_to_id"] == first["id"]
    assert third["in_reply_to_id"] == second["id"]


def test_media_without_alt_text_is_refused(civicbot_sandbox, civicbot_make_bot, tmp_path: Path):
    image = tmp_path / "mairie.png"
    image.write_bytes(PNG)
    bot = civicbot_make_bot()
    with capture_logs() as logs:
        [result] = bot.publish(PostDraft(text="La mairie", dedup_key="img:1",
                                         media=[Media(image, "  ")]))
    assert result.skipped and "alt text" in result.skipped
    assert civicbot_sandbox.statuses == [] and civicbot_sandbox.media == {}
    assert any(e["event"] == "post refused" for e in logs)


@every_server
def test_media_with_alt_text_is_uploaded_before_the_status(civicbot_sandbox, civicbot_make_bot,
                                                           tmp_path: Path):
    image = tmp_path / "mairie.png"
    image.write_bytes(PNG)
    bot = civicbot_make_bot()
    bot.publish(PostDraft(text="La mairie illuminée", dedup_key="img:2",
                          media=[Media(image, "Façade de la mairie illuminée")]))
    [status] = civicbot_sandbox.statuses
    [attachment] = status["media_attachments"]
    assert attachment["description"] == "Façade de la mairie illuminée"
    paths = [r.path for r in civicbot_sandbox.requests if r.method == "POST"]
    # Mastodon.py uses /api/v1/media on servers whose version is below 3.1.4 (GoToSocial 0.20)
    media = "/api/v1/media" if civicbot_sandbox.profile.name == "gotosocial" else "/api/v2/media"
    assert paths.index(media) < paths.index("/api/v1/statuses")


@every_server
def test_5xx_is_retried_with_backoff(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot()
    civicbot_sandbox.fail_next(2, status=502, path_prefix="/api/v1/statuses")
    [result] = bot.publish(PostDraft(text="Coupure d'eau rue Denis-Papin", dedup_key="eau:1"))
    assert result.status_id is not None
    assert [r.status for r in post_requests(civicbot_sandbox)] == [502, 502, 200]
    assert len(civicbot_sandbox.statuses) == 1


@every_server
def test_5xx_outage_leaves_the_post_pending_then_it_is_resent(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot()
    bot.publisher.max_attempts = 3
    civicbot_sandbox.fail_next(3, status=503, path_prefix="/api/v1/statuses")
    [result] = bot.publish(PostDraft(text="Alerte crue", dedup_key="crue:1"))
    assert result.skipped and result.skipped.startswith("pending")
    assert bot.state.post("crue:1").state == "pending"
    assert bot.publisher.resend_pending() == 1
    assert bot.state.post("crue:1").state == "sent"
    assert len(civicbot_sandbox.statuses) == 1


def test_429_waits_for_the_reset(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot()
    assert bot.publisher.max_characters == 500  # read from the instance before the 429
    civicbot_sandbox.rate_limit_next(1, reset_in=0.3)
    with capture_logs() as logs:
        [result] = bot.publish(PostDraft(text="Rappel : élections", dedup_key="rl:1"))
    assert result.status_id is not None
    assert [r.status for r in post_requests(civicbot_sandbox)] == [429, 200]
    [wait] = [e for e in logs if e["event"] == "rate limited; waiting for the reset"]
    assert 0.05 <= wait["wait_s"] <= 1.5


def test_dry_run_logs_and_records_nothing(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot(dry_run=True)
    with capture_logs() as logs:
        [result] = bot.publish(PostDraft(text="Test à blanc", dedup_key="dry:1"))
    assert result.skipped == "dry run"
    assert civicbot_sandbox.statuses == []
    assert bot.state.post("dry:1") is None
    [line] = [e for e in logs if e["event"] == "dry run: would post"]
    assert line["text"] == "Test à blanc" and line["language"] == "fr"


def test_prepare_post_can_edit_and_veto(civicbot_sandbox, civicbot_make_bot):
    class Signature:
        @hookimpl
        def civicbot_prepare_post(self, draft):
            if "interdit" in draft.text:
                raise PostVetoed("forbidden word")
            return draft.replace(text=draft.text + "\n— La mairie")

    bot = civicbot_make_bot(plugins=[Signature()])
    [ok, vetoed] = bot.publish(PostDraft(text="Bonjour", dedup_key="p:1"),
                               PostDraft(text="mot interdit", dedup_key="p:2"))
    assert vetoed.skipped and "forbidden word" in vetoed.skipped
    assert [bot_text(s["content"]) for s in civicbot_sandbox.statuses] == ["Bonjour\n— La mairie"]
    assert ok.status_id is not None


def test_paused_bot_drops_posts_except_ignore_pause(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot()
    bot.set_paused(True, by="comm@mairie")
    [dropped, sent] = bot.publish(
        PostDraft(text="Programmé", dedup_key="x:1"),
        PostDraft(text="Bot en pause.", dedup_key="x:2", ignore_pause=True))
    assert dropped.skipped == "paused"
    assert sent.status_id is not None
    assert len(civicbot_sandbox.statuses) == 1


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_reply_is_never_wider_than_the_mention(civicbot_sandbox, civicbot_make_bot, visibility):
    bot = civicbot_make_bot()
    notification = civicbot_sandbox.inject_mention("horaires ?", visibility=visibility,
                                                   acct="lea@other.example")
    bot.reply(notification["status"], "Ouvert de 8h30 à 17h.")
    [status] = civicbot_sandbox.statuses
    assert status["visibility"] == visibility
    assert status["in_reply_to_id"] == notification["status"]["id"]
    assert bot_text(status["content"]).startswith("@lea")


def test_scheduled_statuses_reads_every_page(civicbot_sandbox, civicbot_make_bot):
    from datetime import UTC, datetime, timedelta

    bot = civicbot_make_bot()
    start = datetime.now(UTC) + timedelta(days=1)
    drafts = [PostDraft(text=f"Annonce {i}", dedup_key=f"native:{i}",
                        scheduled_at=start + timedelta(days=i // 20, minutes=i))
              for i in range(45)]
    bot.publish(*drafts)
    assert len(civicbot_sandbox.scheduled_statuses) == 45
    assert len(bot.publisher.scheduled_statuses()) == 45


def test_split_counts_the_content_warning_in_the_limit(civicbot_sandbox, civicbot_make_bot):
    bot = civicbot_make_bot()
    cw = "Vigilance orange orages – Loir-et-Cher"
    text = " ".join(["Orages violents attendus en soirée."] * 30)
    [result] = bot.publish(PostDraft(text=text, dedup_key="cw:1", spoiler_text=cw))
    assert result.skipped is None and len(result.statuses) >= 2
    for status in civicbot_sandbox.statuses:
        assert status["spoiler_text"] == cw
        assert len(bot_text(status["content"])) + len(cw) <= 500


@every_server
def test_pending_older_than_the_idempotency_window_is_found_not_resent(civicbot_sandbox,
                                                                       civicbot_make_bot,
                                                                       tmp_path: Path):
    """Mastodon forgets an Idempotency-Key after one hour: a post sent just before a crash, and
    still pending when the bot comes back two hours later, is found on the server instead."""
    from datetime import UTC, datetime, timedelta

    import time_machine

    state = tmp_path / "s.sqlite3"
    bot = civicbot_make_bot(state=state)
    sent = bot.publisher.prepare(PostDraft(
        text="@lea@ville.example Le marché est déplacé place Louis-XII : https://ville.example/m",
        dedup_key="marche"))
    never = bot.publisher.prepare(PostDraft(text="Jamais envoyé", dedup_key="jamais"))
    with time_machine.travel(datetime.now(UTC) - timedelta(hours=2), tick=False):
        bot.state.store.add_pending(bot.name, bot.publisher.plan_parts(sent)
                                    + bot.publisher.plan_parts(never))
    client = Mastodon(access_token=civicbot_sandbox.access_token,
                      api_base_url=civicbot_sandbox.url)
    original = client.status_post(sent.text)  # it did reach the server before the crash
    bot.stop()
    with capture_logs() as logs:
        restarted = civicbot_make_bot(state=state)
        restarted.start()
    assert restarted.state.post("marche").status_id == str(original["id"])
    assert restarted.state.post("jamais").state == "sent"
    assert [bot_text(s["content"]) for s in civicbot_sandbox.statuses].count(
        bot_text(original["content"])) == 1
    assert len(civicbot_sandbox.statuses) == 2
    assert any(e["event"] == "pending post found already published; recorded, not resent"
               for e in logs)
