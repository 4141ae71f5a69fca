"""Shared helpers of the scheduled_posts tests (not a test module)."""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from civicbot import Bot, html_to_text

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def tiny_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 40)) -> bytes:
    """A valid PNG image, built byte by byte."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Wait (real time) for a background thread to reach a state; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def job_run(bot: Bot, job_id: str) -> tuple[datetime, str] | None:
    return bot.state.store.get_job_run(bot.name, job_id)


def run_due(bot: Bot, job_id: str, expected: datetime, outcome: str = "ok") -> None:
    """After moving fake time: let the scheduler run ``job_id`` for ``expected`` and finish."""
    bot.scheduler.wakeup()
    wait_until(lambda: job_run(bot, job_id) == (expected, outcome))
    assert bot.scheduler.wait_idle()


def texts(statuses: list[dict[str, Any]]) -> list[str]:
    return [html_to_text(s["content"]) for s in statuses]


def write_post(folder: Path, name: str, front_matter: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"---\n{front_matter.strip()}\n---\n{body}\n", encoding="utf-8")
    return path


def config(posts: list[dict[str, Any]] | None = None, **section: Any) -> dict[str, Any]:
    """A bot config with the scheduled_posts section."""
    return {"timezone": "Europe/Paris",
            "plugins": {"scheduled_posts": {"posts": posts or [], **section}}}
