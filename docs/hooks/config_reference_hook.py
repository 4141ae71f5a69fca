"""MkDocs hook: write the generated references into the pages that ask for them.

A page asks with an HTML comment on a line of its own:

``<!-- civicbot:config-reference core -->``
    the core settings, from ``civicbot.config.CoreConfig`` and the models it holds;
``<!-- civicbot:config-reference plugins -->``
    every first-party plugin's section, from the models its ``civicbot_config_schema`` registers;
``<!-- civicbot:cli-reference -->``
    the ``--help`` of every ``civicbot`` command, from ``civicbot.cli.build_parser``.

Example values come from ``config.example.yaml`` when it sets the key. The references are built
from the same models that validate the configuration, so they cannot drift from the code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from civicbot import config_reference

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- civicbot:(config-reference (core|plugins)|cli-reference) -->$",
                    re.MULTILINE)


def render_marker(kind: str, docs_dir: Path, page_dir: Path) -> str:
    """The Markdown that replaces one marker (``core``, ``plugins`` or ``cli``)."""
    example = config_reference.load_example_config(ROOT / "config.example.yaml")
    if kind == "core":
        return config_reference.render_core_reference(example)
    if kind == "plugins":
        def page_for(section: str) -> str | None:
            page = docs_dir / "plugins" / f"{section}.md"
            if not page.is_file():
                return None
            return Path("plugins", f"{section}.md").as_posix() if page_dir == docs_dir else \
                Path("..", "plugins", f"{section}.md").as_posix()

        return config_reference.render_plugins_reference(example, page_for=page_for)
    return cli_reference()


def cli_reference() -> str:
    """One section per ``civicbot`` command, with its ``--help`` text."""
    import argparse

    from civicbot.cli import build_parser

    parser = build_parser()
    parser.prog = "civicbot"
    out = ["## `civicbot`\n", "```text", parser.format_help().rstrip(), "```\n"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += [f"## `civicbot {name}`\n", "```text", sub.format_help().rstrip(),
                        "```\n"]
    return "\n".join(out)


def expand(markdown: str, docs_dir: Path, page_dir: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        kind = match.group(2) or "cli"
        return render_marker(kind, docs_dir, page_dir)

    return MARKER.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """MkDocs event: replace the markers of the page being built."""
    docs_dir = Path(config["docs_dir"])
    page_dir = (docs_dir / page.file.src_path).parent
    return expand(markdown, docs_dir, page_dir)
