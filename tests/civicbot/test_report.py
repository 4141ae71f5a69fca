"""``civicbot report``: its tables match the snapshots exactly, in HTML and in CSV."""

from __future__ import annotations

import csv
import shutil
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from engagement_month import PARIS, Month, Post

from civicbot.cli import main
from civicbot.report import Report, build_report, render_fragment, render_html, write_csv
from civicbot.state import SQLiteStateStore

WEEKDAYS_FR = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]
ANSWERS = [("rule:horaires", 7), ("command:agenda", 3), ("fallback", 4), ("rule:déchets", 1)]


@pytest.fixture(scope="module")
def state(engagement_month: Month, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the month's store, with a few days of auto-reply counters."""
    path = tmp_path_factory.mktemp("report") / "state.sqlite3"
    shutil.copy(engagement_month.state, path)
    store = SQLiteStateStore(path)
    first = engagement_month.end.date() - timedelta(days=5)
    for i, (name, count) in enumerate(ANSWERS):
        for n in range(count):  # spread over several days
            store.add_daily_count("default", first + timedelta(days=(i + n) % 5),
                                  "auto_reply.answers", name)
    # older than the report's period: not counted
    store.add_daily_count("default", date(2026, 1, 5), "auto_reply.answers", "fallback", 50)
    store.close()
    return path


@pytest.fixture(scope="module")
def report(state: Path, engagement_month: Month) -> Report:
    store = SQLiteStateStore(state)
    try:
        return build_report(store, [("default", PARIS)], since=timedelta(days=90),
                            now=engagement_month.end)
    finally:
        store.close()


def label(post: Post) -> str:
    return f"{post.source} · {post.job}" if post.source else "hors civicbot"


def engagement(month: Month, post: Post) -> int:
    favourites, boosts, replies, _day = month.expected_counts[post.status_id]
    return favourites + boosts + replies


def stats(groups: dict[str, list[int]]) -> list[tuple[str, int, float, int]]:
    return [(key, len(v), float(statistics.median(v)), max(v)) for key, v in groups.items()]


def expected_tables(month: Month) -> dict[str, list[tuple[object, ...]]]:
    posts = list(month.posts.values())
    weekly: Counter[tuple[str, str]] = Counter()
    sources: dict[str, list[int]] = defaultdict(list)
    hours: dict[str, list[int]] = defaultdict(list)
    days: dict[int, list[int]] = defaultdict(list)
    for post in posts:
        local = post.created_at.astimezone(PARIS)
        monday = local.date() - timedelta(days=local.weekday())
        weekly[(monday.isoformat(), label(post))] += 1
        sources[label(post)].append(engagement(month, post))
        hours[f"{local.hour:02d}:00"].append(engagement(month, post))
        days[local.weekday()].append(engagement(month, post))
    best = sorted(posts, key=lambda p: (-engagement(month, p), p.created_at, p.status_id))[:10]
    return {
        "followers": [(d.isoformat(), f, g, s) for d, f, g, s in month.expected_days],
        "posts_per_week": [(w, s, n) for (w, s), n in sorted(weekly.items())],
        "engagement_by_source": sorted(stats(sources), key=lambda r: (-r[2], r[0])),
        "engagement_by_hour": sorted(stats(hours)),
        "engagement_by_weekday": [(WEEKDAYS_FR[d], *rest)
                                  for d, *rest in sorted(stats(days))],
        "top_posts": [(rank, p.created_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M"),
                       label(p), *month.expected_counts[p.status_id][:3],
                       engagement(month, p), p.url) for rank, p in enumerate(best, start=1)],
        "answers": [("règle « horaires »", 7), ("sans réponse prévue (message par défaut)", 4),
                    ("commande « agenda »", 3), ("règle « déchets »", 1)],
    }


def test_the_tables_match_the_snapshots_exactly(report: Report,
                                                engagement_month: Month) -> None:
    [account] = report.accounts
    expected = expected_tables(engagement_month)
    assert [t.key for t in account.tables] == list(expected)
    for key, rows in expected.items():
        assert account.table(key).rows == rows, key
    # the simulation is rich enough for the comparison to mean something
    assert len(expected["posts_per_week"]) >= 12
    assert {r[1] for r in expected["posts_per_week"]} == {"town · agenda", "town · meteo",
                                                          "hors civicbot"}
    assert expected["top_posts"][0][6] > expected["top_posts"][-1][6]


class Tables(HTMLParser):
    """The cells (and links) of every <table> of a page, by table id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs)["id"] or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "a" and self._cell is not None:
            self._cell.append(dict(attrs)["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def number(text: str) -> float:
    return float(text.replace("\u202f", "").replace("\xa0", "").replace(",", "."))


def test_the_html_page_shows_the_same_numbers(report: Report, engagement_month: Month) -> None:
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"fr\">")
    assert "<script" not in page and "http-equiv=\"Content-Security-Policy\"" in page
    assert page.count("<svg") == 6  # every table but the top 10 has its chart
    parser = Tables()
    parser.feed(page)
    for key, rows in expected_tables(engagement_month).items():
        cells = parser.tables[f"default-{key.replace('_', '-')}"]
        assert len(cells) == len(rows) + 1, key  # a header row, then the data
        for got, want in zip(cells[1:], rows, strict=True):
            for text, value in zip(got, want, strict=True):
                if key == "top_posts" and isinstance(value, str) and value.startswith("http"):
                    assert text.startswith(value)  # the link, then its text
                elif isinstance(value, int | float):
                    assert number(text) == value, (key, got, want)
                else:
                    assert text == value, (key, got, want)


def test_the_csv_files_load_back_to_the_same_numbers(report: Report, engagement_month: Month,
                                                     tmp_path: Path) -> None:
    written = write_csv(report, tmp_path / "csv")
    expected = expected_tables(engagement_month)
    assert [p.name for p in written] == [f"{key}.csv" for key in expected]
    for key, rows in expected.items():
        with (tmp_path / "csv" / f"{key}.csv").open(encoding="utf-8-sig", newline="") as f:
            header, *lines = list(csv.reader(f))
        assert header[0] == "Compte"
        assert header[1:] == report.accounts[0].table(key).columns
        assert len(lines) == len(rows)
        for line, want in zip(lines, rows, strict=True):
            assert line[0] == "default"
            for text, value in zip(line[1:], want, strict=True):
                if isinstance(value, int | float):
                    assert float(text) == value
                else:
                    assert text == value


def test_english_and_a_fragment_for_another_page(state: Path, engagement_month: Month) -> None:
    store = SQLiteStateStore(state)
    try:
        report = build_report(store, [("default", PARIS)], since=timedelta(days=7),
                              now=engagement_month.end, language="en")
    finally:
        store.close()
    fragment = render_fragment(report, heading_level=2)
    assert fragment.startswith('<div class="civicbot-report" lang="en">')
    assert "<html" not in fragment and "<h2>Mastodon audience report</h2>" in fragment
    assert '<h4 id="default-followers-title">Followers over time</h4>' in fragment
    assert "Monday" in fragment or "Sunday" in fragment
    assert len(report.accounts[0].table("followers").rows) == 8  # 7 days back, and today


def test_cli_html_csv_and_errors(state: Path, engagement_month: Month, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "civicbot.yaml"
    cfg.write_text(f"mastodon:\n  api_base_url: sandbox\nstate: {state}\n")
    out = tmp_path / "out" / "rapport.html"
    with time_machine.travel(engagement_month.end, tick=False):
        assert main(["report", "--config", str(cfg), "--out", str(out)]) == 0
        page = out.read_text(encoding="utf-8")
        assert '<html lang="fr">' in page and "Abonnés au fil du temps" in page
        assert main(["report", "--config", str(cfg), "--since", "30d", "--account", "default",
                     "--language", "en", "--out", str(out)]) == 0
        assert '<html lang="en">' in out.read_text(encoding="utf-8")
        assert main(["report", "--config", str(cfg), "--format", "csv",
                     "--out", str(tmp_path / "csv")]) == 0
        assert (tmp_path / "csv" / "answers.csv").exists()
        capsys.readouterr()
        assert main(["report", "--config", str(cfg), "--since", "beaucoup",
                     "--out", str(out)]) == 2
        assert "--since" in capsys.readouterr().err
        assert main(["report", "--config", str(cfg), "--account", "musee",
                     "--out", str(out)]) == 2
