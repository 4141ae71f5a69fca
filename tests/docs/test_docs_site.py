"""The documentation site: every page is in the navigation, and ``mkdocs build --strict`` builds
it with the generated references (hooks from docstrings, configuration from the models)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from doc_blocks import DOCS, ROOT

from civicbot import hookspecs
from civicbot.config import CoreConfig

PLUGIN_PAGES = ("scheduled_posts", "event_digest", "weather", "auto_reply", "news", "bluesky")


class _Loader(yaml.SafeLoader):
    """mkdocs.yml holds ``!!python/name:`` tags; they are not needed here."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def mkdocs_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"),
                                       Loader=_Loader)
    return config


def nav_files(nav: Any) -> Iterator[str]:
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, list):
        for item in nav:
            yield from nav_files(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from nav_files(value)


def pages() -> set[str]:
    return {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")
            if not p.relative_to(DOCS).as_posix().startswith("examples/")}


def test_every_page_is_in_the_navigation() -> None:
    missing = sorted(pages() - set(nav_files(mkdocs_config()["nav"])))
    assert not missing, f"add these pages to the nav of mkdocs.yml: {missing}"


def test_navigation_has_the_guides_in_both_languages_and_the_plugin_pages() -> None:
    nav = set(nav_files(mkdocs_config()["nav"]))
    for name in (*PLUGIN_PAGES, "pause"):
        assert f"guides/en/{name}.md" in nav and f"guides/fr/{name}.md" in nav
    for name in PLUGIN_PAGES:
        assert f"plugins/{name}.md" in nav


def test_page_titles_say_what_they_are() -> None:
    titles = {"getting-started.md": "Getting started", "configuration.md": "Configuration",
              "writing-plugins.md": "Writing plugins", "hooks.md": "Hooks reference",
              "deployment.md": "Deployment"}
    for page, title in titles.items():
        first = (DOCS / page).read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# {title}", page


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={"NO_MKDOCS_2_WARNING": "1", **os.environ})
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    return out


def html(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text(encoding="utf-8")


def test_built_hooks_reference_renders_every_hook_with_its_signature(site: Path) -> None:
    page = html(site, "hooks")
    hooks = [n for n in vars(hookspecs) if n.startswith("civicbot_")]
    for hook in hooks:
        assert f'id="civicbot.hookspecs.{hook}"' in page, hook
    assert page.count('class="doc-signature') >= len(hooks)
    assert "language-python" in page or 'class="highlight"' in page  # examples are code


def test_built_configuration_page_has_every_core_key(site: Path) -> None:
    text = re.sub(r"<[^>]+>", "", html(site, "configuration"))
    for key in CoreConfig.model_fields:
        assert key in text
    assert "civicbot:config-reference" not in text
    for section in PLUGIN_PAGES:
        assert f'id="cfg-plugins-{section.replace("_", "-")}"' in html(site, "configuration")


def test_built_cli_page_has_every_command(site: Path) -> None:
    page = html(site, "cli")
    for command in ("run", "check-config", "plugins", "jobs", "run-job", "preview", "status",
                    "demo", "ask"):
        assert f"civicbot {command}" in page


def test_keys_are_rendered_not_printed_literally(site: Path) -> None:
    """``++ctrl+c++`` is a key (pymdownx.keys), never shown as typed (issue 12)."""
    for page in ("getting-started", "deployment", "writing-plugins"):
        text = html(site, page)
        assert "++ctrl" not in text, page
    assert 'class="keys"' in html(site, "getting-started")
