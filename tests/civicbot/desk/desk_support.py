"""Helpers for the desk's browser tests: a daemon with a desk against the sandbox, a Chromium
page (Debian's, driven by Playwright), axe-core checks, screenshots for the docs.

(Not a conftest: imported explicitly.)
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from civicbot import hookimpl, html_to_text
from civicbot.daemon import Daemon
from civicbot.testing import SandboxInstance

PARIS = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parents[3]
#: Screenshots of the desk's pages: into the docs with CIVICBOT_UPDATE_SCREENSHOTS=1 (to refresh
#: docs/img/desk), otherwise into a temporary folder (a test run leaves the checkout unchanged).
SHOTS = (ROOT / "docs" / "img" / "desk" if os.environ.get("CIVICBOT_UPDATE_SCREENSHOTS") == "1"
         else Path(tempfile.gettempdir()) / "civicbot-desk-screenshots")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PASSWORDS = {"claire": "claire-pw-2026", "anne": "anne-pw-2026", "mehdi": "mehdi-pw-2026"}
ROLES = {"claire": "admin", "anne": "approver", "mehdi": "editor"}
#: Monday 7 December 2026, 06:30 in Paris: the weekly digest runs at 08:00 (lead 2h).
MONDAY = datetime(2026, 12, 7, 6, 30, tzinfo=PARIS)
DIGEST_AT = datetime(2026, 12, 7, 8, 0, tzinfo=PARIS)


def need_browser() -> Any:
    """Playwright's sync API, or skip with the reason."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    return sync_playwright


class Echo:
    """Answers every mention (to see pause and resume from the desk)."""

    @hookimpl
    def civicbot_on_mention(self, bot: Any, status: dict[str, Any],
                            notification: dict[str, Any]) -> None:
        bot.reply(status, "Reçu : " + html_to_text(status["content"], drop_mentions=True))


def _hashes() -> dict[str, str]:
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=1, memory_cost=8192)
    return {name: hasher.hash(pw) for name, pw in PASSWORDS.items()}


_HASHES: dict[str, str] = {}


def write_config(tmp: Path, sandbox: SandboxInstance, **desk: Any) -> Path:
    if not _HASHES:
        _HASHES.update(_hashes())
    config = {
        "mastodon": {"api_base_url": sandbox.url, "access_token": sandbox.access_token},
        "state": str(tmp / "state.sqlite3"), "timezone": "Europe/Paris", "language": "fr",
        "stream": {"watchdog": "2s", "backoff_initial": "0.02s", "backoff_max": "0.2s",
                   "poll_interval": "0.1s", "shutdown_grace": "2s"},
        "log": {"format": "json", "level": "warning"},
        "disable_plugins": ["weather", "auto_reply"],
        "desk": {"secret_key": "desk-secret-for-tests-0123456789",
                 "users": [{"name": n, "role": ROLES[n], "password_hash": h}
                           for n, h in _HASHES.items()], **desk},
        "plugins": {
            "event_digest": {"sources": [{"name": "Ville",
                                          "ics": str(ROOT / "examples/event_digest/ville.ics")}],
                             "hashtags": ["AgendaBlois"],
                             "digests": [{"id": "semaine", "cron": "0 8 * * 1",
                                          "window": "this_week", "approval": "required"}]},
            "scheduled_posts": {"posts": [{"id": "horaires", "cron": "0 9 * * 3",
                                           "text": "La mairie est ouverte de 8 h 30 à 17 h."}]},
        },
    }
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "civicbot.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@contextmanager
def running_daemon(tmp: Path, sandbox: SandboxInstance, plugins: tuple[Any, ...] = (),
                   **desk: Any) -> Iterator[Daemon]:
    daemon = Daemon.from_config(write_config(tmp, sandbox, **desk), http="127.0.0.1:0",
                                plugins=[Echo(), *plugins])
    daemon.start()
    try:
        assert daemon.wait_ready(15)
        yield daemon
    finally:
        daemon.stop()


@contextmanager
def browser_page(width: int = 1100) -> Iterator[Any]:
    sync_playwright = need_browser()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": 900},
                                          locale="fr-FR")
            page = context.new_page()
            # generous: CI machines can be loaded (no timing assertion: only a ceiling)
            page.set_default_timeout(60000)
            page.set_default_navigation_timeout(60000)
            yield page
        finally:
            browser.close()


def login(page: Any, base: str, name: str, password: str | None = None) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Identifiant").fill(name)
    page.get_by_label("Mot de passe").fill(password or PASSWORDS[name])
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def check_axe(page: Any) -> None:
    """axe-core in the page: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in {"serious", "critical"}]
    assert not bad, "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — "
                              f"{[n['target'] for n in v['nodes']][:5]}" for v in bad)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def wake(daemon: Daemon) -> None:
    for bot in daemon.bots:
        bot.scheduler.wakeup()


def jpeg_with_gps() -> bytes:
    """A small JPEG carrying EXIF GPS coordinates (which the desk must remove)."""
    from PIL import Image

    image = Image.new("RGB", (64, 48), (30, 90, 160))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (47.0, 35.0, 10.0), 3: "E", 4: (1.0, 20.0, 5.0)}
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()
