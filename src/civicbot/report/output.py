"""The report as one self-contained HTML page (inline SVG, inline CSS, no script) or CSV files."""

from __future__ import annotations

import csv
import functools
import re
import sys
from html import escape
from pathlib import Path

from civicbot.__about__ import __version__
from civicbot.report.charts import chart_svg
from civicbot.report.data import Cell, Report, Table
from civicbot.report.texts import texts_for

CSS = """
.civicbot-report { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
  sans-serif; color: #111; background: #fff; line-height: 1.5; max-width: 62rem;
  margin: 0 auto; padding: 1rem; }
.civicbot-report a { color: #0b4f9c; text-decoration: underline; }
.civicbot-report a:focus, .civicbot-report [tabindex]:focus { outline: 3px solid #b35c00;
  outline-offset: 2px; }
.civicbot-report figure { margin: 1rem 0; }
.civicbot-report svg { max-width: 100%; height: auto; display: block; }
.civicbot-report .table-wrap { max-height: 24rem; overflow: auto; margin-bottom: 2rem; }
.civicbot-report table { border-collapse: collapse; font-size: 0.95rem; }
.civicbot-report caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
.civicbot-report th, .civicbot-report td { border: 1px solid #767676; padding: 0.2rem 0.5rem;
  text-align: left; }
.civicbot-report td.num { text-align: right; font-variant-numeric: tabular-nums; }
.civicbot-report thead th { background: #e8e8e8; position: sticky; top: 0; }
.civicbot-report .note { color: #333; font-style: italic; }
"""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@functools.cache
def _symbols(language: str) -> tuple[str, str]:
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return str(get_decimal_symbol(language)), str(get_group_symbol(language))


def format_cell(value: Cell, language: str) -> str:
    """A number in the report's language (``1 234``, ``2,5`` in French), text as is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    decimal, group = _symbols(language)
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


def _table_html(table: Table, table_id: str, language: str, caption: str) -> str:
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in table.columns)
    body: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for i, value in enumerate(row):
            text = escape(format_cell(value, language))
            if i == table.link_column and value:
                # the link's purpose is given by its row (WCAG 2.4.4, link in context)
                cells.append(f'<td><a href="{escape(str(value))}">'
                             f'{escape(texts_for(language)["open"])}</a></td>')
            elif i == 0:
                cells.append(f'<th scope="row">{text}</th>')
            else:
                css = ' class="num"' if isinstance(value, int | float) else ""
                cells.append(f"<td{css}>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="table-wrap" role="region" tabindex="0" '
            f'aria-labelledby="{table_id}-caption">'
            f'<table id="{table_id}"><caption id="{table_id}-caption">{escape(caption)}'
            f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "</div>")


def _chart(item: tuple[Table, str, str]) -> str | None:
    return chart_svg(*item)


def draw_charts(items: list[tuple[Table, str, str]], workers: int = 1) -> list[str | None]:
    """Every chart's SVG, in order; with ``workers`` > 1 drawn by that many processes (a
    many-account report on a multi-core machine). Only for single-threaded programs such as
    the ``civicbot report`` command: it forks."""
    if workers <= 1 or len(items) < 2 * workers or sys.platform != "linux":
        return [_chart(item) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import matplotlib.figure  # noqa: F401 - imported once, before forking

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_chart, items, chunksize=max(1, len(items) // (4 * workers))))


def render_fragment(report: Report, *, heading_level: int = 1, workers: int = 1,
                    style: bool = True) -> str:
    """The report's content in a ``<div class="civicbot-report" lang="…">``, to embed in
    another page (the desk); ``heading_level`` is the level of its title (account sections and
    charts go one and two levels below). With ``style`` it starts with its ``<style>`` (else
    put :data:`CSS` in the page's head). ``workers``: see :func:`draw_charts` (keep 1 in a
    threaded server)."""
    words = texts_for(report.language)
    items = [(table, f"{_slug(account.name)}-{table.key.replace('_', '-')}-title",
              report.language)
             for account in report.accounts for table in account.tables]
    charts = iter(draw_charts(items, workers))
    h1, h2, h3 = (f"h{min(6, heading_level + i)}" for i in range(3))
    intro = words["intro"].format(start=report.start.isoformat(), end=report.end.isoformat(),
                                  days=(report.end - report.start).days)
    parts = [f'<div class="civicbot-report" lang="{report.language}">',
             f"<style>{CSS}</style>" if style else "",
             f"<{h1}>{escape(words['title'])}</{h1}>", f"<p>{escape(intro)}</p>"]
    if len(report.accounts) > 1:
        links = "".join(f'<li><a href="#account-{_slug(a.name)}">'
                        f"{escape(words['account'].format(name=a.name))}</a></li>"
                        for a in report.accounts)
        parts.append(f'<nav aria-labelledby="contents"><{h2} id="contents">'
                     f"{escape(words['contents'])}</{h2}><ul>{links}</ul></nav>")
    for account in report.accounts:
        slug = _slug(account.name)
        parts.append(f'<section aria-labelledby="account-{slug}">'
                     f'<{h2} id="account-{slug}">'
                     f"{escape(words['account'].format(name=account.name))}</{h2}>")
        for table in account.tables:
            table_id = f"{slug}-{table.key.replace('_', '-')}"
            title_id = f"{table_id}-title"
            parts.append(f'<section class="chart" aria-labelledby="{title_id}">'
                         f'<{h3} id="{title_id}">{escape(table.title)}</{h3}>')
            svg = next(charts)
            if not table.rows:
                parts.append(f"<p>{escape(words['no_data'])}</p></section>")
                continue
            if svg is not None:
                parts.append(f'<figure class="chart-figure" id="{table_id}-chart">{svg}</figure>')
            if table.note:
                parts.append(f'<p class="note">{escape(table.note)}</p>')
            caption = (f"{words['data_table']} : {table.title}" if report.language == "fr"
                       else f"{words['data_table']}: {table.title}")
            if table.chart is None:
                caption = table.title
            parts.append(_table_html(table, table_id, report.language, caption))
            parts.append("</section>")
        parts.append("</section>")
    made = words["generated"].format(
        version=__version__, when=report.generated_at.strftime("%Y-%m-%d %H:%M %Z"))
    parts.append(f"<p><small>{escape(made)}</small></p></div>")
    return "\n".join(parts)


def render_html(report: Report, *, workers: int = 1) -> str:
    """A complete, self-contained HTML document (no script, no external resource)."""
    words = texts_for(report.language)
    return ("<!DOCTYPE html>\n"
            f'<html lang="{report.language}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">\n"
            f"<title>{escape(words['title'])}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n<main>\n{render_fragment(report, workers=workers, style=False)}\n"
            "</main>\n</body>\n</html>\n")


def write_csv(report: Report, folder: Path) -> list[Path]:
    """One CSV file per table (``followers.csv``, ``posts_per_week.csv``...), with an account
    column first; UTF-8 with a byte-order mark so that spreadsheets read the accents."""
    words = texts_for(report.language)
    account_col = words["account"].split(" ")[0]
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if not report.accounts:
        return written
    for index, table in enumerate(report.accounts[0].tables):
        path = folder / f"{table.key}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([account_col, *table.columns])
            for account in report.accounts:
                for row in account.tables[index].rows:
                    writer.writerow([account.name, *row])
        written.append(path)
    return written
