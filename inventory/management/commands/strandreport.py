"""``manage.py strandreport --month 2026-11 [--format pdf,csv] [--output DIR]``: the monthly strand report.

Availability comes from Prometheus (``INFRASTRAND_PROMETHEUS_URL``, or ``--prometheus``); incidents,
drift and inventory changes from the inventory. Writes ``strand-report-2026-11.pdf`` / ``.csv``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inventory.reports.prometheus import PrometheusError
from inventory.reports.strand import build_report
from inventory.reports.strand_csv import render_csv
from inventory.reports.strand_pdf import render_pdf

FORMATS = ("pdf", "csv")


def parse_month(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--month {value!r} is not YYYY-MM (e.g. 2026-11).") from None


class Command(BaseCommand):
    help = "Write the monthly strand report (availability vs objectives, incidents, changes) as PDF and CSV."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--format", default="pdf,csv", help="pdf, csv or pdf,csv")
        parser.add_argument("--output", default=".", help="Directory to write into (default: here)")
        parser.add_argument("--prometheus", default=None, help="Prometheus base URL (default: the setting)")

    def handle(self, *args, **options) -> None:
        month = parse_month(options["month"])
        formats = [f.strip() for f in options["format"].split(",") if f.strip()]
        unknown = [f for f in formats if f not in FORMATS]
        if unknown or not formats:
            raise CommandError(
                f"--format: unknown {', '.join(unknown) or 'empty'}; give pdf, csv or pdf,csv."
            )
        output = Path(options["output"])
        if not output.is_dir():
            raise CommandError(f"--output {output} is not a directory.")
        try:
            report = build_report(
                month=month, prometheus_url=options["prometheus"] or settings.PROMETHEUS_URL
            )
        except PrometheusError as exc:
            raise CommandError(str(exc)) from exc
        for fmt in formats:
            path = output / f"strand-report-{month:%Y-%m}.{fmt}"
            if fmt == "pdf":
                path.write_bytes(render_pdf(report))
            else:
                path.write_text(render_csv(report))
            self.stdout.write(str(path))
