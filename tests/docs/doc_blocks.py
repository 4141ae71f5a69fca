"""Find the fenced code blocks of the Markdown documentation (shared by the docs tests).

A block is preceded, optionally, by an HTML comment that changes how the tests treat it:
``<!-- no-run: why -->`` (the reason is mandatory) keeps a block from being run or validated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)(?P<attrs>.*)$")
_NO_RUN = re.compile(r"^\s*<!--\s*no-run\b:?(?P<reason>.*?)-->\s*$")
_SNIPPET = re.compile(r"""^\s*--8<--\s+["']([^"']+)["']\s*$""")
_TITLE = re.compile(r"""title=(?:"([^"]*)"|'([^']*)'|(\S+))""")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    index: int  # position among the page's fenced blocks, from 0
    line: int  # 1-based line of the opening fence
    lang: str
    title: str | None
    code: str
    no_run: str | None  # the reason given in <!-- no-run: ... -->, if any

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}#{self.index}-{self.lang or 'text'}"


def markdown_pages() -> list[Path]:
    """Every Markdown page of the docs, and the README."""
    pages = sorted(p for p in DOCS.rglob("*.md") if "site" not in p.relative_to(ROOT).parts)
    readme = ROOT / "README.md"
    return [readme, *pages] if readme.is_file() else pages


def blocks_of(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        match = _OPEN.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match.group("indent"), match.group("fence")
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        no_run = _NO_RUN.match(previous)
        title = _TITLE.search(match.group("attrs"))
        out.append(Block(
            page=page, index=len(out), line=start + 1, lang=match.group("lang").lower(),
            title=next((g for g in title.groups() if g), None) if title else None,
            code=_expand_snippets("\n".join(body) + "\n"),
            no_run=no_run.group("reason").strip() if no_run else None,
        ))
    return out


def _expand_snippets(code: str) -> str:
    """Include the files named by ``--8<-- "path"`` lines (pymdownx.snippets, from the root)."""
    out = []
    for line in code.splitlines(keepends=True):
        match = _SNIPPET.match(line)
        out.append((ROOT / match.group(1)).read_text(encoding="utf-8") if match else line)
    return "".join(out)


def all_blocks() -> list[Block]:
    return [block for page in markdown_pages() for block in blocks_of(page)]
