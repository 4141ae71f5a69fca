"""Posts written as Markdown files: loading, bad files, hot reload while running."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from scheduled_posts_helpers import (
    config,
    job_run,
    paris,
    run_due,
    texts,
    tiny_png,
    wait_until,
    write_post,
)
from structlog.testing import capture_logs

import civicbot_scheduled_posts as plugin


def _errors(logs):
    return {e["file"].rsplit("/", 1)[1]: e["error"] for e in logs
            if e["event"] == "invalid post file; skipped"}


def test_post_files_are_loaded_with_front_matter_body_and_relative_media(civicbot_sandbox,
                                                                        civicbot_make_bot,
                                                                        tmp_path):
    posts = tmp_path / "posts"
    (posts / "img").mkdir(parents=True)
    (posts / "img" / "affiche.png").write_bytes(tiny_png())
    write_post(posts, "fete-musique.md", """
at: 2026-06-21T10:00:00+02:00
visibility: unlisted
language: fr
media:
  - path: img/affiche.png
    description: Affiche de la Fête de la musique, une guitare sur fond orange
thread:
  - "Scène principale place Louis-XII à partir de 18 h."
""", "C'est la Fête de la musique à Blois !\n\nProgramme : https://www.blois.fr/fete")
    write_post(posts / "2026", "rentree.md", 'id: rentree-scolaire\ncron: "0 8 1 9 *"',
               "Bonne rentrée à tous les élèves !")
    write_post(posts, "_brouillon.md", "at: 2026-05-01T10:00:00+02:00", "Pas encore prêt.")
    bot = civicbot_make_bot(plugins=[plugin], config=config(posts_dir=str(posts)))
    assert sorted(bot.jobs) == ["core.approvals", "core.engagement", "core.retry-pending",
                                "fete-musique", "rentree-scolaire", "scheduled_posts.reload"]
    assert bot.jobs["scheduled_posts.reload"].schedule.every == timedelta(seconds=10)
    bot.start()
    bot.scheduler.run(bot.jobs["fete-musique"], paris(2026, 6, 21, 10, 0))
    first, second = civicbot_sandbox.statuses
    assert texts([first, second]) == [
        "C'est la Fête de la musique à Blois !\n\nProgramme : https://www.blois.fr/fete",
        "Scène principale place Louis-XII à partir de 18 h."]
    assert second["in_reply_to_id"] == first["id"]
    assert first["media_attachments"][0]["description"] == (
        "Affiche de la Fête de la musique, une guitare sur fond orange")


def test_bad_files_are_reported_by_name_and_the_others_still_go_out(civicbot_sandbox,
                                                                   civicbot_make_bot, tmp_path):
    posts = tmp_path / "posts"
    write_post(posts, "bon.md", "at: 2026-05-08T10:00:00+02:00", "Cérémonie du 8 mai à 10 h.")
    write_post(posts, "casse.md", "at: [2026-05-08", "Front matter cassé.")
    write_post(posts, "sans-alt.md", "at: 2026-05-08T11:00:00+02:00\nmedia:\n  - path: a.png",
               "Image sans description.")
    write_post(posts, "inconnu.md", "at: 2026-05-08T12:00:00+02:00\nvisibilite: public",
               "Champ mal orthographié.")
    write_post(posts, "doublon.md", "id: bon\nat: 2026-05-09T10:00:00+02:00", "Même id.")
    (posts / "pas-de-front-matter.md").write_text("Juste du texte.\n", encoding="utf-8")
    with capture_logs() as logs:
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts_dir=str(posts)))
        jobs = sorted(bot.jobs)
    assert jobs == ["bon", "core.approvals", "core.engagement", "core.retry-pending",
                    "scheduled_posts.reload"]
    errors = _errors(logs)
    assert sorted(errors) == ["casse.md", "doublon.md", "inconnu.md", "pas-de-front-matter.md",
                              "sans-alt.md"]
    assert all(message.startswith(str(posts / name) + ": ") for name, message in errors.items())
    assert errors["casse.md"].endswith(
        "line 3: broken front matter: expected ',' or ']', but got '<stream end>'")
    assert errors["sans-alt.md"].endswith(
        "post 'sans-alt': media 'a.png' has no description (alt text); write what the image "
        "shows, for people who cannot see it")
    assert errors["inconnu.md"].endswith("visibilite: unknown field (check its spelling)")
    assert errors["doublon.md"].endswith(f"id 'bon' is already used by {posts / 'bon.md'}")
    assert "no front matter" in errors["pas-de-front-matter.md"]
    with time_machine.travel(paris(2026, 5, 8, 10, 0, 5), tick=False):
        bot.start()
        wait_until(lambda: job_run(bot, "bon") == (paris(2026, 5, 8, 10, 0), "ok"))
    assert texts(civicbot_sandbox.statuses) == ["Cérémonie du 8 mai à 10 h."]


def test_an_id_used_in_the_config_wins_over_a_file(civicbot_make_bot, tmp_path):
    posts = tmp_path / "posts"
    write_post(posts, "lundi.md", 'cron: "0 10 * * 1"', "Version fichier.")
    with capture_logs() as logs:
        bot = civicbot_make_bot(plugins=[plugin], config=config(
            [{"id": "lundi", "cron": "0 9 * * 1", "text": "Version config."}],
            posts_dir=str(posts)))
        assert bot.jobs["lundi"].schedule.cron == "0 9 * * 1"
    assert _errors(logs)["lundi.md"].endswith("id 'lundi' is already used by the config")


def test_reload_reschedules_changed_files_and_cancels_deleted_ones(civicbot_sandbox,
                                                                   civicbot_make_bot, tmp_path):
    posts = tmp_path / "posts"
    noel = write_post(posts, "noel.md", "at: 2026-12-20T09:00:00+01:00", "Horaires de Noël.")
    marche = write_post(posts, "marche.md", 'cron: "0 8 * * 6"', "C'est jour de marché !")
    with time_machine.travel(paris(2026, 12, 1, 12, 0), tick=False) as traveller:
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts_dir=str(posts)))
        bot.start()
        assert not plugin.reload(bot)  # nothing changed
        write_post(posts, "noel.md", "at: 2026-12-21T10:00:00+01:00",
                   "Horaires de Noël (mis à jour).")
        marche.unlink()
        write_post(posts, "voeux.md", "at: 2027-01-01T10:00:00+01:00", "Bonne année !")
        report = plugin.reload(bot)
        assert (report.added, report.changed, report.removed) == (["voeux"], ["noel"],
                                                                  ["marche"])
        next_runs = bot.scheduler.next_run_times()
        assert "marche" not in next_runs and "marche" not in bot.jobs
        assert next_runs["noel"] == paris(2026, 12, 21, 10, 0)
        assert next_runs["voeux"] == paris(2027, 1, 1, 10, 0)
        # a broken edit: reported with the file name, and the post is no longer planned
        noel.write_text("---\nat: 2026-12-21T10:00:00+01:00\nalt: x\n---\nCassé\n",
                        encoding="utf-8")
        with capture_logs() as logs:
            report = plugin.reload(bot)
            assert not plugin.reload(bot)  # the same broken file is not reported twice
        assert report.removed == ["noel"]
        assert _errors(logs) == {"noel.md": f"{noel}: alt: unknown field (check its spelling)"}
        write_post(posts, "noel.md", "at: 2026-12-21T10:00:00+01:00", "Horaires de Noël, enfin.")
        assert plugin.reload(bot).added == ["noel"]
        traveller.move_to(paris(2026, 12, 21, 10, 0, 1))
        run_due(bot, "noel", paris(2026, 12, 21, 10, 0))
    assert texts(civicbot_sandbox.statuses) == ["Horaires de Noël, enfin."]


def test_the_reload_job_picks_up_new_files_while_running(civicbot_sandbox, civicbot_make_bot,
                                                         tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    start = paris(2026, 9, 1, 12, 0)
    with time_machine.travel(start, tick=False) as traveller:
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts_dir=str(posts),
                                                                reload_interval="30s"))
        bot.start()
        write_post(posts, "journees-patrimoine.md", "at: 2026-09-01T12:01:00+02:00",
                   "Journées du patrimoine : le château est gratuit ce week-end !")
        traveller.move_to(start + timedelta(seconds=31))
        run_due(bot, "scheduled_posts.reload", start + timedelta(seconds=30))
        assert bot.scheduler.next_run_times()["journees-patrimoine"] == paris(2026, 9, 1, 12, 1)
        traveller.move_to(paris(2026, 9, 1, 12, 1, 2))
        run_due(bot, "journees-patrimoine", paris(2026, 9, 1, 12, 1))
    assert texts(civicbot_sandbox.statuses) == [
        "Journées du patrimoine : le château est gratuit ce week-end !"]


def test_a_post_already_published_is_not_published_again_after_an_edit(civicbot_sandbox,
                                                                      civicbot_make_bot,
                                                                      tmp_path):
    posts = tmp_path / "posts"
    write_post(posts, "expo.md", "at: 2026-04-02T10:00:00+02:00", "Nouvelle exposition !")
    with time_machine.travel(paris(2026, 4, 2, 9, 59), tick=False) as traveller:
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts_dir=str(posts)))
        bot.start()
        traveller.move_to(paris(2026, 4, 2, 10, 0, 1))
        run_due(bot, "expo", paris(2026, 4, 2, 10, 0))
        write_post(posts, "expo.md", "at: 2026-04-02T10:00:00+02:00",
                   "Nouvelle exposition (coquille corrigée) !")
        assert plugin.reload(bot).changed == ["expo"]
        assert bot.scheduler.next_run_times().get("expo") is None
    assert texts(civicbot_sandbox.statuses) == ["Nouvelle exposition !"]


def test_a_yaml_alias_bomb_in_a_post_file_is_refused_before_anything_is_built(
        civicbot_make_bot, tmp_path):
    """Nine lines of aliases expand to a billion values with a plain YAML load (issue 13's
    leftover: post files were read without the bound of the config file)."""
    posts = tmp_path / "posts"
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    bomb += [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]"
             for i in range(8)]
    write_post(posts, "bombe.md", "at: 2026-05-08T10:00:00+02:00\n" + "\n".join(bomb),
               "Texte.")
    write_post(posts, "enorme.md", "at: 2026-05-08T10:00:00+02:00\n" + "# x\n" * 5000,
               "Texte.")
    write_post(posts, "bon.md", "at: 2026-05-08T10:00:00+02:00", "Cérémonie du 8 mai à 10 h.")
    with capture_logs() as logs:
        bot = civicbot_make_bot(plugins=[plugin], config=config(posts_dir=str(posts)))
        jobs = sorted(bot.jobs)
    errors = _errors(logs)
    assert sorted(errors) == ["bombe.md", "enorme.md"]
    assert errors["bombe.md"].endswith(
        "line 4: broken front matter: YAML aliases (*name) are not allowed in a post file; "
        "write the value out")
    assert "20,000 a post's settings need" in errors["enorme.md"]
    assert "bon" in jobs
