"""Durations written by people: ``90s``, ``10m``, ``2h``, ``1d``, ``1h30m`` or a number of seconds."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    """Parse a duration.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    >>> parse_duration(45)
    datetime.timedelta(seconds=45)
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 10m, 2h or 1d")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30s, 10m, 2h or 1d")
    text = value.strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return timedelta(seconds=float(text))
    if not text or _PART.sub("", text):
        raise ValueError(f"expected a duration such as 30s, 10m, 2h or 1d, got {value!r}")
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Format a duration the way it is written in the config (``1h30m``, ``45s``)."""
    total = int(delta.total_seconds())
    if total == 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)
