"""The desk over plain HTTP (no browser): retry of a failed post from "Published", edits of a
waiting draft checked like any draft, /healthz and /metrics keep their contracts."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import time_machine
from desk_support import MONDAY, PASSWORDS, running_daemon, wait_until

from civicbot import PostDraft
from civicbot.approvals import WAITING
from civicbot.testing import SandboxInstance


def _client(base: str, name: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    answer = client.post("/login", data={"username": name, "password": PASSWORDS[name],
                                         "csrftoken": token.group(1)})
    assert answer.status_code == 303
    return client, token.group(1)


def test_a_failed_post_is_retried_from_the_published_page(tmp_path: Path) -> None:
    with SandboxInstance(heartbeat_interval=0.2) as sandbox, \
            running_daemon(tmp_path, sandbox) as daemon:
        bot = daemon.bots[0]
        sandbox.fail_next(1, status=422, path_prefix="/api/v1/statuses")
        [result] = bot.publish(PostDraft(text="Collecte des sapins samedi", dedup_key="sapins"))
        assert result.skipped == "failed" and sandbox.statuses == []
        client, token = _client(daemon.http.url, "mehdi")
        page = client.get("/published").text
        assert "sapins" in page and "Réessayer" in page
        answer = client.post("/published/retry", data={"csrftoken": token, "account": bot.name,
                                                       "dedup_key": "sapins"})
        assert answer.status_code == 303
        [status] = sandbox.wait_for_statuses(1)
        assert "Collecte des sapins" in status["content"]
        wait_until(lambda: bot.state.post("sapins").state == "sent", 10, "recorded as sent")
        assert "Collecte des sapins" in client.get("/published").text
        # the endpoint's contracts are unchanged with the desk
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and metrics.text.startswith("# HELP")


def test_an_edit_without_alt_text_or_too_long_is_refused(tmp_path: Path) -> None:
    with SandboxInstance(heartbeat_interval=0.2) as sandbox, \
            time_machine.travel(MONDAY, tick=True), \
            running_daemon(tmp_path, sandbox) as daemon:
        [record] = daemon.store.list_approvals(job_id="semaine")
        client, token = _client(daemon.http.url, "anne")
        answer = client.post(f"/approvals/{record.id}/edit",
                             data={"csrftoken": token, "text-0": "mot " * 200, "cw-0": ""},
                             follow_redirects=True)
        assert "too long" in answer.text
        assert daemon.store.get_approval(record.id).drafts == record.drafts
        answer = client.post(f"/approvals/{record.id}/edit",
                             data={"csrftoken": token, "text-0": "  ", "cw-0": ""},
                             follow_redirects=True)
        assert "empty post" in answer.text
        assert daemon.store.get_approval(record.id).state == WAITING
        assert daemon.store.get_approval(record.id).drafts == record.drafts
        assert timedelta(0) < record.run_time - MONDAY <= timedelta(hours=2)
