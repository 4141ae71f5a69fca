"""Issue 13, item 8 and the weaker points of the instance's answers: what the CLI prints is
redacted and bounded; an HTML maintenance page is retried like a 5xx; a post answer without
an id is not "sent"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from civicbot.testing.webserver import FakeWebServer

TOKEN = "s3cr3t-T0ken-of-the-town-hall"


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"mastodon:\n  api_base_url: {url}\n  access_token: {TOKEN}\n"
                   f"state: {tmp_path / 'state.sqlite3'}\nlog:\n  format: json\n",
                   encoding="utf-8")
    return cfg


def test_the_final_error_line_is_redacted_and_cut(tmp_path: Path) -> None:
    flood = "x" * 10_000_000
    body = json.dumps({"error": f"refused: Authorization: Bearer {TOKEN} token={TOKEN} "
                                f"'Authorization': 'Bearer {TOKEN}' {flood}"})
    with FakeWebServer() as web:
        web.add("/api/v1/accounts/verify_credentials", body, "application/json", status=422)
        web.add("/api/v2/instance", "{}", "application/json", status=404)
        result = subprocess.run(
            [sys.executable, "-m", "civicbot", "run", "--config", str(_config(tmp_path, web.url))],
            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert TOKEN not in result.stderr and TOKEN not in result.stdout
    assert "could not verify the account" in result.stderr
    assert len(result.stderr) < 100_000  # the old CLI printed the 10 MB body
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "more characters cut" in last


def test_redactor_masks_header_values_and_clip_says_what_it_cut() -> None:
    from civicbot.logging import REDACTOR, Redactor, clip

    redactor = Redactor()
    text = redactor.scrub("{'Authorization': 'Bearer abc.def', 'apikey': 'k-123'}")
    assert "abc.def" not in text and "k-123" not in text
    assert clip("a" * 10, 4) == "aaaa… [6 more characters cut]"
    assert REDACTOR.safe("x" * 50, 10).startswith("xxxxxxxxxx…")


def test_an_html_maintenance_page_is_retried_not_fatal(tmp_path: Path) -> None:
    page = "<html><body><h1>Maintenance</h1></body></html>"
    with FakeWebServer() as web:
        web.add("/api/v1/accounts/verify_credentials", page, "text/html")
        from civicbot import Bot

        bot = Bot(web.url, access_token=TOKEN, state=tmp_path / "s.sqlite3")
        bot.publisher.backoff_initial = bot.publisher.backoff_max = 0.01
        account = bot._verify_credentials()  # used to raise AuthenticationError (exit 1)
        assert account == {}
        assert len(web.requests_to("/api/v1/accounts/verify_credentials")) == \
            bot.publisher.max_attempts


def test_a_post_answer_without_id_is_not_recorded_as_sent(civicbot_sandbox: Any,
                                                          civicbot_make_bot: Any,
                                                          monkeypatch: Any) -> None:
    from civicbot import PostDraft

    bot = civicbot_make_bot()
    real = bot.publisher.client.status_post

    def no_id(*args: Any, **kwargs: Any) -> dict[str, Any]:
        status = dict(real(*args, **kwargs))
        status.pop("id")
        return status

    monkeypatch.setattr(bot.publisher.client, "status_post", no_id)
    (result,) = bot.publish(PostDraft(text="Conseil municipal jeudi", dedup_key="conseil"))
    assert result.statuses == [] and result.skipped and "without a status id" in result.skipped
    record = bot.state.post("conseil")
    assert record is not None and record.state == "pending" and record.status_id is None
