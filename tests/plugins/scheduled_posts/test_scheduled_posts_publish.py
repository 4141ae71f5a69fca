"""What a post looks like on the instance: media with alt text, threads, pin, templates, preview."""

from __future__ import annotations

import json
from datetime import timedelta

import time_machine
from scheduled_posts_helpers import config, paris, texts, tiny_png

import civicbot_scheduled_posts as plugin
from civicbot.cli import main
from civicbot.testing import every_server


@every_server
def test_media_is_uploaded_with_its_alt_text_before_the_status(civicbot_sandbox,
                                                               civicbot_make_bot, tmp_path):
    image = tmp_path / "img" / "mairie.png"
    image.parent.mkdir()
    image.write_bytes(tiny_png())
    post = {"id": "horaires-noel", "at": "2026-12-20T09:00:00+01:00",
            "text": "Horaires d'ouverture de la mairie pendant les fêtes.",
            "spoiler_text": "Horaires des fêtes", "visibility": "unlisted",
            "media": [{"path": str(image), "description": "Façade de la mairie illuminée"}]}
    bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
    bot.start()
    [result] = bot.scheduler.run(bot.jobs["horaires-noel"], paris(2026, 12, 20, 9, 0))
    assert result.skipped is None
    posts = [r for r in civicbot_sandbox.requests if r.method == "POST"
             and (r.path.endswith("/media") or r.path == "/api/v1/statuses")]
    assert [r.path.rsplit("/", 1)[1] for r in posts] == ["media", "statuses"]
    assert posts[0].body["description"] == "Façade de la mairie illuminée"
    [status] = civicbot_sandbox.statuses
    [attachment] = status["media_attachments"]
    assert attachment["description"] == "Façade de la mairie illuminée"
    assert attachment["type"] == "image"
    assert posts[1].body["media_ids"] in (attachment["id"], [attachment["id"]])
    assert (status["spoiler_text"], status["visibility"]) == ("Horaires des fêtes", "unlisted")


@every_server
def test_a_thread_is_posted_in_order_as_a_reply_chain(civicbot_sandbox, civicbot_make_bot):
    post = {"id": "festival", "at": "2026-07-10T18:00:00+02:00", "visibility": "unlisted",
            "text": "Le festival Bloisirs commence ce soir ! 🧵",
            "thread": ["18 h : ouverture au château.", "20 h : concert place Louis-XII.",
                       "23 h : feu d'artifice sur la Loire."]}
    bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
    bot.start()
    results = bot.scheduler.run(bot.jobs["festival"], paris(2026, 7, 10, 18, 0))
    assert [r.skipped for r in results] == [None] * 4
    statuses = civicbot_sandbox.statuses
    assert texts(statuses) == [
        "Le festival Bloisirs commence ce soir ! 🧵", "18 h : ouverture au château.",
        "20 h : concert place Louis-XII.", "23 h : feu d'artifice sur la Loire."]
    assert [s["in_reply_to_id"] for s in statuses] == [None] + [s["id"] for s in statuses[:-1]]
    assert {s["visibility"] for s in statuses} == {"unlisted"}
    assert [r.draft.dedup_key for r in results] == [
        "scheduled_posts:festival:2026-07-10T16:00:00+00:00",
        "scheduled_posts:festival:2026-07-10T16:00:00+00:00:thread2",
        "scheduled_posts:festival:2026-07-10T16:00:00+00:00:thread3",
        "scheduled_posts:festival:2026-07-10T16:00:00+00:00:thread4",
    ]


def test_pin_and_templates_with_vars_and_babel_dates(civicbot_sandbox, civicbot_make_bot):
    posts = [
        {"id": "lundi", "cron": "0 9 * * 1", "pin": True,
         "text": "Bonne semaine ! Agenda du {{ now | format_date('d MMMM') }} : {{ site }}/agenda"
                 " — {{ vars.ville }}"},
        {"id": "monday", "cron": "0 9 * * 1", "language": "en",
         "text": "Have a good week! Today is {{ date }}."},
    ]
    bot = civicbot_make_bot(plugins=[plugin], config=config(
        posts, vars={"site": "https://www.blois.fr", "ville": "Blois"}))
    bot.start()
    with time_machine.travel(paris(2026, 10, 26, 9, 0, 30), tick=False):
        bot.scheduler.run(bot.jobs["lundi"], paris(2026, 10, 26, 9, 0))
        bot.scheduler.run(bot.jobs["monday"], paris(2026, 10, 26, 9, 0))
    first, second = civicbot_sandbox.statuses
    assert texts([first, second]) == [
        "Bonne semaine ! Agenda du 26 octobre : https://www.blois.fr/agenda — Blois",
        "Have a good week! Today is Monday 26 October 2026.",
    ]
    assert first["pinned"] is True
    assert (first["language"], second["language"]) == ("fr", "en")


def test_a_template_error_names_the_post_and_posts_nothing(civicbot_sandbox, civicbot_make_bot):
    post = {"id": "voeux", "at": "2027-01-01T10:00:00+01:00",
            # (a plain unknown name such as {{ prenom }} is refused when the config is loaded)
            "text": "Bonne année {{ vars.prenom }} !"}
    bot = civicbot_make_bot(plugins=[plugin], config=config([post]))
    bot.start()
    assert bot.scheduler.run(bot.jobs["voeux"], paris(2027, 1, 1, 10, 0)) == []
    assert bot.scheduler.failures == 1
    assert civicbot_sandbox.statuses == []


def _write_config(tmp_path, section: str) -> str:
    image = tmp_path / "img" / "chateau.png"
    image.parent.mkdir(exist_ok=True)
    image.write_bytes(tiny_png())
    path = tmp_path / "config.yaml"
    path.write_text(
        "mastodon:\n  api_base_url: sandbox\ntimezone: Europe/Paris\nstate: state.sqlite3\n"
        "plugins:\n  scheduled_posts:\n" + section, encoding="utf-8")
    return str(path)


def test_cli_preview_prints_json_lines(tmp_path, capsys):
    cfg = _write_config(tmp_path, """\
    vars: {site: "https://www.blois.fr"}
    posts:
      - id: festival
        cron: "0 18 10-12 7 *"
        text: "Festival, {{ date }} : programme sur {{ site }}"
        spoiler_text: Festival
        media: [{path: img/chateau.png, description: "Le château de Blois au coucher du soleil"}]
        thread: ["Concert à 20 h.", "Feu d'artifice à 23 h."]
""")
    code = main(["preview", "festival", "--config", cfg, "--at", "2026-07-10T18:00:00+02:00",
                 "--json"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    key = "scheduled_posts:festival:2026-07-10T16:00:00+00:00"
    common = {"channel": "mastodon", "visibility": "public", "spoiler_text": "Festival",
              "language": "fr", "scheduled_at": None}
    assert lines == [
        {**common, "text": "Festival, vendredi 10 juillet 2026 : programme sur https://www.blois.fr",
         "in_reply_to": None, "dedup_key": key,
         "media": [{"path": str(tmp_path / "img" / "chateau.png"),
                    "description": "Le château de Blois au coucher du soleil"}]},
        {**common, "text": "Concert à 20 h.", "in_reply_to": "previous", "media": [],
         "dedup_key": f"{key}:thread2"},
        {**common, "text": "Feu d'artifice à 23 h.", "in_reply_to": "previous", "media": [],
         "dedup_key": f"{key}:thread3"},
    ]


def test_cli_preview_of_a_broken_template_exits_1_with_the_reason(tmp_path, capsys):
    cfg = _write_config(tmp_path, """\
    posts:
      - id: voeux
        at: 2027-01-01T10:00:00+01:00
        text: "Bonne année {{ vars.prenom }} !"
""")
    assert main(["preview", "voeux", "--config", cfg, "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error: post 'voeux': template error: " in captured.err
    assert "has no attribute 'prenom'" in captured.err


def test_an_unknown_name_in_a_post_is_a_config_error(tmp_path, capsys):
    cfg = _write_config(tmp_path, """\
    posts:
      - id: voeux
        at: 2027-01-01T10:00:00+01:00
        text: "Bonne année {{ prenom }} !"
""")
    assert main(["preview", "voeux", "--config", cfg, "--json"]) == 2
    assert "unknown name prenom" in capsys.readouterr().err


def test_cli_jobs_lists_posts_by_id(tmp_path, capsys):
    cfg = _write_config(tmp_path, """\
    posts:
      - id: lundi
        cron: "0 9 * * 1"
        text: "Bonne semaine !"
      - id: horaires-noel
        at: 2026-12-20T09:00:00+01:00
        text: "Horaires des fêtes."
""")
    with time_machine.travel(paris(2026, 12, 1, 12, 0), tick=False):
        assert main(["jobs", "--config", cfg]) == 0
    lines = {line.split("\t")[0]: line.split("\t")[1:]
             for line in capsys.readouterr().out.splitlines()}
    assert lines["lundi"] == ["scheduled_posts", "cron 0 9 * * 1",
                              "next: 2026-12-07T09:00:00+01:00"]
    assert lines["horaires-noel"] == ["scheduled_posts", "at 2026-12-20T09:00:00+01:00",
                                      "next: 2026-12-20T09:00:00+01:00"]


def test_cli_run_job_posts_now_and_only_once(tmp_path, capsys):
    cfg = _write_config(tmp_path, """\
    posts:
      - id: lundi
        cron: "0 9 * * 1"
        text: "Bonne semaine !"
""")
    with time_machine.travel(paris(2026, 12, 1, 12, 0), tick=False) as traveller:
        assert main(["run-job", "lundi", "--config", cfg]) == 0
        first = capsys.readouterr().out
        traveller.shift(timedelta(milliseconds=100))  # same second: same dedup key
        assert main(["run-job", "lundi", "--config", cfg]) == 0
        second = capsys.readouterr().out
    assert first.startswith("scheduled_posts:lundi:2026-12-01T11:00:00+00:00: posted ")
    assert second == "scheduled_posts:lundi:2026-12-01T11:00:00+00:00: already posted\n"
