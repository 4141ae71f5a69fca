"""Météo-France's official vigilance map (``DPVigilance/v1/cartevigilance/encours``).

The document is ``{"product": {"update_time", "periods": [{"echeance": "J"|"J1",
"begin_validity_time", "end_validity_time", "timelaps": {"domain_ids": [{"domain_id": "41",
"phenomenon_items": [{"phenomenon_id": "3", "phenomenon_max_color_id": 3, "timelaps_items":
[{"begin_time", "end_time", "color_id"}]}]}]}}]}}``; colours are 1 green, 2 yellow, 3 orange,
4 red. The map lists every phenomenon of the département, green included, so a phenomenon back
to green is the source itself saying the vigilance is over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from civicbot_weather.cap import parse_time
from civicbot_weather.model import LEVELS, VIGILANCE_PHENOMENA, Alert, SourceError, slug

SENDER = "Météo-France"


@dataclass
class _Acc:
    color: int = 1
    onset: datetime | None = None
    expires: datetime | None = None

    def add(self, color: int, begin: datetime | None, end: datetime | None) -> None:
        self.color = max(self.color, color)
        if color >= 2:
            if begin is not None and (self.onset is None or begin < self.onset):
                self.onset = begin
            if end is not None and (self.expires is None or end > self.expires):
                self.expires = end


def _color(value: Any) -> int:
    try:
        color = int(value)
    except (TypeError, ValueError):
        return 0
    return color if 1 <= color <= 4 else 0


def _phenomenon(value: Any) -> str | None:
    """Our key for a ``phenomenon_id``; an id this plugin does not know yet (Météo-France may add
    one) is kept as ``vigilance:<id>`` rather than dropped: an orange warning is never lost."""
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    return VIGILANCE_PHENOMENA.get(text) or f"vigilance:{text}"


def vigilance_page(name: str) -> str:
    """The département's page on vigilance.meteofrance.fr."""
    return f"https://vigilance.meteofrance.fr/fr/{slug(name)}"


def parse_vigilance(data: bytes, *, departement: str, area: str, web: str) -> list[Alert]:
    """One :class:`Alert` per phenomenon listed for ``departement`` (green ones included).

    Raises :class:`SourceError` when the document is malformed or does not list the
    département (an incomplete map is never read as "all green").
    """
    what = "Météo-France vigilance map"
    try:
        doc = json.loads(data)
        product = doc["product"]
        periods = product["periods"]
        sent = parse_time(str(product.get("update_time") or ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"{what}: malformed document: {exc!r}") from exc
    if not isinstance(periods, list) or not periods:
        raise SourceError(f"{what}: no periods in the document")
    if sent is None:
        raise SourceError(f"{what}: no valid update_time")
    try:
        found, acc = _accumulate(periods, departement)
    except (AttributeError, TypeError, ValueError) as exc:  # a list or null where a map is due
        raise SourceError(f"{what}: malformed document: {exc!r}") from exc
    if not found:
        raise SourceError(f"{what}: département {departement} is not in the document")
    out = []
    for phenomenon, entry in acc.items():
        out.append(Alert(
            phenomenon=phenomenon, level=LEVELS[entry.color - 1], area_key=slug(area),
            area=area, onset=entry.onset, expires=entry.expires, sent=sent,
            sender=SENDER, web=web, language="fr-FR",
            identifier=f"vigilance:{departement}:{sent.isoformat()}",
        ))
    return out


def _accumulate(periods: list[Any], departement: str) -> tuple[bool, dict[str, _Acc]]:
    """Whether ``departement`` is in the map, and its colours and times per phenomenon."""
    found = False
    acc: dict[str, _Acc] = {}
    for period in periods:
        if not isinstance(period, dict):
            continue
        p_begin = parse_time(str(period.get("begin_validity_time") or ""))
        p_end = parse_time(str(period.get("end_validity_time") or ""))
        domains = (period.get("timelaps") or {}).get("domain_ids") or []
        for domain in domains:
            if not isinstance(domain, dict) or str(domain.get("domain_id", "")).upper() != \
                    departement:
                continue
            found = True
            for item in domain.get("phenomenon_items") or []:
                phenomenon = _phenomenon(item.get("phenomenon_id"))
                color = _color(item.get("phenomenon_max_color_id"))
                if phenomenon is None or not color:
                    continue
                entry = acc.setdefault(phenomenon, _Acc())
                intervals = [i for i in item.get("timelaps_items") or []
                             if isinstance(i, dict) and _color(i.get("color_id")) >= 2]
                if color >= 2 and not intervals:
                    entry.add(color, p_begin, p_end)
                    continue
                entry.color = max(entry.color, color)
                for interval in intervals:
                    entry.add(_color(interval.get("color_id")),
                              parse_time(str(interval.get("begin_time") or "")),
                              parse_time(str(interval.get("end_time") or "")))
    return found, acc
