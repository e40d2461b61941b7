"""The strand report as PDF: ReportLab (platypus) lays out the pages, matplotlib draws the charts.

ReportLab is pure Python with no system libraries (WeasyPrint needs Pango/Cairo), is maintained since
2000 and writes PDF directly; matplotlib renders each chart to PNG in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from itertools import zip_longest
from xml.sax.saxutils import escape

import matplotlib

matplotlib.use("Agg")  # no display: render to memory only

from matplotlib import pyplot as plt
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from inventory.reports.strand import SCOPE_TITLES, Availability, StrandReport

SECTION_SCOPES = (("country", "Availability by country"), ("strand", "Availability by strand"))
AGENCY_SECTION = ("tenant", "Availability by agency")
MAX_EVENTS = 60
"""Drift and change events listed in the PDF, the month's last (the CSV has them all)."""
_CELL = ParagraphStyle("cell", fontSize=7, leading=8.5)


def _wrapped(text: str) -> Paragraph:
    """A table cell that wraps within its column."""
    return Paragraph(escape(text), _CELL)


def _more(shown: int, total: int, what: str, styles) -> list:
    if total <= shown:
        return []
    return [Paragraph(f"The last {shown} of {total} {what} events (all in the CSV).", styles["Normal"])]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.3f} %"


def _met(row: Availability) -> str:
    return "-" if row.met is None else ("yes" if row.met else "NO")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "ongoing"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min"


def _chart(rows: list[Availability], title: str) -> Image:
    """Bars of availability per scope value, the objective of each as a black tick."""
    figure, axes = plt.subplots(figsize=(7, 2.6), dpi=110)
    names = [r.scope_value for r in rows]
    values = [r.availability * 100 for r in rows]
    bar_colors = ["#c62828" if r.met is False else "#2e7d32" for r in rows]
    axes.bar(names, values, color=bar_colors)
    for index, row in enumerate(rows):
        if row.objective is not None:
            axes.hlines(row.objective * 100, index - 0.4, index + 0.4, colors="black", linewidth=2)
    low = min([*values, *(r.objective * 100 for r in rows if r.objective is not None)], default=99)
    axes.set_ylim(max(0.0, low - 0.5), 100.05)
    axes.set_ylabel("availability %")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    buffer.seek(0)
    return Image(buffer, width=17 * cm, height=17 * cm * 2.6 / 7)


def _table(header: Iterable[str], rows: list[list], widths: list[float] | None = None) -> Table:
    table = Table(
        [list(header), *rows] if rows else [list(header), ["none"] + [""] * (len(list(header)) - 1)],
        colWidths=widths,
    )
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e0e0e0")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


def render_pdf(report: StrandReport) -> bytes:
    styles = getSampleStyleSheet()
    story: list = [
        Paragraph(f"Strand report {report.month:%B %Y}", styles["Title"]),
        Paragraph(
            f"{report.start:%Y-%m-%d} to {report.end:%Y-%m-%d} (UTC). Availability is the share of time"
            " devices answered their polls, maintenance windows left out, as computed by Prometheus.",
            styles["Normal"],
        ),
    ]
    for scope, heading in (*SECTION_SCOPES, AGENCY_SECTION):
        rows = report.by_scope(scope)
        story += [Spacer(1, 0.3 * cm), Paragraph(heading, styles["Heading2"])]
        if rows:
            story.append(_chart(rows, heading))
        story.append(
            _table(
                (SCOPE_TITLES[scope], "Availability", "Objective", "Met", "Error budget left"),
                [
                    [r.scope_value, _pct(r.availability), _pct(r.objective), _met(r), _pct(r.budget_left)]
                    for r in rows
                ],
            )
        )
    story += [Paragraph("Worst sites", styles["Heading2"])]
    story.append(
        _table(("Site", "Availability"), [[r.scope_value, _pct(r.availability)] for r in report.worst_sites])
    )
    story += [Paragraph("Worst devices", styles["Heading2"])]
    story.append(
        _table(("Device", "Site", "Availability"), [[d, s, _pct(v)] for d, s, v in report.worst_devices])
    )
    story += [Paragraph("Incidents", styles["Heading2"])]
    story.append(
        _table(
            ("Alert", "Device", "Site", "Start (UTC)", "Duration"),
            [
                [i.name, i.device, i.site, f"{i.start:%Y-%m-%d %H:%M}", _duration(i.duration_seconds)]
                for i in report.incidents
            ],
        )
    )
    story += [Paragraph("Drift", styles["Heading2"])]
    shown = report.drift[-MAX_EVENTS:]
    story.append(
        _table(
            ("Time (UTC)", "Device", "What"),
            [
                [f"{e.time:%Y-%m-%d %H:%M}", e.device.name if e.device else "", _wrapped(e.text)]
                for e in shown
            ],
            [2.6 * cm, 3 * cm, 11.4 * cm],
        )
    )
    story += _more(len(shown), len(report.drift), "drift", styles)
    story += [Paragraph("Inventory changes", styles["Heading2"])]
    story.append(_table(("Object type", "Action", "Changes"), [[m, a, str(n)] for m, a, n in report.changes]))
    story += [Spacer(1, 0.2 * cm)]
    shown = report.change_events[-MAX_EVENTS:]
    story.append(
        _table(
            ("Time (UTC)", "Change", "By"),
            [[f"{e.time:%Y-%m-%d %H:%M}", _wrapped(e.text), e.details.get("user", "")] for e in shown],
            [2.6 * cm, 11.4 * cm, 3 * cm],
        )
    )
    story += _more(len(shown), len(report.change_events), "change", styles)
    story += [Paragraph("Devices added and retired", styles["Heading2"])]
    story.append(
        _table(
            ("Added", "Retired"),
            [
                [added, retired]
                for added, retired in zip_longest(report.devices_added, report.devices_retired, fillvalue="")
            ],
        )
    )
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=f"Strand report {report.month:%Y-%m}").build(story)
    return buffer.getvalue()
