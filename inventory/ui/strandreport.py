"""The monthly strand report page: ``/monitoring/strand-report/?month=2026-11`` (HTML), with
``&format=pdf`` or ``&format=csv`` for the same report as a file (see ``manage.py strandreport``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from inventory.reports.prometheus import PrometheusError
from inventory.reports.strand import build_report
from inventory.reports.strand_csv import render_csv
from inventory.reports.strand_pdf import render_pdf


def last_month(today: date) -> date:
    return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)


class StrandReportView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = ("inventory.view_device", "inventory.view_servicelevelobjective")
    raise_exception = True

    def handle_no_permission(self):
        if not self.request.user.is_authenticated:
            self.raise_exception = False
        return super().handle_no_permission()

    def get(self, request: HttpRequest) -> HttpResponse:
        value = request.GET.get("month", "").strip()
        try:
            month = (
                datetime.strptime(value, "%Y-%m").date() if value else last_month(datetime.now(UTC).date())
            )
        except ValueError:
            return render(
                request,
                "inventory/strandreport.html",
                {"error": f"{value!r} is not a month (YYYY-MM)."},
                status=400,
            )
        try:
            report = build_report(month=month, prometheus_url=settings.PROMETHEUS_URL)
        except PrometheusError as exc:
            return render(
                request, "inventory/strandreport.html", {"month": month, "error": str(exc)}, status=502
            )
        name = f"strand-report-{month:%Y-%m}"
        if request.GET.get("format") == "pdf":
            response = HttpResponse(render_pdf(report), content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
            return response
        if request.GET.get("format") == "csv":
            response = HttpResponse(render_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        sections = [
            (title, report.by_scope(scope)) for scope, title in (("country", "Country"), ("strand", "Strand"))
        ] + [("Agency", report.by_scope("tenant"))]
        return render(
            request, "inventory/strandreport.html", {"month": month, "report": report, "sections": sections}
        )
