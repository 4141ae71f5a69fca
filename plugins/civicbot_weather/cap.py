"""Parse a CAP 1.2 document (Météo-France, MeteoAlarm, DWD...) into :class:`Alert` objects."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Literal
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from civicbot_weather.model import (
    AWARENESS_TYPES,
    EVENT_GROUPS,
    LEVELS,
    Alert,
    Cancellation,
    Level,
    SourceError,
    slug,
)

_SEVERITY_LEVELS: dict[str, Level] = {
    "extreme": "red",
    "severe": "orange",
    "moderate": "yellow",
    # a warning that was issued is at least the lowest warning level
    "minor": "yellow",
    "unknown": "yellow",
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node: Element, name: str) -> Element | None:
    for child in node:
        if _local(child.tag) == name:
            return child
    return None


def _children(node: Element, name: str) -> list[Element]:
    return [child for child in node if _local(child.tag) == name]


def _text(node: Element, name: str) -> str:
    child = _child(node, name)
    return (child.text or "").strip() if child is not None else ""


def _clean(text: str) -> str:
    """Runs of spaces and tabs become one space; paragraphs (blank lines) are kept."""
    paragraphs = [" ".join(p.split()) for p in text.replace("\r", "").split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def _pairs(node: Element, name: str) -> list[tuple[str, str]]:
    """``<parameter><valueName/><value/></parameter>``-style pairs."""
    return [(_text(p, "valueName"), _text(p, "value")) for p in _children(node, name)]


def parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def parse_xml(data: bytes, what: str) -> Element:
    """Parse untrusted XML safely (defusedxml); raise :class:`SourceError` if malformed."""
    if not data.strip():
        raise SourceError(f"{what}: empty document")
    try:
        root: Element = SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException, ValueError) as exc:
        raise SourceError(f"{what}: malformed XML: {exc}") from exc
    return root


def _level(info: Element) -> Level:
    for name, value in _pairs(info, "parameter"):
        if name.lower() == "awareness_level":
            parts = [p.strip().lower() for p in value.split(";")]
            by_name: dict[str, Level] = {name: name for name in LEVELS}
            for part in parts:
                if part in by_name:
                    return by_name[part]
            if parts and parts[0].isdigit() and 1 <= int(parts[0]) <= 4:
                return LEVELS[int(parts[0]) - 1]
    return _SEVERITY_LEVELS.get(_text(info, "severity").lower(), "yellow")


def _phenomenon(info: Element) -> str:
    for name, value in _pairs(info, "parameter"):
        if name.lower() == "awareness_type":
            number = value.split(";", 1)[0].strip()
            if number.isdigit() and int(number) in AWARENESS_TYPES:
                return AWARENESS_TYPES[int(number)]
    for name, value in _pairs(info, "eventCode"):
        if name.upper() == "GROUP" and value.upper() in EVENT_GROUPS:
            return EVENT_GROUPS[value.upper()]
    return "event:" + (slug(_text(info, "event")) or "unknown")


def _references(alert: Element) -> tuple[str, ...]:
    """The identifiers an Update/Cancel refers to (``sender,identifier,sent`` triplets)."""
    out = []
    for triplet in _text(alert, "references").split():
        parts = triplet.split(",")
        if len(parts) >= 2:
            out.append(parts[1])
    return tuple(out)


def _choose_infos(infos: list[Element], language: str) -> list[Element]:
    """The info blocks in the preferred language (``fr`` picks ``fr-FR``), else the first
    language found."""
    by_lang: dict[str, list[Element]] = {}
    for info in infos:
        by_lang.setdefault(_text(info, "language") or "en-US", []).append(info)
    for lang, group in by_lang.items():
        if lang.lower() == language.lower() or lang.lower().split("-")[0] == language.lower():
            return group
    return next(iter(by_lang.values()), [])


def _area_matches(area: Element, wanted: list[str]) -> str | None:
    """The matching geocode or area name, or None."""
    codes = [value for _, value in _pairs(area, "geocode")]
    desc = _text(area, "areaDesc")
    for item in wanted:
        for code in codes:
            if code.upper() == item.upper():
                return code.upper()
        if desc and slug(desc) == slug(item):
            return slug(desc)
    return None


def parse_cap(
    data: bytes,
    *,
    areas: list[str],
    label: str | None = None,
    language: str = "fr",
    what: str = "CAP document",
) -> list[Alert | Cancellation]:
    """The warnings a CAP 1.2 document gives for the wanted areas (all areas if none given).

    Raises :class:`SourceError` when the document is not a CAP alert.
    """
    root = parse_xml(data, what)
    if _local(root.tag) != "alert":
        raise SourceError(f"{what}: not a CAP alert (root element <{_local(root.tag)}>)")
    sent = parse_time(_text(root, "sent"))
    msg_type = _text(root, "msgType")
    if sent is None or not msg_type:
        raise SourceError(f"{what}: CAP alert without a valid <sent> or <msgType>")
    if _text(root, "status") not in ("Actual", ""):
        return []  # Test, Exercise, System, Draft: never relayed
    if msg_type not in ("Alert", "Update", "Cancel"):
        return []  # Ack, Error
    identifier = _text(root, "identifier")
    references = _references(root)
    infos = _choose_infos(_children(root, "info"), language)
    if not infos:
        if msg_type == "Cancel" and references:
            return [Cancellation(references=references, sent=sent,
                                 sender=_text(root, "sender"))]
        return []
    out: list[Alert | Cancellation] = []
    for info in infos:
        response = {(r.text or "").strip() for r in _children(info, "responseType")}
        kind: Literal["active", "cancel", "allclear"] = "active"
        if msg_type == "Cancel":
            kind = "cancel"
        elif "AllClear" in response:
            kind = "allclear"
        template = Alert(
            phenomenon=_phenomenon(info),
            level=_level(info),
            area_key="",
            area="",
            onset=parse_time(_text(info, "onset")) or parse_time(_text(info, "effective")),
            expires=parse_time(_text(info, "expires")),
            sent=sent,
            kind=kind,
            event=_text(info, "event"),
            headline=_clean(_text(info, "headline")),
            description=_clean(_text(info, "description")),
            instruction=_clean(_text(info, "instruction")),
            web=_text(info, "web"),
            sender=_text(info, "senderName") or _text(root, "sender"),
            language=_text(info, "language"),
            identifier=identifier,
            references=references,
        )
        seen: set[str] = set()
        for area in _children(info, "area"):
            desc = _text(area, "areaDesc")
            if areas:
                matched = _area_matches(area, areas)
                if matched is None:
                    continue
            else:
                codes = [value for _, value in _pairs(area, "geocode")]
                matched = codes[0].upper() if codes else slug(desc)
            area_key = slug(label) if label else matched
            if area_key in seen:
                continue
            seen.add(area_key)
            out.append(dataclasses.replace(template, area_key=area_key,
                                           area=label or desc or matched))
    return out
