"""The news relay against the sandbox: no flood, no duplicates, failures change nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from news_support import NOW, last_outcome, poll, rss, sent, sent_texts

from civicbot.testing import every_server

ITEMS = [{"n": n} for n in (3, 2, 1)]


@every_server
def test_first_read_posts_nothing_then_a_new_item_is_posted_once(news_bot, web,
                                                                 civicbot_sandbox):
    web.add("/feed.xml", rss(ITEMS), "application/rss+xml")
    bot = news_bot()
    poll(bot)
    assert sent_texts(civicbot_sandbox) == []
    assert last_outcome(bot) == "ok"
    web.add("/feed.xml", rss([{"n": 4, "title": "Fermeture de la piscine"}, *ITEMS]),
            "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=10))
    poll(bot, at=NOW + timedelta(minutes=20))
    texts = sent_texts(civicbot_sandbox)
    assert len(texts) == 1
    assert texts[0].startswith("📰 Fermeture de la piscine")
    assert "https://www.vendome-exemple.fr/actualites/4/" in texts[0]


def test_backfill_posts_the_newest_items_on_the_first_read(news_bot, web, civicbot_sandbox):
    web.add("/feed.xml", rss(ITEMS), "application/rss+xml")
    poll(news_bot(backfill=2))
    assert [t.splitlines()[0] for t in sent_texts(civicbot_sandbox)] == [
        "📰 Actualité n° 2", "📰 Actualité n° 3"]


def test_an_edited_item_is_not_posted_again(news_bot, web, civicbot_sandbox):
    web.add("/feed.xml", rss(ITEMS), "application/rss+xml")
    bot = news_bot()
    poll(bot)
    web.add("/feed.xml", rss([{"n": 4}, *ITEMS]), "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=10))
    web.add("/feed.xml", rss([{"n": 4, "title": "Actualité n° 4 (mise à jour)",
                               "summary": "Nouveau résumé."}, *ITEMS]), "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=20))
    assert len(sent(civicbot_sandbox)) == 1


def test_an_item_that_leaves_the_feed_and_comes_back_is_not_posted_again(news_bot, web,
                                                                          civicbot_sandbox):
    web.add("/feed.xml", rss(ITEMS), "application/rss+xml")
    bot = news_bot()
    poll(bot)
    web.add("/feed.xml", rss([{"n": 4}, *ITEMS]), "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=10))
    web.add("/feed.xml", rss(ITEMS), "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=20))
    web.add("/feed.xml", rss([{"n": 4}, *ITEMS]), "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=30))
    assert len(sent(civicbot_sandbox)) == 1


def test_a_failing_feed_is_never_everything_new(news_bot, web, civicbot_sandbox):
    full = rss([{"n": n} for n in range(10, 0, -1)])
    web.add("/feed.xml", full, "application/rss+xml")
    bot = news_bot()
    poll(bot)
    web.add("/feed.xml", b"oops", "text/plain", status=500)
    poll(bot, at=NOW + timedelta(minutes=10))
    assert last_outcome(bot) == "error"
    source = bot.state.namespace("sources").get("news:actus")
    assert source["ok"] is False and "500" in source["error"]
    web.add("/feed.xml", b"", "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=20))
    assert last_outcome(bot) == "error"
    web.add("/feed.xml", b"<html><body>Site en maintenance</body></html>", "text/html")
    poll(bot, at=NOW + timedelta(minutes=30))
    assert last_outcome(bot) == "error"
    web.add("/feed.xml", rss([{"n": 99, "title": "Page d'erreur"}]), "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=40))  # 1 item where there are usually 10
    assert last_outcome(bot) == "error"
    web.add("/feed.xml", full, "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=50))
    assert last_outcome(bot) == "ok"
    assert bot.state.namespace("sources").get("news:actus")["ok"] is True
    assert sent(civicbot_sandbox) == []


def test_a_feed_that_really_shrinks_is_accepted_after_three_reads(news_bot, web,
                                                                   civicbot_sandbox):
    web.add("/feed.xml", rss([{"n": n} for n in range(10, 0, -1)]), "application/rss+xml")
    bot = news_bot()
    poll(bot)
    web.add("/feed.xml", rss([{"n": 11}, {"n": 10}]), "application/rss+xml")
    outcomes = []
    for minutes in (10, 20, 30):
        poll(bot, at=NOW + timedelta(minutes=minutes))
        outcomes.append(last_outcome(bot))
    assert outcomes == ["error", "error", "ok"]
    assert [t.splitlines()[0] for t in sent_texts(civicbot_sandbox)] == ["📰 Actualité n° 11"]


def test_a_rebuilt_feed_with_new_guids_and_the_same_links_posts_nothing(news_bot, web,
                                                                        civicbot_sandbox):
    web.add("/feed.xml", rss(ITEMS), "application/rss+xml")
    bot = news_bot()
    poll(bot)
    rebuilt = [{"n": n, "guid": f"https://www.vendome-exemple.fr/?p={900 + n}",
                "link": f"http://vendome-exemple.fr/actualites/{n}?utm_source=rss&utm_campaign=x"}
               for n in (3, 2, 1)]
    web.add("/feed.xml", rss(rebuilt), "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=10))
    assert sent(civicbot_sandbox) == []
    assert last_outcome(bot) == "ok"


def test_twenty_new_items_come_out_three_per_read_in_publication_order(news_bot, web,
                                                                       civicbot_sandbox):
    web.add("/feed.xml", rss(ITEMS), "application/rss+xml")
    bot = news_bot()
    poll(bot)
    # a feed keeps its 10 newest items only: the waiting ones are kept by civicbot, not the feed
    fresh = [{"n": n} for n in range(23, 3, -1)]
    web.add("/feed.xml", rss(fresh[:10]), "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=10))
    assert len(sent(civicbot_sandbox)) == 3
    for step in range(2, 9):
        web.add("/feed.xml", rss(fresh[:10]), "application/rss+xml")
        poll(bot, at=NOW + timedelta(minutes=10 * step))
    titles = [t.splitlines()[0] for t in sent_texts(civicbot_sandbox)]
    # the ten in the feed when it was read are posted oldest first, none twice
    assert titles == [f"📰 Actualité n° {n}" for n in range(14, 24)]


def test_filters_include_and_exclude_categories_and_keywords(news_bot, web, civicbot_sandbox):
    from news_support import fixture

    web.add("/wp.xml", b"<rss version=\"2.0\"><channel><title>x</title></channel></rss>",
            "application/rss+xml")
    bot = news_bot("/wp.xml", filters={"exclude_categories": ["marchés publics"],
                                       "exclude_keywords": ["patinoire"]})
    with_items = fixture("wordpress_rss.xml")
    web.add("/wp.xml", with_items.replace(b"<item>", b"<item>", 0), "application/rss+xml")
    # the empty first read failed (a feed with no item is not trusted): learn from the real one
    poll(bot)
    assert sent(civicbot_sandbox) == []
    bot2_items = rss([
        {"n": 7, "title": "Résultats du marché public de voirie", "categories": ["Marchés publics"]},
        {"n": 6, "title": "La patinoire ferme plus tôt", "categories": ["Sport"]},
        {"n": 5, "title": "Collecte des encombrants", "categories": ["Déchets"]},
    ])
    web.add("/wp.xml", bot2_items + b"", "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=10))
    assert [t.splitlines()[0] for t in sent_texts(civicbot_sandbox)] == [
        "📰 Collecte des encombrants"]


def test_include_categories_keeps_only_those(news_bot, web, civicbot_sandbox):
    web.add("/feed.xml", rss(ITEMS), "application/rss+xml")
    bot = news_bot(filters={"include_categories": ["Culture"]})
    poll(bot)
    web.add("/feed.xml", rss([{"n": 5, "categories": ["culture", "Musique"]},
                              {"n": 4, "categories": ["Travaux"]}, *ITEMS]),
            "application/rss+xml")
    poll(bot, at=NOW + timedelta(minutes=10))
    assert [t.splitlines()[0] for t in sent_texts(civicbot_sandbox)] == ["📰 Actualité n° 5"]


def test_civicbot_status_says_when_a_feed_fails(news_bot, web, civicbot_sandbox, capsys,
                                                tmp_path):
    from civicbot.cli import main

    web.add("/feed.xml", rss(ITEMS), "application/rss+xml")
    bot = news_bot()
    poll(bot)
    web.add("/feed.xml", b"nope", "text/plain", status=503)
    poll(bot, at=NOW + timedelta(minutes=10))
    state_file = Path(bot.state.store.path)
    config = tmp_path / "civicbot.yaml"
    config.write_text(f"mastodon: {{api_base_url: sandbox}}\nstate: {state_file}\n",
                      encoding="utf-8")
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "source news:actus FAILING since 2026-12-07T09:10:00+01:00" in out
    assert "503" in out
