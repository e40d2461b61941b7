"""The monthly strand report's content: availability per country, strand and agency against the
objectives (from Prometheus), the worst sites and devices, incidents, drift and inventory changes
(from the inventory's alert history, event log and change log): the drift section lists the month's
``drift`` events, the changes section its ``change`` events (devices, sites, interfaces enabled or
disabled, cables, imports) under the change log's counts per object type and action."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from inventory.choices import EventSourceChoices, ObjectChangeActionChoices
from inventory.models import AlertRecord, Device, Event, ObjectChange, ServiceLevelObjective
from inventory.reports.prometheus import in_service_expr, instant_query, over, scope_up_expr

REPORTED_SCOPES = ("country", "strand", "tenant")
SCOPE_TITLES = {"country": "Country", "strand": "Strand", "tenant": "Agency", "site": "Site"}
WORST = 10


@dataclass(frozen=True)
class Availability:
    """One scope value's availability over the month, with its objective when one is set."""

    scope: str
    scope_value: str
    availability: float
    objective: float | None = None
    slo: str = ""

    @property
    def met(self) -> bool | None:
        return None if self.objective is None else self.availability >= self.objective

    @property
    def budget_left(self) -> float | None:
        """Share of the month's error budget not spent (negative when overspent)."""
        if self.objective is None:
            return None
        return 1 - (1 - self.availability) / (1 - self.objective)


@dataclass(frozen=True)
class Incident:
    name: str
    device: str
    site: str
    start: datetime
    end: datetime | None

    @property
    def duration_seconds(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()


@dataclass
class StrandReport:
    month: date
    start: datetime
    end: datetime
    availability: list[Availability] = field(default_factory=list)
    worst_sites: list[Availability] = field(default_factory=list)
    worst_devices: list[tuple[str, str, float]] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    drift: list[Event] = field(default_factory=list)
    changes: list[tuple[str, str, int]] = field(default_factory=list)
    change_events: list[Event] = field(default_factory=list)
    devices_added: list[str] = field(default_factory=list)
    devices_retired: list[str] = field(default_factory=list)

    def by_scope(self, scope: str) -> list[Availability]:
        return [row for row in self.availability if row.scope == scope]


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next one (UTC)."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def build_report(*, month: date, prometheus_url: str) -> StrandReport:
    """Ask Prometheus for the month's availability and read the month's records from the inventory."""
    start, end = month_bounds(month)
    seconds = int((end - start).total_seconds())
    report = StrandReport(month=month, start=start, end=end)
    objectives = {(o.scope, o.scope_value): o for o in ServiceLevelObjective.objects.all()}

    rows = []
    for sample in instant_query(prometheus_url, over(scope_up_expr(), seconds), end):
        key = (sample.labels.get("scope", ""), sample.labels.get("scope_value", ""))
        objective = objectives.get(key)
        rows.append(
            Availability(
                scope=key[0],
                scope_value=key[1],
                availability=sample.value,
                objective=objective.target_ratio if objective else None,
                slo=objective.name if objective else "",
            )
        )
    rows.sort(key=lambda r: (r.scope, r.scope_value))
    report.availability = [r for r in rows if r.scope in REPORTED_SCOPES]
    report.worst_sites = sorted((r for r in rows if r.scope == "site"), key=lambda r: r.availability)[:WORST]
    devices = instant_query(prometheus_url, f"bottomk({WORST}, {over(in_service_expr(), seconds)})", end)
    report.worst_devices = sorted(
        ((s.labels.get("device", ""), s.labels.get("site", ""), s.value) for s in devices), key=lambda d: d[2]
    )

    alerts = (
        AlertRecord.objects.filter(starts_at__lt=end)
        .exclude(ends_at__lt=start)
        .exclude(alertname__in=("InfrastrandMaintenance",))
    )
    report.incidents = [
        Incident(
            name=a.alertname,
            device=a.labels.get("device", ""),
            site=a.labels.get("site", ""),
            start=a.starts_at,
            end=a.ends_at,
        )
        for a in alerts.order_by("starts_at", "pk")
    ]
    report.drift = list(
        Event.objects.filter(source=EventSourceChoices.SOURCE_DRIFT, time__gte=start, time__lt=end)
        .select_related("device", "site")
        .order_by("time", "pk")
    )
    report.change_events = list(
        Event.objects.filter(source=EventSourceChoices.SOURCE_CHANGE, time__gte=start, time__lt=end)
        .select_related("device", "site")
        .order_by("time", "pk")
    )
    changes = ObjectChange.objects.filter(time__gte=start, time__lt=end).select_related("changed_object_type")
    counted = Counter((c.changed_object_type.model, c.action) for c in changes)
    report.changes = sorted((model, action, n) for (model, action), n in counted.items())
    device_changes = changes.filter(changed_object_type__model=Device._meta.model_name).order_by("time", "pk")
    for change in device_changes:
        if change.action == ObjectChangeActionChoices.ACTION_CREATE:
            report.devices_added.append(change.object_repr)
        elif change.action == ObjectChangeActionChoices.ACTION_DELETE or (change.postchange_data or {}).get(
            "status"
        ) in ("decommissioning", "offline"):
            report.devices_retired.append(change.object_repr)
    return report
