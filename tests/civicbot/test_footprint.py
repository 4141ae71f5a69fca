"""Footprint: a plugin that is installed but not configured costs nothing (issue 15).

The guard runs ``civicbot run``'s code (``Daemon.from_config`` → ``start``) in a fresh
interpreter, with a config holding only ``auto_reply``, against a sandbox in this process;
a mention is answered (so the reply path is loaded too), then the child lists ``sys.modules``.
None of the heavy modules of the other plugins (calendar parsing, locale data, XML, feeds,
HTTP client) nor the metrics library may be there: a later change cannot bring the weight
back silently. ``bench/footprint.py`` measures the memory itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from civicbot import PluginConfig, PluginError, hookimpl
from civicbot.config import load_config_text
from civicbot.plugins import make_plugin_manager
from civicbot.testing import SandboxInstance
from civicbot_auto_reply.demo import demo_section

#: Modules that a config with only ``auto_reply`` must never import.
HEAVY = (
    "icalendar",
    "recurring_ical_events",
    "x_wr_timezone",
    "babel",
    "defusedxml",
    "xml.etree.ElementTree",
    "frontmatter",
    "httpx",
    "httpcore",
    "civicbot.fetch_transport",
    "prometheus_client",
    "civicbot_event_digest.config",
    "civicbot_event_digest.sources",
    "civicbot_weather.config",
    "civicbot_weather.cap",
    "civicbot_scheduled_posts.config",
    "civicbot_scheduled_posts.content_calendar",
    "civicbot_news.config",
    "civicbot_news.runtime",
    "atproto",
)

CHILD = textwrap.dedent("""
    import json, sys
    from civicbot.daemon import Daemon

    daemon = Daemon.from_config(sys.argv[1])
    daemon.start()
    try:
        assert daemon.wait_ready(60), "the stream did not connect"
        print("ready", flush=True)
        sys.stdin.readline()  # the test saw the reply to its mention
        print(json.dumps(sorted(sys.modules)), flush=True)
    finally:
        daemon.stop()
""")


def test_auto_reply_alone_loads_no_heavy_module(tmp_path: Path) -> None:
    with SandboxInstance() as sandbox:
        config = tmp_path / "civicbot.yaml"
        config.write_text(yaml.safe_dump({
            "state": str(tmp_path / "state.sqlite3"),
            "mastodon": {"api_base_url": sandbox.url, "access_token": sandbox.access_token},
            "log": {"format": "json", "level": "warning"},
            "plugins": {"auto_reply": demo_section(None, tmp_path)},  # type: ignore[arg-type]
        }), encoding="utf-8")
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(config)], text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
        try:
            assert child.stdout is not None and child.stdin is not None
            assert child.stdout.readline().strip() == "ready"
            mention = sandbox.inject_mention("Quels sont les horaires de la mairie ?")
            replies = sandbox.wait_for_statuses(1, timeout=60)
            assert replies[0]["in_reply_to_id"] == mention["status"]["id"]
            child.stdin.write("\n")
            child.stdin.flush()
            modules = set(json.loads(child.stdout.readline()))
        finally:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
    assert "civicbot_auto_reply.responder" in modules  # the guard saw the real reply path
    assert "jinja2" in modules
    loaded = sorted(name for name in HEAVY if name in modules)
    assert loaded == [], f"loaded although only auto_reply is configured: {loaded}"


class LazyConfig(PluginConfig):
    greeting: str = "Bonjour"


class LazyPlugin:
    """Registers its model by reference, as the first-party plugins do."""

    def __init__(self, ref: str) -> None:
        self.ref = ref

    @hookimpl
    def civicbot_config_schema(self, register):  # type: ignore[no-untyped-def]
        register("lazy", self.ref)


def _load(text: str, ref: str):  # type: ignore[no-untyped-def]
    pm = make_plugin_manager(load_entry_points=False, plugins=[("lazy", LazyPlugin(ref))])
    return load_config_text(text, pm=pm)


def test_a_model_registered_by_reference_is_imported_only_when_configured() -> None:
    base = "mastodon: {api_base_url: sandbox}\n"
    missing = "civicbot_no_such_module_for_test:Model"
    # not configured: the reference is never imported (it does not even exist)
    assert _load(base, missing).accounts[0].plugins == {}
    # configured: imported and validated like a class
    config = _load(base + "plugins:\n  lazy: {greeting: Salut}\n", f"{__name__}:LazyConfig")
    section = config.accounts[0].plugins["lazy"]
    assert isinstance(section, LazyConfig) and section.greeting == "Salut"


@pytest.mark.parametrize(("ref", "message"), [
    ("civicbot_no_such_module_for_test:Model", "cannot import"),
    (f"{__name__}:NoSuchModel", "cannot import"),
    (f"{__name__}:LazyPlugin", "is not a pydantic model"),
    ("no_colon_here", "expected 'package.module:Class'"),
])
def test_a_bad_reference_is_a_plugin_error_naming_the_plugin(ref: str, message: str) -> None:
    with pytest.raises(PluginError, match=message) as caught:
        _load("mastodon: {api_base_url: sandbox}\nplugins:\n  lazy: {}\n", ref)
    assert "'lazy'" in str(caught.value)


def test_malloc_arenas_are_capped_unless_the_operator_chose(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from civicbot.memory import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False  # the operator's setting wins
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's mallopt is Linux only")
    assert limit_malloc_arenas() is True
