"""The Bluesky channel against a real PDS (tests/pds), with Mastodon on the sandbox."""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest

import civicbot_bluesky
from civicbot import Bot, Media, PostDraft
from civicbot_bluesky.adapt import LIMIT, graphemes


def _config(account: dict[str, Any], url: str, **extra: Any) -> dict[str, Any]:
    return {"channels": ["mastodon", "bluesky"], "language": "fr",
            "plugins": {"bluesky": {"handle": account["handle"], "service": url,
                                    "app_password": account["app_password"], **extra}}}


def _wait(predicate: Callable[[], Any], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


@pytest.fixture
def bsky_bot(civicbot_make_bot, local_pds, bsky_account) -> Callable[..., Bot]:
    def make(**extra: Any) -> Bot:
        bot = civicbot_make_bot(plugins=[civicbot_bluesky],
                                config=_config(bsky_account, local_pds.url, **extra))
        bot.start()
        return bot
    return make


def _statuses(sandbox: Any) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests if r.method == "POST" and r.path == "/api/v1/statuses"
            and r.status == 200]


def test_a_long_digest_is_an_ordered_reply_chain(bsky_bot, local_pds, bsky_account,
                                                 civicbot_sandbox):
    bot = bsky_bot()
    text = "📅 Cette semaine à Blois\n\n" + "\n".join(
        f"• Mercredi {n} décembre, 18 h 30 · Conférence « L'hiver à Blois » 🎭 — Bibliothèque "
        f"Abbé-Grégoire https://bibliotheque.example.org/agenda/conference-{n}" for n in range(8))
    bot.publish(PostDraft(text=text, dedup_key="digest:semaine"))
    records = _wait(lambda: len(local_pds.records(bsky_account["did"])) >= 3 and
                    local_pds.records(bsky_account["did"]))
    posts = [r["value"] for r in records]
    assert all(graphemes(p["text"]) <= LIMIT for p in posts)
    total = len(posts)
    assert [p["text"].rsplit("\n", 1)[1] for p in posts] == [f"{i}/{total}"
                                                             for i in range(1, total + 1)]
    assert "reply" not in posts[0]
    def ref(strong: dict[str, str]) -> tuple[str, str]:
        return strong["uri"], strong["cid"]

    for previous, record in itertools.pairwise(records):
        assert ref(record["value"]["reply"]["parent"]) == ref(previous)
        assert ref(record["value"]["reply"]["root"]) == ref(records[0])
    assert all(p["langs"] == ["fr"] for p in posts)
    assert len(_statuses(civicbot_sandbox)) >= 2  # Mastodon got its own thread


def test_facets_are_at_the_right_utf8_byte_offsets(bsky_bot, local_pds, bsky_account):
    bot = bsky_bot()
    url = "https://www.ville-exemple.fr/actualites/fête-des-lumières-2026?utm_source=masto"
    text = f"🎆 Fête des lumières : défilé à 18 h, près de l'église 🎉\nTout savoir : {url}\n" \
           "#FêteDesLumières #Blois"
    bot.publish(PostDraft(text=text, dedup_key="news:lumieres"))
    [record] = _wait(lambda: local_pds.records(bsky_account["did"]))
    post = record["value"]
    data = post["text"].encode("utf-8")
    spans = [(data[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode("utf-8"),
              f["features"][0]) for f in post["facets"]]
    assert spans == [
        ("ville-exemple.fr/actualites/f…", {"$type": "app.bsky.richtext.facet#link", "uri": url}),
        ("#FêteDesLumières", {"$type": "app.bsky.richtext.facet#tag", "tag": "FêteDesLumières"}),
        ("#Blois", {"$type": "app.bsky.richtext.facet#tag", "tag": "Blois"}),
    ]
    assert post["embed"]["$type"] == "app.bsky.embed.external"
    assert post["embed"]["external"]["uri"] == url


def test_an_image_keeps_its_alt_text_and_a_large_one_is_resized(bsky_bot, local_pds,
                                                                bsky_account, tmp_path):
    from PIL import Image

    small = tmp_path / "mairie.png"
    Image.new("RGB", (40, 30), (200, 30, 40)).save(small)
    large = tmp_path / "panorama.png"
    noise = Image.effect_noise((1500, 1500), 100).convert("RGB")
    noise.save(large)
    assert large.stat().st_size > 2_000_000
    bot = bsky_bot()
    bot.publish(PostDraft(text="La mairie illuminée.", dedup_key="img:1",
                          media=[Media(small, "Façade de la mairie illuminée en bleu")]))
    bot.publish(PostDraft(text="Vue du château.", dedup_key="img:2",
                          media=[Media(large, "Panorama du château sous la neige")]))
    records = _wait(lambda: len(local_pds.records(bsky_account["did"])) == 2 and
                    local_pds.records(bsky_account["did"]))
    embeds = [r["value"]["embed"] for r in records]
    assert [e["images"][0]["alt"] for e in embeds] == [
        "Façade de la mairie illuminée en bleu", "Panorama du château sous la neige"]
    assert embeds[0]["images"][0]["image"]["mimeType"] == "image/png"
    resized = embeds[1]["images"][0]["image"]
    assert resized["mimeType"] == "image/jpeg" and resized["size"] <= 2_000_000
    blob = local_pds.blob(bsky_account["did"], resized["ref"]["$link"])
    with Image.open(io.BytesIO(blob)) as picture:
        assert max(picture.size) <= 2000


def test_a_stopped_pds_gets_the_post_once_when_back_and_mastodon_is_not_delayed(
        bsky_bot, local_pds, bsky_account, civicbot_sandbox):
    bot = bsky_bot()
    bot.publish(PostDraft(text="Premier message.", dedup_key="a"))
    _wait(lambda: local_pds.records(bsky_account["did"]))
    local_pds.stop_pds()
    try:
        began = time.monotonic()
        [result] = bot.publish(PostDraft(text="Collecte des déchets décalée à mardi.",
                                         dedup_key="b"))
        assert result.status_id is not None      # Mastodon posted at once
        assert time.monotonic() - began < 5
        relay = bot.channel_relay
        assert relay is not None
        _wait(lambda: relay.pending("bluesky") == 1)
        relay.wakeup()
        time.sleep(0.5)
        assert relay.pending("bluesky") == 1     # still waiting, not lost
    finally:
        local_pds.start_pds()
    relay.wakeup()
    records = _wait(lambda: len(local_pds.records(bsky_account["did"])) == 2 and
                    local_pds.records(bsky_account["did"]))
    assert [r["value"]["text"] for r in records] == [
        "Premier message.", "Collecte des déchets décalée à mardi."]
    relay.wakeup()
    time.sleep(0.5)
    assert len(local_pds.records(bsky_account["did"])) == 2


def test_a_restart_of_civicbot_does_not_repost(civicbot_make_bot, local_pds, bsky_account,
                                               tmp_path):
    state = tmp_path / "state.sqlite3"
    config = _config(bsky_account, local_pds.url)
    first = civicbot_make_bot(plugins=[civicbot_bluesky], config=config, state=state)
    first.start()
    draft = PostDraft(text="Marché de Noël ouvert ce week-end.", dedup_key="marche")
    first.publish(draft)
    _wait(lambda: local_pds.records(bsky_account["did"]))
    first.stop()
    second = civicbot_make_bot(plugins=[civicbot_bluesky], config=config, state=state)
    second.start()
    second.publish(draft)
    relay = second.channel_relay
    assert relay is not None
    relay.wakeup()
    relay.flush()
    assert len(local_pds.records(bsky_account["did"])) == 1
    # the session was kept, not a new login per post
    assert second.state.namespace("bluesky").get("session")


def test_replies_to_residents_stay_on_mastodon(bsky_bot, local_pds, bsky_account,
                                               civicbot_sandbox):
    bot = bsky_bot()
    status = {"id": "123", "account": {"acct": "alice@example.org"}, "visibility": "public"}
    bot.reply(status, "Bonjour Alice !")
    bot.publish(PostDraft(text="Annonce.", dedup_key="annonce"))
    records = _wait(lambda: local_pds.records(bsky_account["did"]))
    assert [r["value"]["text"] for r in records] == ["Annonce."]
