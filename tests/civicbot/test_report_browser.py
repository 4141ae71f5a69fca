"""The report opens in Chromium: every chart visible, no request leaves the file, no
accessibility violation found by axe-core; a screenshot is kept for the docs.

Needs Playwright (``pip install -e ".[test]"``) and Debian's Chromium (``apt-get install
chromium``); skipped with the reason otherwise. ``CIVICBOT_DOCS_SCREENSHOTS=1`` also writes the
screenshot to ``docs/guides/report-screenshot.png``.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from engagement_month import PARIS, Month

from civicbot.report import build_report, render_html
from civicbot.state import SQLiteStateStore

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "guides" / "report-screenshot.png"


@pytest.fixture(scope="module")
def browser() -> Any:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed (pip install -e .[test])")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_the_report_opens_in_chromium_with_every_chart_visible(
        browser: Any, engagement_month: Month, tmp_path: Path) -> None:
    store = SQLiteStateStore(engagement_month.state)
    try:
        report = build_report(store, [("default", PARIS)], since=timedelta(days=90),
                              now=engagement_month.end)
    finally:
        store.close()
    page_file = tmp_path / "rapport.html"
    page_file.write_text(render_html(report), encoding="utf-8")
    url = page_file.as_uri()

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    requests: list[str] = []

    def intercept(route: Any) -> None:
        requests.append(route.request.url)
        if route.request.url == url:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", intercept)
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    assert set(requests) == {url}, f"the page asked for more than itself: {requests}"

    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.title() == "Rapport d'audience Mastodon"
    charts = page.locator("figure.chart-figure svg")
    assert charts.count() == 6
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 150, box
        labelled = chart.get_attribute("aria-labelledby")
        assert labelled and page.locator(f"#{labelled}").inner_text().strip()
    # each chart is followed by its data table
    assert page.locator("section.chart figure + p + div table, "
                        "section.chart figure + div table").count() == 6

    shot = tmp_path / "report-screenshot.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 1100, "height": 1500},
                    full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("CIVICBOT_DOCS_SCREENSHOTS") == "1":
        shutil.copy(shot, DOCS_SHOT)
    context.close()


def test_no_accessibility_violation_found_by_axe(browser: Any, engagement_month: Month,
                                                 tmp_path: Path) -> None:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright",
                                     reason="axe-playwright-python is not installed")
    store = SQLiteStateStore(engagement_month.state)
    try:
        report = build_report(store, [("default", PARIS)], since=timedelta(days=90),
                              now=engagement_month.end)
    finally:
        store.close()
    page_file = tmp_path / "rapport.html"
    page_file.write_text(render_html(report), encoding="utf-8")
    # the page forbids scripts (Content-Security-Policy); axe is injected by the test only
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(page_file.as_uri())
    results = axe_module.Axe().run(page, options={
        "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"]})
    violations = results.response["violations"]
    assert violations == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                              for v in violations]
    context.close()
