"""Reading every configured alert source into observations, each failure logged and contained."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from civicbot import Fetcher
from civicbot_weather.cap import parse_cap
from civicbot_weather.config import SourceConfig
from civicbot_weather.fetch import fetch
from civicbot_weather.meteoalarm import cap_links
from civicbot_weather.model import Alert, Cancellation, SourceError
from civicbot_weather.vigilance import parse_vigilance, vigilance_page

Observation = Alert | Cancellation


@dataclass
class SourceReport:
    """What one source gave this poll; ``error`` set means its state must not be trusted."""

    name: str
    observations: list[Observation] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def read_source(source: SourceConfig, *, fetcher: Fetcher, language: str, timeout: float,
                log: Any) -> SourceReport:
    report = SourceReport(source.display_name)
    try:
        if source.meteoalarm is not None:
            _read_meteoalarm(fetcher, source, source.meteoalarm, report, language, timeout,
                             log)
        elif source.cap is not None:
            data = fetch(fetcher, source.cap, timeout=timeout)
            report.observations += parse_cap(data, areas=source.areas, label=source.label,
                                             language=language, what=f"CAP {source.cap}")
        elif source.vigilance is not None:
            vig = source.vigilance
            data = fetch(fetcher, f"{vig.base_url}/cartevigilance/encours", timeout=timeout,
                         headers={"apikey": vig.api_key.get_secret_value(),
                                  "Accept": "application/json"})
            area = source.area_label or vig.departement
            report.observations += parse_vigilance(data, departement=vig.departement, area=area,
                                                   web=vigilance_page(area))
    except SourceError as exc:
        report.error = str(exc)
    except Exception as exc:  # a parser bug on odd data: this source only, state kept
        report.error = f"unexpected {type(exc).__name__}: {exc}"
        report.observations = []
        log.error("weather alert source crashed", source=report.name, error=repr(exc),
                  exc_info=exc)
    # every post must carry an official link: the source's own when the CAP has no <web>
    fallback = "https://meteoalarm.org" if source.meteoalarm else (
        source.cap if source.cap and source.cap.startswith(("http://", "https://")) else "")
    report.observations = [
        dataclasses.replace(obs, web=fallback)
        if isinstance(obs, Alert) and not obs.web and fallback else obs
        for obs in report.observations]
    if report.error:
        log.warning("weather alert source failed; keeping the last known state",
                    source=report.name, error=report.error)
    return report


def _read_meteoalarm(fetcher: Fetcher, source: SourceConfig, url: str, report: SourceReport,
                     language: str, timeout: float, log: Any) -> None:
    links = cap_links(fetch(fetcher, url, timeout=timeout), areas=source.areas, feed_url=url)
    if not links:
        log.info("no MeteoAlarm entry for the watched areas", source=report.name)
    errors = []
    for link in links:
        try:
            report.observations += parse_cap(fetch(fetcher, link, timeout=timeout), areas=source.areas,
                                             label=source.label, language=language,
                                             what=f"CAP {link}")
        except SourceError as exc:
            errors.append(str(exc))
    if errors:
        report.error = "; ".join(errors)
