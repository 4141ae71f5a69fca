"""``civicbot report``: what residents read, boost and ask, as one self-contained HTML file.

:func:`build_report` reads the engagement snapshots of the state store (taken by the built-in
``core.engagement`` job) and the auto-reply plugin's daily counters into plain tables;
:func:`render_html` turns them into a page with inline SVG charts (no JavaScript, no request),
:func:`render_fragment` into the same content without ``<html>`` (for a page of the desk);
:func:`write_csv` writes the same tables as CSV files. matplotlib is imported only when charts
are drawn.
"""

from civicbot.report.data import AccountReport, Report, Table, build_report
from civicbot.report.output import render_fragment, render_html, write_csv

__all__ = ["AccountReport", "Report", "Table", "build_report", "render_fragment",
           "render_html", "write_csv"]
