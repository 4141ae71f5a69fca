"""Every page of the desk: axe-core (no serious or critical violation), every control reachable
with the keyboard, readable at 360 px wide, in French and in English; screenshots for the
guides; the live character counter."""

from __future__ import annotations

import re
from pathlib import Path

import time_machine
from desk_support import (
    MONDAY,
    browser_page,
    check_axe,
    login,
    need_browser,
    running_daemon,
    shot,
)

from civicbot import Job, JobError, cron, hookimpl
from civicbot.testing import SandboxInstance

PAGES = ["/", "/calendar?view=week", "/approvals", "/write", "/published", "/audit", "/health"]

#: Every focusable control gets an index; Tab must visit each (one radio per group).
_MARK = """() => {
  const all = [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex="0"]')]
    .filter(el => !el.disabled && el.offsetParent !== null || el.classList.contains('skip'))
    .filter(el => !(el.type === 'radio' && !el.checked))
    // inside a closed <details>: reached once its summary is opened (Enter)
    .filter(el => el.tagName === 'SUMMARY' || !el.closest('details:not([open])'));
  all.forEach((el, i) => el.dataset.k = String(i));
  return all.length;
}"""


def _keyboard_reaches_everything(page) -> None:
    total = page.evaluate(_MARK)
    page.locator("body").focus()
    page.evaluate("document.activeElement.blur()")
    seen = set()
    for _ in range(total * 2 + 5):
        page.keyboard.press("Tab")
        key = page.evaluate("document.activeElement && document.activeElement.dataset.k")
        if key is not None:
            seen.add(key)
    missing = sorted(set(map(str, range(total))) - seen, key=int)
    assert not missing, [page.evaluate(f"document.querySelector('[data-k=\"{k}\"]').outerHTML")
                         [:120] for k in missing]


def _fits(page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{page.url}: {overflow}px wide at {width}px"


def test_every_page_is_accessible_keyboard_reachable_and_fits_a_phone(tmp_path: Path) -> None:
    need_browser()
    with SandboxInstance(heartbeat_interval=0.2) as sandbox, \
            time_machine.travel(MONDAY, tick=True), \
            running_daemon(tmp_path, sandbox) as daemon:
        base = daemon.http.url
        with browser_page(width=1100) as page:
            login(page, base, "claire")
            for path in PAGES:
                page.goto(f"{base}{path}")
                check_axe(page)
                _keyboard_reaches_everything(page)
            page.goto(f"{base}/calendar?view=week")
            shot(page, "week-fr")
            page.get_by_role("link", name="English").click()
            for path in PAGES:
                page.goto(f"{base}{path}")
                assert page.locator("html").get_attribute("lang") == "en"
                check_axe(page)
            for path, name in [("/", "calendar-en"), ("/approvals", "approvals-en"),
                               ("/write", "write-en"), ("/published", "published-en")]:
                page.goto(f"{base}{path}")
                shot(page, name)
        with browser_page(width=360) as phone:
            phone.goto(f"{base}/login")
            check_axe(phone)
            _fits(phone, 360)
            login(phone, base, "claire")
            for path in PAGES:
                phone.goto(f"{base}{path}")
                check_axe(phone)
                _fits(phone, 360)
            phone.goto(f"{base}/")
            shot(phone, "phone-calendar-fr")


def test_live_counter_counts_like_mastodon_and_shows_the_split(tmp_path: Path) -> None:
    need_browser()
    with SandboxInstance(heartbeat_interval=0.2) as sandbox, \
            running_daemon(tmp_path, sandbox) as daemon, browser_page() as page:
        base = daemon.http.url
        login(page, base, "mehdi")
        page.goto(f"{base}/write")
        text = page.get_by_label("Texte", exact=True)
        text.fill("Voir https://www.example.org/un/tres/long/chemin/vers/une/page "
                  "@claire@mastodon.example")
        # 5 + 23 (any link) + 1 + 7 (@claire: the local part only)
        from playwright.sync_api import expect

        expect(page.locator("#counter")).to_have_text(re.compile(r"^36 / 500"))
        text.fill("\n".join(f"Ligne {i} : " + "mot " * 20 for i in range(12)))
        expect(page.locator("#split")).to_be_visible()
        parts = page.locator("#split li").count()
        assert parts >= 2
        assert re.search(rf"{parts} messages", page.locator("#counter").inner_text())
        # without JavaScript the same split is shown by the "check the split" button
        page.get_by_role("button", name="Vérifier le découpage").click()
        assert page.locator("main .status").count() == parts


class Broken:
    """A job whose posts cannot be built (its source is down)."""

    @hookimpl
    def civicbot_register_jobs(self, register, bot):
        def build(ctx):
            raise JobError("agenda unreachable: 503 from agenda.example")

        register(Job(id="agenda-casse", schedule=cron("0 10 * * *"), func=build))


def test_a_failing_preview_shows_the_failure_in_the_calendar(tmp_path: Path) -> None:
    need_browser()
    with SandboxInstance(heartbeat_interval=0.2) as sandbox, \
            time_machine.travel(MONDAY, tick=True), \
            running_daemon(tmp_path, sandbox, plugins=[Broken()]) as daemon, \
            browser_page() as page:
        login(page, daemon.http.url, "claire")
        failed = page.locator("article.failed")
        assert failed.count() == 14  # one a day at 10:00 from Monday 06:30, none hidden
        text = failed.first.inner_text()
        assert "agenda-casse" in text and "L'aperçu a échoué" in text
        assert "agenda unreachable: 503" in text
        check_axe(page)
