"""Read one post from a Markdown file: YAML front matter between ``---`` lines, then the text.

::

    ---
    id: fete-musique
    at: 2026-06-21T10:00:00+02:00
    media:
      - path: affiche.jpg
        description: Affiche de la Fête de la musique
    ---
    C'est la Fête de la musique ! Programme : https://...

The id defaults to the file name without ``.md``; relative media paths are read from the
file's folder. A broken file gives a :class:`PostFile` with an ``error`` naming the file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from civicbot_scheduled_posts.config import PostSpec

#: Characters of front matter a post file may have (its settings, not its text).
MAX_FRONT_MATTER = 20_000

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)(.*)\Z",
                           re.DOTALL | re.MULTILINE)
_EMPTY_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z",
                                 re.DOTALL)


@dataclass(frozen=True)
class PostFile:
    """What a post file gave: a post, or an error message naming the file."""

    path: Path
    digest: str
    post: PostSpec | None = None
    error: str | None = None


def is_post_file(path: Path) -> bool:
    """``*.md`` files, except those whose name starts with ``_`` or ``.`` (drafts, editors)."""
    return (path.suffix.lower() in {".md", ".markdown"} and path.is_file()
            and not path.name.startswith(("_", ".")))


def list_post_files(folder: Path) -> list[Path]:
    """The post files of ``folder`` and its sub-folders, in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*")
                  if is_post_file(p) and not any(part.startswith(".")
                                                 for part in p.relative_to(folder).parts))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def load_post_file(path: Path) -> PostFile:
    """Read and validate ``path`` (never raises for a bad file)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return PostFile(path, "", error=f"{path}: cannot read the file: {exc.strerror or exc}")
    return post_file_from_bytes(path, data)


def post_file_from_bytes(path: Path, data: bytes) -> PostFile:
    """Validate the content of a post file (never raises for a bad file)."""
    key = digest(data)
    try:
        return PostFile(path, key, post=parse_post(data, path))
    except ValueError as exc:
        return PostFile(path, key, error=f"{path}: {exc}")


def parse_post(data: bytes, path: Path) -> PostSpec:
    """Parse a post file's bytes; raise ValueError with a readable message."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None
    # files saved on Windows: the post must not carry "\r" (nor change its content hash)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValueError("the file is empty: write a line '---', the post's settings (at: ...), "
                         "a line '---', then the text")
    meta, body = split_front_matter(text)
    if "text" in meta:
        raise ValueError("text: write the text in the body of the file, after the front matter")
    fields: dict[str, Any] = {"id": path.stem, **meta, "text": body.strip()}
    try:
        return PostSpec.model_validate(fields, context={"base_dir": path.parent})
    except ValidationError as exc:
        raise ValueError(format_errors(exc)) from None


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    match = _EMPTY_FRONT_MATTER.match(text)
    if match is not None:
        return {}, match.group(1)
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ValueError("no front matter: the file must start with a line '---', then the "
                         "post's settings (id, at...), then a line '---', then the text")
    front = match.group(1)
    if len(front) > MAX_FRONT_MATTER:
        raise ValueError(f"broken front matter: {len(front):,} characters, more than the "
                         f"{MAX_FRONT_MATTER:,} a post's settings need")
    try:
        # aliases are refused before anything is built: "*a" repeating "*b" repeating... (a
        # billion values from a few lines) would exhaust the memory; a post needs none
        for event in yaml.parse(front, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 2 if event.start_mark is not None else 0
                raise ValueError(f"line {line}: broken front matter: YAML aliases (*name) are "
                                 "not allowed in a post file; write the value out")
        meta = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 2}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValueError(f"{where}broken front matter: {problem}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ValueError("broken front matter: expected 'key: value' lines")
    return {str(k): v for k, v in meta.items()}, match.group(2)


_FRIENDLY = {
    "extra_forbidden": "unknown field (check its spelling)",
    "missing": "required field is missing",
    "string_type": "expected text",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "model_type": "expected 'path:' and 'description:' lines",
    "datetime_parsing": "expected a date and time such as 2026-12-20T09:00:00+01:00",
    "datetime_from_date_parsing": "expected a date and time such as 2026-12-20T09:00:00+01:00",
}


def format_errors(exc: ValidationError) -> str:
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"])
        message = _FRIENDLY.get(err["type"]) or str(err["msg"])
        message = message.removeprefix("Value error, ")
        if err["type"] == "literal_error":
            message = f"expected one of {err.get('ctx', {}).get('expected', '')}"
        out.append(f"{loc}: {message}" if loc else message)
    return "; ".join(out)
