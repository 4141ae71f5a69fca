"""Review findings on scheduled_posts: Windows line endings, the repeated hour at the end of
summer time (handled by the core scheduler), template typos found at load time."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from scheduled_posts_helpers import config, paris, run_due, texts, write_post
from structlog.testing import capture_logs

import civicbot_scheduled_posts as plugin


def _sent_texts(sandbox) -> list[str]:
    return [r.body["status"] for r in sandbox.requests
            if r.method == "POST" and r.path == "/api/v1/statuses" and r.status == 200]


def test_a_file_saved_on_windows_posts_without_carriage_returns(civicbot_sandbox,
                                                                civicbot_make_bot, tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "marche.md").write_bytes(
        "\ufeff---\r\nat: 2026-05-02T08:00:00+02:00\r\n---\r\n"
        "Marché de producteurs ce samedi.\r\n\r\nPlace Louis-XII, de 8 h à 13 h.\r\n"
        .encode("utf-8"))
    bot = civicbot_make_bot(plugins=[plugin], config=config(posts_dir=str(posts)))
    bot.start()
    bot.scheduler.run(bot.jobs["marche"], paris(2026, 5, 2, 8, 0))
    assert _sent_texts(civicbot_sandbox) == [
        "Marché de producteurs ce samedi.\n\nPlace Louis-XII, de 8 h à 13 h."]


def test_a_fixed_time_cron_post_goes_out_once_when_summer_time_ends(civicbot_sandbox,
                                                                    civicbot_make_bot,
                                                                    tmp_path):
    posts = [{"id": "nuit", "cron": "30 2 * * *", "text": "Éclairage public : coupure de nuit."}]
    # 2026-10-25: in Paris, 03:00 CEST becomes 02:00 CET, so 02:30 happens twice
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)   # 02:30+02:00
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30+01:00
    with time_machine.travel(datetime(2026, 10, 25, 0, 0, tzinfo=UTC), tick=False) as traveller:
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts))
        bot.start()
        traveller.move_to(datetime(2026, 10, 25, 0, 31, tzinfo=UTC))
        run_due(bot, "nuit", first)
        traveller.move_to(datetime(2026, 10, 25, 1, 31, tzinfo=UTC))
        run_due(bot, "nuit", second)
    assert texts(civicbot_sandbox.statuses) == ["Éclairage public : coupure de nuit."]


def test_a_template_typo_is_reported_at_load_with_the_post_and_file(civicbot_make_bot, tmp_path):
    posts = tmp_path / "posts"
    path = write_post(posts, "voeux.md", "at: 2027-01-01T10:00:00+01:00",
                      "Bonne année ! Programme sur {{ sit }}")
    with capture_logs() as logs:
        bot = civicbot_make_bot(plugins=[plugin], config=config(
            [{"id": "marche", "cron": "0 8 * * 6", "text": "Marché : {{ site }}/marche"}],
            posts_dir=str(posts), vars={"site": "https://www.blois.fr"}))
        assert "voeux" in bot.jobs
    problems = [(e["post"], e["file"], e["error"]) for e in logs
                if e["event"] == "post text cannot be written; the post will fail unless it "
                                 "is fixed"]
    assert problems == [("voeux", str(path), "post 'voeux': template error: 'sit' is undefined")]
