"""Cut a digest into posts between events (never inside one), numbered ``i/n``."""

from __future__ import annotations

from dataclasses import dataclass

from civicbot import mastodon_length
from civicbot_event_digest.model import clean


@dataclass(frozen=True)
class Item:
    """One event's text under its day heading."""

    day: str
    text: str


def _fit(item: Item, budget: int) -> Item:
    """An item too long for any post loses its link line, then is shortened."""
    if mastodon_length(f"{item.day}\n{item.text}") <= budget:
        return item
    lines = item.text.split("\n")
    text = "\n".join(line for line in lines if not line.startswith(("http://", "https://")))
    room = max(20, budget - len(item.day) - 1)
    if mastodon_length(text) > room:
        text = clean(text, room)
    return Item(item.day, text)


def _pack(head: str, items: list[Item], footer: str, budget: int) -> list[str]:
    tail = f"\n\n{footer}" if footer else ""
    reserve = mastodon_length(tail)
    parts: list[str] = []
    current, current_day = head, None
    for index, raw in enumerate(items):
        item = _fit(raw, budget - reserve)
        extra = tail if index == len(items) - 1 else ""
        if current and current_day == item.day:
            piece = f"\n{item.text}"
        else:
            piece = ("\n\n" if current else "") + f"{item.day}\n{item.text}"
        if mastodon_length(current + piece + extra) <= budget:
            current += piece
        else:
            if current:
                parts.append(current)
            current = f"{item.day}\n{item.text}"
        current_day = item.day
    if footer:
        if current and mastodon_length(current + tail) > budget:
            parts.append(current)
            current = ""
        current = current + tail if current else footer
    if current:
        parts.append(current)
    return parts


def thread(head: str, items: list[Item], footer: str, limit: int) -> list[str]:
    """One post if everything fits in ``limit``; otherwise parts ending with ``\\n\\ni/n``."""
    single = _pack(head, items, footer, limit)
    if len(single) <= 1:
        return single
    guess = len(single)
    while True:
        budget = limit - len(f"\n\n{guess}/{guess}")
        parts = _pack(head, items, footer, budget)
        if len(str(len(parts))) <= len(str(guess)):
            break
        guess = len(parts)
    total = len(parts)
    return [f"{part}\n\n{i}/{total}" for i, part in enumerate(parts, 1)]
