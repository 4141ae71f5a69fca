"""``civicbot check-config`` reports everything the daemon would skip or refuse (issue 12):
cron values, post files, missing files, URLs, secrets, typos, tabs. Exit 2 and one line per
problem with file, line and key; warnings keep exit 0."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from civicbot.cli import main

SANDBOX = "mastodon:\n  api_base_url: sandbox\n"


def check(tmp_path: Path, text: str, capsys) -> tuple[int, str, str]:
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text(text, encoding="utf-8")
    code = main(["check-config", str(cfg)])
    out = capsys.readouterr()
    return code, out.out, out.err.replace(str(cfg), "CFG").replace(str(tmp_path), "DIR")


def digest(cron: str) -> str:
    return (SANDBOX + "plugins:\n  event_digest:\n    sources:\n"
            "      - {name: Ville, ics: ville.ics}\n"
            f"    digests:\n      - {{id: semaine, cron: \"{cron}\", window: this_week}}\n")


@pytest.fixture
def ics(tmp_path: Path) -> Path:
    path = tmp_path / "ville.ics"
    path.write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    return path


@pytest.mark.parametrize(("cron", "message"), [
    ("0 25 * * 1", "CFG:8: plugins.event_digest.digests[0].cron: hour 25 is out of range"),
    ("0 8 * * 8", "CFG:8: plugins.event_digest.digests[0].cron: day of week 8 is out of range"),
    ("0 8 * * lunes", "unknown day of week 'lunes' in '0 8 * * lunes': expected 0-7 (0 and 7 "
                      "are Sunday) or mon-sun (lun-dim)"),
])
def test_a_bad_cron_value_is_a_config_error(tmp_path, capsys, ics, cron, message):
    code, _, err = check(tmp_path, digest(cron), capsys)
    assert code == 2
    assert message in err


def test_weather_cron_is_checked_too(tmp_path, capsys):
    code, _, err = check(tmp_path, SANDBOX + "plugins:\n  weather:\n    place: Vendôme\n"
                         "    latitude: 47.79\n    longitude: 1.07\n"
                         "    forecast:\n      cron: \"0 25 * * *\"\n", capsys)
    assert code == 2
    assert "CFG:9: plugins.weather.forecast.cron: hour 25 is out of range" in err


def test_french_day_names_are_accepted_and_jobs_list_them(tmp_path, capsys, ics):
    code, _out, err = check(tmp_path, digest("0 8 * * lundi"), capsys)
    assert code == 0, err
    assert main(["jobs", "--config", str(tmp_path / "civicbot.yaml")]) == 0
    assert "semaine\tevent_digest\tcron 0 8 * * mon\tnext: " in capsys.readouterr().out


def posts_config(tmp_path: Path) -> str:
    return (SANDBOX + "plugins:\n  scheduled_posts:\n    posts_dir: posts/\n")


@pytest.mark.parametrize(("content", "message"), [
    ("---\nat: 11/12/2026 10h\n---\nBonjour\n",
     "DIR/posts/p.md: at: expected a date and time such as 2026-12-20T09:00:00+01:00"),
    ("---\nat: 2026-12-11T10:00:00\nmedia:\n  - path: x.png\n---\nBonjour\n",
     "has no description (alt text)"),
    ("", "DIR/posts/p.md: the file is empty"),
    ("---\nat: 2026-12-11T10:00:00\n---\nNous sommes le {{ date }\n", "template error"),
    ("---\nat: 2026-12-11T10:00:00\nmedia:\n  - {path: x.png, description: Une photo}\n---\n"
     "Bonjour\n", "DIR/posts/p.md: post 'p': image DIR/posts/x.png not found"),
    ("---\nat: 2026-12-11T10:00:00\nvisibility: [public\n---\nBonjour\n",
     "DIR/posts/p.md:4: broken front matter"),
])
def test_post_files_the_bot_would_skip_fail_the_check(tmp_path, capsys, content, message):
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "p.md").write_text(content, encoding="utf-8")
    code, out, err = check(tmp_path, posts_config(tmp_path), capsys)
    assert code == 2, out
    assert message in err
    assert "OK" not in out


def test_every_problem_is_listed_at_once(tmp_path, capsys):
    text = (SANDBOX + "plugins:\n  scheduled_posts:\n    posts_dir: absent/\n"
            "    posts:\n      - id: a\n        at: 2026-12-20T09:00:00+01:00\n"
            "        text: Bonjour\n        media:\n"
            "          - {path: nope.png, description: Une photo}\n"
            "  event_digest:\n    sources:\n      - {name: Ville, ics: ville.ics}\n"
            "      - {name: Musée, jsonld: musee.html}\n")
    code, _, err = check(tmp_path, text, capsys)
    assert code == 2
    assert "CFG:5: plugins.scheduled_posts.posts_dir: posts_dir DIR/absent does not exist" in err
    assert "CFG:11: plugins.scheduled_posts.posts[0].media[0].path: post 'a': image " \
           "DIR/nope.png not found" in err
    assert "CFG:14: plugins.event_digest.sources[0].ics: source 'Ville': file DIR/ville.ics " \
           "not found" in err
    assert "CFG:15: plugins.event_digest.sources[1].jsonld: source 'Musée'" in err


@pytest.mark.parametrize(("line", "message"), [
    ("agenda_url: www.vendome.fr/agenda",
     "agenda_url: 'www.vendome.fr/agenda' has no scheme: write https://www.vendome.fr/agenda"),
    ("agenda_url: ftp://vendome.fr", "unknown scheme 'ftp'; write https://vendome.fr"),
])
def test_url_fields_take_only_http_urls(tmp_path, capsys, ics, line, message):
    code, _, err = check(tmp_path, SANDBOX + "plugins:\n  event_digest:\n"
                         f"    {line}\n    sources:\n      - {{name: Ville, ics: ville.ics}}\n",
                         capsys)
    assert code == 2
    assert message in err


def test_an_ics_url_with_a_typo_is_refused(tmp_path, capsys):
    code, _, err = check(tmp_path, SANDBOX + "plugins:\n  event_digest:\n    sources:\n"
                         "      - {name: Ville, ics: 'htps://vendome.fr/agenda.ics'}\n", capsys)
    assert code == 2
    assert "CFG:6: plugins.event_digest.sources[0].ics: 'htps://vendome.fr/agenda.ics': " \
           "unknown scheme 'htps'; write https://vendome.fr/agenda.ics" in err


def test_api_base_url_of_a_profile_page_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CIVICBOT_ACCESS_TOKEN", "abcdef123456")
    code, _, err = check(tmp_path, "mastodon:\n  api_base_url: https://mastodon.example/@ville\n"
                         "  access_token: ${CIVICBOT_ACCESS_TOKEN}\n", capsys)
    assert code == 2
    assert "is a profile page; write only the instance, https://mastodon.example" in err


def test_token_written_in_the_file_is_a_warning(tmp_path, capsys):
    code, out, err = check(tmp_path, "mastodon:\n  api_base_url: https://mastodon.example\n"
                           "  access_token: abcdef123456\n", capsys)
    assert code == 0
    assert "CFG:3: mastodon.access_token: warning: a secret is written in the config file; put " \
           "it in an environment variable (access_token: ${CIVICBOT_ACCESS_TOKEN})" in err
    assert "abcdef123456" not in err + out


def test_token_from_the_environment_is_not_warned_about(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CIVICBOT_ACCESS_TOKEN", "abcdef123456")
    code, _, err = check(tmp_path, "mastodon:\n  api_base_url: https://mastodon.example\n"
                         "  access_token: ${CIVICBOT_ACCESS_TOKEN}\n", capsys)
    assert code == 0
    assert "warning" not in err


def test_env_variable_without_braces_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CIVICBOT_ACCESS_TOKEN", "abcdef123456")
    code, _, err = check(tmp_path, "mastodon:\n  api_base_url: https://mastodon.example\n"
                         "  access_token: $CIVICBOT_ACCESS_TOKEN\n", capsys)
    assert code == 2
    assert "CFG:3: mastodon.access_token: $CIVICBOT_ACCESS_TOKEN is read as text, not as the " \
           "environment variable: write ${CIVICBOT_ACCESS_TOKEN}" in err


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_token_file_readable_by_others_is_a_warning(tmp_path, capsys):
    token = tmp_path / "token"
    token.write_text("abcdef123456\n")
    token.chmod(0o644)
    text = f"mastodon:\n  api_base_url: https://mastodon.example\n  access_token_file: {token}\n"
    code, _, err = check(tmp_path, text, capsys)
    assert code == 0
    assert "warning: access_token_file: DIR/token can be read by other users of this " \
           "machine; make it private: chmod 600 DIR/token" in err
    token.chmod(0o600)
    code, _, err = check(tmp_path, text, capsys)
    assert code == 0 and "warning" not in err


def test_unknown_key_gets_a_did_you_mean(tmp_path, capsys, ics):
    code, _, err = check(tmp_path, SANDBOX + "plugins:\n  event_digest:\n"
                         "    hashtag: [AgendaVendome]\n"
                         "    sources:\n      - {name: Ville, ics: ville.ics, lable: Ville}\n"
                         "  wether:\n    place: Vendôme\n", capsys)
    assert code == 2
    assert "CFG:5: plugins.event_digest.hashtag: unknown key (check its spelling); did you " \
           "mean `hashtags`?" in err
    assert "plugins.event_digest.sources[0].lable: unknown key (check its spelling); did you " \
           "mean `label`?" in err
    assert "CFG:8: plugins.wether: unknown plugin section" in err
    assert "did you mean `weather`?" in err


def test_top_level_typo_gets_a_hint(tmp_path, capsys):
    code, _, err = check(tmp_path, SANDBOX + "timezon: Europe/Paris\n", capsys)
    assert code == 2
    assert "CFG:3: timezon: unknown key (check its spelling); did you mean `timezone`?" in err


def test_a_tab_in_the_yaml_gets_a_hint(tmp_path, capsys):
    code, _, err = check(tmp_path, "mastodon:\n\tapi_base_url: sandbox\n", capsys)
    assert code == 2
    assert "CFG:2: invalid YAML" in err
    assert "indent with spaces, not tabs" in err


def test_run_logs_the_token_warning_without_the_token(tmp_path):
    from structlog.testing import capture_logs

    from civicbot.daemon import Daemon

    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text("mastodon:\n  api_base_url: https://mastodon.example\n"
                   "  access_token: abcdef123456\nstate: state.sqlite3\n")
    with capture_logs() as logs:
        daemon = Daemon.from_config(cfg, load_entry_points=False)
    daemon.stop()
    [warning] = [e for e in logs if e["event"] == "configuration warning"]
    assert warning["log_level"] == "warning"
    assert "mastodon.access_token: warning: a secret is written in the config file" in \
        warning["detail"]
    assert "abcdef123456" not in str(logs)


def test_only_secret_fields_are_warned_about(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("T1", "abcdef123456")
    code, _, err = check(tmp_path, (
        "accounts:\n"
        "  - name: ville\n    mastodon: {api_base_url: 'https://m.example', access_token: x12345678}\n"
        "  - name: musee\n    mastodon: {api_base_url: 'https://m.example', access_token: '${T1}'}\n"
        "plugins:\n  scheduled_posts:\n    vars: {key: valeur, token: jeton}\n"
        "  event_digest:\n    sources:\n"
        "      - {name: Festival, openagenda: {agenda: '123', key: k9876543}}\n"), capsys)
    assert code == 0, err
    warned = [line.split(": warning:")[0] for line in err.splitlines() if "warning" in line]
    assert warned == ["CFG:3: accounts[0].mastodon.access_token",
                      "CFG:11: plugins.event_digest.sources[0].openagenda.key"]
