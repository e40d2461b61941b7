"""The strand report's raw numbers as CSV (one row per figure; ratios 0..1, durations in seconds)."""

from __future__ import annotations

import csv
import io

from inventory.reports.strand import StrandReport

COLUMNS = (
    "section",
    "scope",
    "name",
    "site",
    "availability",
    "objective",
    "met",
    "budget_left",
    "start",
    "duration_seconds",
    "count",
)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def render_csv(report: StrandReport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in report.availability:
        writer.writerow(
            {
                "section": "availability",
                "scope": row.scope,
                "name": row.scope_value,
                "availability": _num(row.availability),
                "objective": _num(row.objective),
                "met": "" if row.met is None else str(row.met).lower(),
                "budget_left": _num(row.budget_left),
            }
        )
    for row in report.worst_sites:
        writer.writerow(
            {"section": "worst_site", "scope": "site", "name": row.scope_value, "site": row.scope_value}
            | {"availability": _num(row.availability)}
        )
    for device, site, value in report.worst_devices:
        writer.writerow(
            {
                "section": "worst_device",
                "scope": "device",
                "name": device,
                "site": site,
                "availability": _num(value),
            }
        )
    for incident in report.incidents:
        seconds = incident.duration_seconds
        writer.writerow(
            {
                "section": "incident",
                "scope": incident.name,
                "name": incident.device,
                "site": incident.site,
                "start": incident.start.isoformat(),
                "duration_seconds": "" if seconds is None else f"{seconds:.0f}",
            }
        )
    for model, action, count in report.changes:
        writer.writerow({"section": "change", "scope": model, "name": action, "count": count})
    for section, events in (("drift_event", report.drift), ("change_event", report.change_events)):
        for event in events:
            writer.writerow(
                {
                    "section": section,
                    "scope": event.kind,
                    "name": event.text,
                    "site": event.site.slug if event.site_id and event.site else "",
                    "start": event.time.isoformat(),
                }
            )
    for name in report.devices_added:
        writer.writerow({"section": "device_added", "scope": "device", "name": name})
    for name in report.devices_retired:
        writer.writerow({"section": "device_retired", "scope": "device", "name": name})
    return out.getvalue()
