"""The report's charts as inline SVG, drawn with matplotlib (imported here only).

Readable in grey scale and for colour-blind readers: every series has its own hatch pattern,
line style or marker on top of an Okabe-Ito colour, black edges, titles and axis labels.
"""

from __future__ import annotations

import io
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from civicbot.report.data import Table

COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#999999")
HATCHES = ("//", "..", "xx", "\\\\", "oo", "--", "++", "**", "||", "OO")
MARKERS = ("o", "s", "^", "D")
LINES = ("-", "--", ":", "-.")
_RC: dict[str, Any] = {
    "svg.fonttype": "none",  # real text: selectable, zoomable, read by screen readers
    "font.family": "sans-serif",
    "font.size": 10,
    "hatch.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def chart_svg(table: Table, label_id: str, language: str = "fr") -> str | None:
    """The table's chart as an ``<svg>`` element (``None`` for a table without chart or rows);
    ``label_id`` is the id of the element that names it (``aria-labelledby``); dates are
    written in ``language``."""
    if table.chart is None or not table.rows:
        return None
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):  # type: ignore[arg-type]
        height = 3.6
        if table.chart in ("hbars", "hbar"):
            height = max(2.4, 0.9 + 0.45 * len(table.rows) * (2 if table.chart == "hbars" else 1))
        height = min(height, 12.0)
        # fixed margins: a layout engine would draw every chart twice
        fig = Figure(figsize=(8.0, height))
        ax = fig.add_subplot()
        # few ticks on the value axis: easier to read, and each tick costs a few ms to draw
        from matplotlib.ticker import MaxNLocator

        value_axis = ax.xaxis if table.chart in ("hbars", "hbar") else ax.yaxis
        value_axis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        _DRAW[table.chart](ax, table)
        if table.chart in ("lines", "stacked"):
            _date_axis(ax, language)
        if table.chart != "stacked" and len(table.series) > 1:
            # above the plot, under the title: never over the data
            ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(table.series),
                      frameon=False, borderaxespad=0.2)
        names = max((len(str(row[0])) for row in table.rows), default=0)
        left = min(0.45, 0.06 + 0.0085 * names) if table.chart in ("hbars", "hbar") else 0.1
        rotated = (table.chart == "bars" and len(table.rows) > 8) or \
            table.chart in ("lines", "stacked")
        fig.subplots_adjust(left=left, right=0.7 if table.chart == "stacked" else 0.97,
                            top=1 - 0.7 / height, bottom=(0.75 if rotated else 0.55) / height)
        ax.set_title(table.title, loc="left", fontweight="bold",
                     pad=24 if table.chart != "stacked" and len(table.series) > 1 else 6)
        ax.set_xlabel(table.axes[0])
        ax.set_ylabel(table.axes[1])
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    svg = text[text.index("<svg"):]
    return svg.replace("<svg ", f'<svg role="img" aria-labelledby="{label_id}" '
                       'focusable="false" ', 1)


def _bar_style(i: int) -> dict[str, Any]:
    # the hatch is drawn in the edge colour: black on the fill colour
    return {"facecolor": COLOURS[i % len(COLOURS)], "hatch": HATCHES[i % len(HATCHES)],
            "edgecolor": "black", "linewidth": 0.6}


def _date_axis(ax: Axes, language: str) -> None:
    from babel.dates import format_date
    from matplotlib.dates import AutoDateLocator, num2date
    from matplotlib.ticker import FuncFormatter

    def label(value: float, _pos: int | None = None) -> str:
        day = num2date(value).date()  # type: ignore[no-untyped-call]
        return str(format_date(day, "d MMM yy", locale=language))

    ax.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=6))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.tick_params(axis="x", labelrotation=30)
    for text in ax.get_xticklabels():
        text.set_horizontalalignment("right")


def _days(values: list[str]) -> list[float]:
    from matplotlib.dates import date2num

    return [float(date2num(date.fromisoformat(v)))  # type: ignore[no-untyped-call]
            for v in values]


def _lines(ax: Axes, table: Table) -> None:
    days = _days([str(row[0]) for row in table.rows])
    every = max(1, len(days) // 12)
    for i, name in enumerate(table.series):
        ax.plot(days, [row[1 + i] for row in table.rows], label=name,
                color="black" if i == 0 else "#555555", linestyle=LINES[i % len(LINES)],
                marker=MARKERS[i % len(MARKERS)], markevery=every, markersize=5,
                linewidth=1.8)
    ax.grid(axis="y", color="#dddddd")


def _stacked(ax: Axes, table: Table) -> None:
    weeks = sorted({str(row[0]) for row in table.rows})
    labels = sorted({str(row[1]) for row in table.rows})
    counts = {(str(r[0]), str(r[1])): int(r[2]) for r in table.rows}
    # one stacked step area per series (one path each, not one rectangle per week)
    x = _days(weeks)
    x.append(x[-1] + 7)
    bottom = [0] * len(weeks)
    for i, label in enumerate(labels):
        values = [counts.get((w, label), 0) for w in weeks]
        top = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.fill_between(x, [*bottom, bottom[-1]], [*top, top[-1]], step="post", label=label,
                        **_bar_style(i))
        bottom = top
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", color="#dddddd")


def _grouped(ax: Axes, table: Table, horizontal: bool) -> None:
    names = [str(row[0]) for row in table.rows]
    positions = list(range(len(names)))
    width = 0.4
    for i, series in enumerate(table.series):
        values = [float(row[2 + i]) for row in table.rows]
        shifted = [p + (i - 0.5) * width for p in positions]
        if horizontal:
            ax.barh(shifted, values, height=width, label=series, **_bar_style(i))
        else:
            ax.bar(shifted, values, width=width, label=series, **_bar_style(i))
    if horizontal:
        ax.set_yticks(positions, names)
        ax.invert_yaxis()
        ax.grid(axis="x", color="#dddddd")
    else:
        ax.set_xticks(positions, names, rotation=90 if len(names) > 8 else 0)
        ax.grid(axis="y", color="#dddddd")


def _hbars(ax: Axes, table: Table) -> None:
    _grouped(ax, table, horizontal=True)


def _bars(ax: Axes, table: Table) -> None:
    _grouped(ax, table, horizontal=False)


def _hbar(ax: Axes, table: Table) -> None:
    names = [str(row[0]) for row in table.rows]
    values = [int(row[1]) for row in table.rows]
    bars = ax.barh(list(range(len(names))), values, height=0.6, **_bar_style(0))
    ax.set_yticks(list(range(len(names))), names)
    ax.invert_yaxis()
    ax.bar_label(bars, padding=3)
    ax.grid(axis="x", color="#dddddd")


_DRAW = {"lines": _lines, "stacked": _stacked, "hbars": _hbars, "bars": _bars, "hbar": _hbar}
