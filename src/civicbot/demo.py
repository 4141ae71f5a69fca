"""``civicbot demo``: every first-party plugin on bundled sample data, against the sandbox.

A fake Mastodon instance and a small web server (for the feeds) start on 127.0.0.1; each
first-party plugin contributes its config section through ``civicbot_<name>.demo.demo_section``;
residents' questions are injected as mentions; every post is printed as a resident would read
it. No account and no network are needed.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import structlog

from civicbot.bot import Bot
from civicbot.testing.sandbox import SandboxInstance
from civicbot.testing.webserver import FakeWebServer
from civicbot.text import html_to_text

FIRST_PARTY = ("scheduled_posts", "event_digest", "weather", "auto_reply")


def run_demo(duration: float = 30.0, out: TextIO | None = None,
             server: str = "mastodon") -> int:
    """Run the demo for ``duration`` seconds against a sandbox behaving like ``server``
    (``mastodon``, ``gotosocial`` or ``snac``); return the exit code."""
    out = out or sys.stdout
    log = structlog.get_logger("civicbot.demo")
    with tempfile.TemporaryDirectory(prefix="civicbot-demo-") as tmp, \
            SandboxInstance(heartbeat_interval=5.0, profile=server) as sandbox, \
            FakeWebServer() as web:
        data_dir = Path(tmp)
        sections, after_start, run_at_start = _plugin_sections(web, data_dir, log)
        bot = Bot(sandbox.url, access_token=sandbox.access_token, load_entry_points=True,
                  state=data_dir / "demo.sqlite3",
                  config={"plugins": sections, "timezone": "Europe/Paris", "language": "fr",
                          "stream": {"backoff_initial": "0.1s", "backoff_max": "1s"}})
        kind = "Mastodon" if server == "mastodon" else f"{server} (Mastodon API)"
        print(f"civicbot demo — a fake {kind} instance at {sandbox.url} "
              f"(@{sandbox.account_username}@{sandbox.domain}); plugins: "
              f"{', '.join(sections) or 'none'}; {duration:.0f} s\n", file=out)
        bot.start()
        from civicbot.server import server_summary

        if bot.stream is not None:
            bot.stream.wait_state({"connected", "polling"}, timeout=5.0)
        print(server_summary(bot.server.describe(), bot.stream.transport if bot.stream else None)
              + "\n", file=out)
        for job_id in run_at_start:  # e.g. the morning forecast, so it shows at once
            if job_id in bot.jobs:
                bot.scheduler.run(bot.jobs[job_id], bot.now(), record=False)
        printed = 0
        shown_scheduled: set[Any] = set()
        deadline = time.monotonic() + duration
        injected = False
        try:
            while time.monotonic() < deadline:
                if not injected and time.monotonic() > deadline - duration + 1.0:
                    for hook in after_start:
                        hook(sandbox)
                    injected = True
                statuses = list(sandbox.statuses)
                for status in statuses[printed:]:
                    print(render(status, sandbox), file=out)
                    out.flush()
                printed = len(statuses)
                for scheduled in list(sandbox.scheduled_statuses):
                    if scheduled.get("id") not in shown_scheduled:
                        shown_scheduled.add(scheduled.get("id"))
                        print(render_scheduled(scheduled), file=out)
                        out.flush()
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            bot.stop()
        for status in list(sandbox.statuses)[printed:]:
            print(render(status, sandbox), file=out)
        count = len(sandbox.statuses)
        planned = len(sandbox.scheduled_statuses)
        print(f"{count} {'post' if count == 1 else 'posts'} published"
              + (f", {planned} scheduled on the instance" if planned else "")
              + ". Try it on your own instance: see README.md, 'Connect a real account'.",
              file=out)
    return 0


def _plugin_sections(
    web: FakeWebServer, data_dir: Path, log: Any
) -> tuple[dict[str, Any], list[Callable[[SandboxInstance], Any]], list[str]]:
    """Each plugin's demo module gives its config section (``demo_section``), optionally
    mentions to inject once the bot runs (``inject_demo_mentions``) and job ids to run at
    start (``DEMO_RUN_AT_START``)."""
    sections: dict[str, Any] = {}
    after_start: list[Callable[[SandboxInstance], Any]] = []
    run_at_start: list[str] = []
    for name in FIRST_PARTY:
        try:
            module = importlib.import_module(f"civicbot_{name}.demo")
            sections[name] = module.demo_section(web, data_dir)
        except Exception as exc:  # a plugin without demo data is skipped, not fatal
            log.warning("plugin left out of the demo", plugin=name, error=str(exc))
            continue
        inject = getattr(module, "inject_demo_mentions", None)
        if callable(inject):
            after_start.append(inject)
        run_at_start.extend(getattr(module, "DEMO_RUN_AT_START", ()))
    return sections, after_start, run_at_start


def render(status: dict[str, Any], sandbox: SandboxInstance) -> str:
    """A status as a resident would read it."""
    account = status.get("account") or {}
    head = [f"@{account.get('acct', '?')}", status.get("visibility", "?"),
            status.get("language") or "?"]
    parent = None
    if status.get("in_reply_to_id"):
        parent = next((s for s in [*sandbox.statuses, *_mention_statuses(sandbox)]
                       if s.get("id") == status["in_reply_to_id"]), None)
    lines = ["╭─ " + " · ".join(head)]
    if parent is not None:
        who = (parent.get("account") or {}).get("acct", "?")
        said = " ".join(html_to_text(parent.get("content", ""), drop_mentions=True).split())
        if len(said) > 80:
            said = said[:79].rstrip() + "…"
        lines.append(f"│ ↳ in reply to @{who}: « {said} »")
    if status.get("spoiler_text"):
        lines.append(f"│ ⚠ CW: {status['spoiler_text']}")
    for line in html_to_text(status.get("content", "")).splitlines() or [""]:
        lines.append(f"│ {line}")
    for media in status.get("media_attachments") or []:
        lines.append(f"│ 🖼 image — alt text: {media.get('description')}")
    lines.append("╰─")
    return "\n".join(lines)


def render_scheduled(scheduled: dict[str, Any]) -> str:
    """A post scheduled on the instance itself (native scheduling), not yet public."""
    params = scheduled.get("params") or {}
    head = ["scheduled on the instance", f"for {scheduled.get('scheduled_at')}",
            str(params.get("visibility") or "public"), str(params.get("language") or "?")]
    lines = ["╭─ " + " · ".join(head)]
    if params.get("spoiler_text"):
        lines.append(f"│ ⚠ CW: {params['spoiler_text']}")
    lines.extend(f"│ {line}" for line in (str(params.get("text") or "").splitlines() or [""]))
    for media in scheduled.get("media_attachments") or []:
        lines.append(f"│ 🖼 image — alt text: {media.get('description')}")
    lines.append("╰─")
    return "\n".join(lines)


def _mention_statuses(sandbox: SandboxInstance) -> list[dict[str, Any]]:
    return [n["status"] for n in sandbox.notifications if n.get("status")]
