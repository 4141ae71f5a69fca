"""The editorial desk in a real browser (Debian's Chromium driven by Playwright) against the
sandbox, with fake time where a post's time matters. axe-core runs on every page visited."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import time_machine
from desk_support import (
    DIGEST_AT,
    MONDAY,
    PASSWORDS,
    browser_page,
    check_axe,
    jpeg_with_gps,
    login,
    need_browser,
    running_daemon,
    shot,
    wait_until,
    wake,
)

from civicbot.approvals import EXPIRED, PUBLISHED, REJECTED, WAITING
from civicbot.testing import SandboxInstance


def _sandbox() -> SandboxInstance:
    return SandboxInstance(heartbeat_interval=0.2)


def _digest_record(daemon):
    [record] = daemon.store.list_approvals(job_id="semaine")
    return record


def test_write_a_post_with_an_image_see_it_in_the_calendar_then_published_once(
        tmp_path: Path) -> None:
    need_browser()
    with _sandbox() as sandbox, time_machine.travel(MONDAY, tick=True) as clock, \
            running_daemon(tmp_path, sandbox) as daemon, browser_page() as page:
        base = daemon.http.url
        login(page, base, "mehdi")
        page.get_by_role("link", name="Rédiger").click()
        check_axe(page)
        image = tmp_path / "photo.jpg"
        image.write_bytes(jpeg_with_gps())
        at = (MONDAY + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
        page.get_by_label("Texte", exact=True).fill(
            "Travaux rue Denis-Papin cet après-midi : circulation alternée.")
        page.get_by_label("Image 1").set_input_files(str(image))
        page.get_by_label("Texte alternatif 1").fill("Plan de la rue Denis-Papin en travaux")
        page.get_by_label("Le", exact=True).check()
        page.get_by_label("Date et heure").fill(at)
        shot(page, "write-fr")
        page.get_by_role("button", name="Enregistrer").click()
        page.wait_for_url(f"{base}/")
        entry = page.locator("article.desk")
        assert "Travaux rue Denis-Papin" in entry.inner_text()
        assert "Plan de la rue Denis-Papin en travaux" in entry.inner_text()
        assert "08:32" in entry.inner_text() or "06:32" in entry.inner_text()
        check_axe(page)
        shot(page, "calendar-fr")
        assert sandbox.statuses == []
        clock.move_to(MONDAY + timedelta(minutes=2, seconds=3))
        wake(daemon)
        [status] = sandbox.wait_for_statuses(1, timeout=20)
        assert "Travaux rue Denis-Papin" in status["content"]
        [media] = status["media_attachments"]
        assert media["description"] == "Plan de la rue Denis-Papin en travaux"
        bot = daemon.bots[0]
        bot.scheduler.wait_idle()
        wake(daemon)
        bot.scheduler.wait_idle()
        [record] = daemon.store.list_approvals(job_id="desk:")
        wait_until(lambda: daemon.store.get_approval(record.id).state == PUBLISHED, 10,
                   "the desk post to be recorded as published")
        stored = Path(record.drafts[0]["media"][0]["path"])
        from PIL import Image

        with Image.open(stored) as saved:  # decoded, re-encoded: no EXIF, no GPS
            assert not saved.getexif()
        page.get_by_role("link", name="Publié").click()
        assert "Travaux rue Denis-Papin" in page.locator("main").inner_text()
        check_axe(page)
        shot(page, "published-fr")
    assert len(sandbox.statuses) == 1


def test_approve_the_weekly_digest_after_editing_one_line(tmp_path: Path) -> None:
    need_browser()
    with _sandbox() as sandbox, time_machine.travel(MONDAY, tick=True) as clock, \
            running_daemon(tmp_path, sandbox) as daemon, browser_page() as page:
        base = daemon.http.url
        record = _digest_record(daemon)
        assert record.state == WAITING
        login(page, base, "anne")
        page.get_by_role("link", name=re.compile("À valider")).click()
        article = page.locator(f"#a-{record.id}")
        assert "Concert de Noël" in article.inner_text()
        check_axe(page)
        shot(page, "approvals-fr")
        article.locator("summary").click()
        box = article.get_by_label("Texte")
        lines = box.input_value().split("\n")
        lines[0] = "Cette semaine à Blois (texte relu par Anne)"
        box.fill("\n".join(lines))
        article.get_by_role("button", name="Enregistrer").click()
        page.wait_for_load_state()
        assert "texte relu par Anne" in page.locator(f"#a-{record.id}").inner_text()
        page.locator(f"#a-{record.id}").get_by_role("button", name=re.compile("Valider")).click()
        page.wait_for_load_state()
        assert daemon.store.get_approval(record.id).decided_by == "anne"
        clock.move_to(DIGEST_AT + timedelta(seconds=3))
        wake(daemon)
        statuses = sandbox.wait_for_statuses(1, timeout=20)
        assert "texte relu par Anne" in statuses[0]["content"]
        wait_until(lambda: daemon.store.get_approval(record.id).state == PUBLISHED, 10,
                   "the digest to be recorded as published")
        bot = daemon.bots[0]
        count = len(sandbox.statuses)
        bot.scheduler.run(bot.jobs["semaine"], DIGEST_AT)  # the same run again: nothing new
        assert len(sandbox.statuses) == count
        page.get_by_role("link", name="Journal").click()
        assert "approve" in page.locator("table").inner_text()
        check_axe(page)
        shot(page, "audit-fr")


def test_reject_publishes_nothing_and_a_forgotten_draft_expires(tmp_path: Path) -> None:
    need_browser()
    with _sandbox() as sandbox, time_machine.travel(MONDAY, tick=True) as clock, \
            running_daemon(tmp_path, sandbox) as daemon, browser_page() as page:
        base = daemon.http.url
        record = _digest_record(daemon)
        login(page, base, "anne")
        page.goto(f"{base}/approvals")
        article = page.locator(f"#a-{record.id}")
        article.get_by_label("Motif").fill("Le concert est reporté")
        article.get_by_role("button", name=re.compile("Refuser")).click()
        page.wait_for_load_state()
        assert daemon.store.get_approval(record.id).state == REJECTED
        assert "Le concert est reporté" in page.locator("main").inner_text()
        clock.move_to(DIGEST_AT + timedelta(seconds=3))
        wake(daemon)
        bot = daemon.bots[0]
        wait_until(lambda: daemon.store.get_job_run(bot.name, "semaine") is not None, 20,
                   "the digest's run")
        bot.scheduler.wait_idle()
        assert sandbox.statuses == []
    # a second week: nobody decides, the draft expires and the desk says so
    with _sandbox() as sandbox, time_machine.travel(MONDAY + timedelta(days=7),
                                                    tick=True) as clock, \
            running_daemon(tmp_path / "w2", sandbox) as daemon, browser_page() as page:
        record = _digest_record(daemon)
        clock.move_to(DIGEST_AT + timedelta(days=7, seconds=3))
        wake(daemon)
        wait_until(lambda: daemon.store.get_approval(record.id).state == EXPIRED, 20,
                   "the draft to expire")
        login(page, daemon.http.url, "anne")
        page.goto(f"{daemon.http.url}/approvals")
        assert re.search(rf"#{record.id} · semaine · expiré", page.locator("main").inner_text())
        check_axe(page)
        assert sandbox.statuses == []


def test_pause_from_the_desk_stops_replies_and_resume_brings_them_back(tmp_path: Path) -> None:
    need_browser()
    with _sandbox() as sandbox, running_daemon(tmp_path, sandbox) as daemon, \
            browser_page() as page:
        base = daemon.http.url
        bot = daemon.bots[0]
        login(page, base, "claire")
        page.get_by_role("button", name="Mettre le bot en pause").click()
        page.wait_for_load_state()
        banner = page.locator("section.pause").inner_text()
        assert "en pause" in banner and "claire" in banner
        assert bot.paused
        check_axe(page)
        shot(page, "paused-fr")
        handled = bot.stream.dispatcher.handled
        sandbox.inject_mention("@bot la piscine est-elle ouverte ?")
        wait_until(lambda: bot.stream.dispatcher.handled > handled, 10, "the mention handled")
        assert sandbox.statuses == []  # paused: no reply
        page.get_by_role("button", name="Reprendre").click()
        page.wait_for_load_state()
        assert not bot.paused
        sandbox.inject_mention("@bot et la médiathèque ?")
        [reply] = sandbox.wait_for_statuses(1, timeout=10)
        assert "médiathèque" in reply["content"]
        page.get_by_role("link", name="Santé").click()
        assert "connected" in page.locator("main").inner_text() or \
            "polling" in page.locator("main").inner_text()
        check_axe(page)
        shot(page, "health-fr")


def test_five_wrong_passwords_lock_the_user(tmp_path: Path) -> None:
    need_browser()
    with _sandbox() as sandbox, running_daemon(tmp_path, sandbox) as daemon, \
            browser_page() as page:
        base = daemon.http.url
        for _ in range(4):
            login(page, base, "claire", "wrong")
            assert "incorrect" in page.get_by_role("alert").inner_text()
        check_axe(page)
        shot(page, "login-fr")
        login(page, base, "claire", "wrong")
        assert "bloqué" in page.get_by_role("alert").inner_text()
        login(page, base, "claire", PASSWORDS["claire"])  # locked, even with the right one
        assert "bloqué" in page.get_by_role("alert").inner_text()
        assert page.url.startswith(f"{base}/login")
        login(page, base, "anne")  # other users are not locked
        assert page.url == f"{base}/"


def test_a_form_posted_without_the_csrf_token_is_refused(tmp_path: Path) -> None:
    need_browser()
    with _sandbox() as sandbox, running_daemon(tmp_path, sandbox) as daemon, \
            browser_page() as page:
        base = daemon.http.url
        page.goto(f"{base}/login")
        page.evaluate("document.querySelector('input[name=csrftoken]').remove()")
        page.get_by_label("Identifiant").fill("claire")
        page.get_by_label("Mot de passe").fill(PASSWORDS["claire"])
        with page.expect_response(f"{base}/login") as answer:
            page.get_by_role("button", name="Se connecter").click()
        assert answer.value.status == 403
        login(page, base, "claire")
        assert page.url == f"{base}/"
        page.evaluate("document.querySelector('form[action=\"/pause\"] "
                      "input[name=csrftoken]').value = 'forged'")
        with page.expect_response(f"{base}/pause") as answer:
            page.get_by_role("button", name="Mettre le bot en pause").click()
        assert answer.value.status == 403
        assert not daemon.bots[0].paused
        refused = page.request.post(f"{base}/pause", form={"next": "/"})
        assert refused.status == 403 and not daemon.bots[0].paused


def test_an_editor_cannot_approve_or_pause(tmp_path: Path) -> None:
    need_browser()
    with _sandbox() as sandbox, time_machine.travel(MONDAY, tick=True), \
            running_daemon(tmp_path, sandbox) as daemon, browser_page() as page:
        base = daemon.http.url
        record = _digest_record(daemon)
        login(page, base, "mehdi")
        assert page.get_by_role("button", name="Mettre le bot en pause").count() == 0
        page.goto(f"{base}/approvals")
        assert page.get_by_role("button", name=re.compile("Valider")).count() == 0
        token = page.locator("input[name=csrftoken]").first.input_value()
        for path in (f"/approvals/{record.id}/approve", "/pause"):
            answer = page.request.post(f"{base}{path}", form={"csrftoken": token})
            assert answer.status == 403, path
        assert daemon.store.get_approval(record.id).state == WAITING
        assert not daemon.bots[0].paused
        assert page.request.get(f"{base}/health").status == 403
