"""Config validation: errors name the post and come with the config file's line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from scheduled_posts_helpers import config, write_post

import civicbot_scheduled_posts as plugin
from civicbot import ConfigError
from civicbot.cli import main
from civicbot_scheduled_posts.post_files import list_post_files, load_post_file

HEADER = "mastodon:\n  api_base_url: sandbox\nstate: state.sqlite3\nplugins:\n  scheduled_posts:\n"


def _check(tmp_path: Path, section: str, capsys: pytest.CaptureFixture[str],
           files: tuple[str, ...] = ()) -> tuple[int, str]:
    for name in files:  # folders (ending with /) and files the config names
        target = tmp_path / name
        if name.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"")
    path = tmp_path / "config.yaml"
    path.write_text(HEADER + section, encoding="utf-8")
    code = main(["check-config", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_config_errors_name_the_post_with_line_numbers(tmp_path, capsys):
    code, output = _check(tmp_path, """\
    posts:
      - id: horaires-noel
        at: 2026-12-20T09:00:00+01:00
        text: "Horaires des fêtes"
        media: [{path: img/mairie.jpg}]
      - id: lundi
        cron: "0 9 * * 8"
        text: "Bonne semaine !"
      - id: festival
        cron: "0 9 * * 1"
        every: 2h
        text: "Festival"
      - id: voeux
        at: 2027-01-01T10:00:00+01:00
        text: "Bonne année {{ prenom !"
      - id: lundi
        at: 2027-01-01T10:00:00+01:00
        text: "Doublon"
""", capsys)
    assert code == 2
    cfg = tmp_path / "config.yaml"
    assert output.splitlines() == [
        f"{cfg}:7: plugins.scheduled_posts.posts[0]: post 'horaires-noel': media "
        "'img/mairie.jpg' has no description (alt text); write what the image shows, for "
        "people who cannot see it",
        f"{cfg}:12: plugins.scheduled_posts.posts[1].cron: day of week 8 is out of range in "
        "'0 9 * * 8': expected 0-7 (0 and 7 are Sunday) or mon-sun (lun-dim)",
        f"{cfg}:14: plugins.scheduled_posts.posts[2]: post 'festival': give exactly one of at, "
        "cron or every (found: cron, every)",
        f"{cfg}:18: plugins.scheduled_posts.posts[3]: post 'voeux': text: template error (line "
        "1 of the text): unexpected char '!' at 22",
    ]


def test_reserved_vars_are_errors(tmp_path, capsys):
    code, output = _check(tmp_path, """\
    vars: {now: "x", site: "https://www.blois.fr"}
""", capsys)
    assert code == 2
    assert output.endswith(
        "config.yaml:6: plugins.scheduled_posts.vars: these names are reserved in templates: "
        "now\n")


def test_duplicate_ids_are_errors(tmp_path, capsys):
    code, output = _check(tmp_path, """\
    posts:
      - {id: lundi, cron: "0 9 * * 1", text: "A"}
      - {id: lundi, cron: "0 10 * * 1", text: "B"}
""", capsys)
    assert code == 2
    assert output.endswith(
        "config.yaml:5: plugins.scheduled_posts: post ids must be unique; used more than once: "
        "lundi\n")


def test_the_example_sketch_validates(tmp_path, capsys):
    code, output = _check(tmp_path, """\
    misfire_grace: 1h
    posts_dir: posts/
    posts:
      - id: horaires-noel
        at: 2026-12-20T09:00:00+01:00
        text: "Horaires d'ouverture de la mairie pendant les fêtes : ..."
        media: [{path: img/mairie.jpg, description: "Façade de la mairie illuminée"}]
      - id: lundi
        cron: "0 9 * * 1"
        text: "Bonne semaine ! Retrouvez l'agenda : https://..."
        visibility: unlisted
""", capsys, files=("posts/", "img/mairie.jpg"))
    assert code == 0, output
    assert "OK" in output


@pytest.mark.parametrize(("post", "message"), [
    ({"id": "a", "at": "2026-12-20T09:00:00+01:00", "until": "2026-12-21T09:00:00+01:00",
      "text": "x"}, "post 'a': start and until only apply to cron and every posts"),
    ({"id": "b", "every": "1d", "start": "2026-12-20T09:00:00", "until": "2026-12-01T09:00:00",
      "text": "x"}, "post 'b': until must come after start"),
    ({"id": "c", "every": "0s", "text": "x"}, "post 'c': every must be a positive duration"),
    ({"id": "d", "cron": "0 9 * * 1", "text": "  "}, "post 'd': the text is empty"),
    ({"id": "e f", "cron": "0 9 * * 1", "text": "x"}, "invalid id 'e f'"),
    ({"id": "g", "cron": "0 9 * * 1", "native": True, "text": "x"},
     "post 'g': native scheduling is only for one-off posts (at)"),
    ({"id": "h", "cron": "0 9 * * 1", "text": "x", "language": "français"},
     "expected a language code such as fr or en"),
    ({"id": "i", "cron": "0 9 * * 1", "text": "x", "visibility": "everyone"},
     "expected one of 'public', 'unlisted', 'private' or 'direct'"),
    ({"id": "k", "at": "2026-12-20", "text": "x"},
     "a time is needed too, e.g. 2026-12-20T09:00:00 (a date alone would mean midnight)"),
    ({"id": "j", "cron": "0 9 * * 1", "text": "x",
      "media": [{"path": f"{n}.png", "description": "Une image"} for n in range(5)]},
     "post 'j': at most 4 images per post"),
])
def test_invalid_posts(civicbot_make_bot, post, message):
    with pytest.raises(ConfigError) as caught:
        civicbot_make_bot(plugins=[plugin], config=config([post]))
    assert message in str(caught.value)


def test_a_post_file_defaults_its_id_to_the_file_name(tmp_path):
    path = write_post(tmp_path, "journee-femmes.md", "at: 2026-03-08T09:00:00",
                      "Journée internationale des droits des femmes.")
    loaded = load_post_file(path)
    assert loaded.error is None and loaded.post is not None
    assert loaded.post.id == "journee-femmes"
    assert loaded.post.text == "Journée internationale des droits des femmes."
    assert loaded.post.at is not None and loaded.post.at.tzinfo is None


@pytest.mark.parametrize(("front", "body", "message"), [
    ("at: 2026-03-08T09:00:00\ntext: Bonjour", "", "text: write the text in the body of the file"),
    ("- at", "x", "broken front matter: expected 'key: value' lines"),
    ("at: 2026-03-08T09:00:00\npin: peut-être", "x", "pin: expected true or false"),
    ("at: 8 mars", "x", "at: expected a date and time such as 2026-12-20T09:00:00+01:00"),
    ("at: 2026-03-08T09:00:00\nmedia:\n  - path: a.png\n    description: ''", "x",
     "has no description (alt text)"),
])
def test_bad_post_files_say_why(tmp_path, front, body, message):
    path = write_post(tmp_path, "post.md", front, body)
    loaded = load_post_file(path)
    assert loaded.post is None
    assert loaded.error is not None
    assert loaded.error.startswith(f"{path}: ")
    assert message in loaded.error


def test_check_config_logs_bad_post_files_by_name(tmp_path, capsys):
    write_post(tmp_path / "posts", "casse.md", "at: 2026-12-20T09:00:00+01:00\nvisibilty: public",
               "Faute de frappe.")
    code, output = _check(tmp_path, "    posts_dir: posts/\n", capsys)
    assert code == 2  # the daemon skips the file; check-config says so and fails
    [line] = [line for line in output.splitlines() if "casse.md" in line]
    assert f"{tmp_path / 'posts' / 'casse.md'}: visibilty: unknown field" in line
    assert "the bot skips this file until it is fixed" in line


REPO = Path(__file__).resolve().parents[3]


def test_the_example_post_files_are_valid(civicbot_make_bot):
    folder = REPO / "examples" / "scheduled_posts" / "posts"
    loaded = [load_post_file(p) for p in list_post_files(folder)]
    assert [(f.path.name, f.error) for f in loaded] == [
        ("fete-de-la-musique.md", None), ("marche-du-samedi.md", None)]
    bot = civicbot_make_bot(plugins=[plugin], config=config(
        posts_dir=str(folder), vars={"site": "https://www.blois.fr"}))
    drafts = bot.scheduler.preview("fete-de-la-musique")
    assert [d.text for d in drafts[1:]] == [
        "18 h : ouverture de la scène place Louis-XII.",
        "21 h : grand concert au château. Entrée libre. Programme complet : "
        "https://www.blois.fr/fete-musique"]
    assert drafts[0].media[0].path.is_file()


def test_the_demo_section_is_valid(civicbot_make_bot, tmp_path):
    from civicbot_scheduled_posts.demo import demo_section

    section = demo_section(None, tmp_path)  # type: ignore[arg-type]  # it serves no web data
    bot = civicbot_make_bot(plugins=[plugin], config={"plugins": {"scheduled_posts": section}})
    assert {"demo-bienvenue", "demo-rappel", "demo-voeux", "visite-chateau"} <= set(bot.jobs)
    [post, reply] = bot.scheduler.preview("visite-chateau")
    assert reply.text == "Visites guidées à 14 h et 16 h, sans réservation."
    assert post.media[0].path.is_file()
