"""Domain writes of the event log and the alert history.

- :func:`event_record`: one event (trap, poll state change, alert transition, drift, change).
- :func:`alert_notification_record`: an Alertmanager webhook notification (JSON version 4) upserted into
  :class:`~inventory.models.AlertRecord` rows by (fingerprint, startsAt), with one event per transition
  (new firing alert, firing -> resolved).
- :func:`events_purge`: the retention (events and alert records older than a cut-off).
- :func:`drift_event` / :func:`events_bulk_record`: the drift engine's and the drift actions' events
  (one per item opened, reopened, resolved, adopted or acknowledged), written in bulk in their transaction.

Events and alert records are operational records: they write no change-log record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from inventory.choices import AlertStatusChoices, DriftKindChoices, EventSeverityChoices, EventSourceChoices
from inventory.models import AlertRecord, Device, Event, Site

MAX_TEXT = 1000


def event_record(
    *,
    time: datetime,
    source: str,
    text: str,
    severity: str = EventSeverityChoices.SEVERITY_INFO,
    kind: str = "",
    device: Device | None = None,
    site: Site | None = None,
    details: dict[str, Any] | None = None,
) -> Event:
    """Write one event; the site defaults to the device's site."""
    if site is None and device is not None:
        site = device.site
    event = Event(
        time=time,
        source=source,
        severity=severity,
        kind=kind[:100],
        text=text[:MAX_TEXT],
        device=device,
        site=site,
        details=details or {},
    )
    event.full_clean(exclude=["device", "site"])
    event.save()
    return event


DRIFT_WARNING_KINDS = frozenset(
    {
        DriftKindChoices.KIND_SERIAL,
        DriftKindChoices.KIND_MODEL,
        DriftKindChoices.KIND_NAME,
        DriftKindChoices.KIND_PLATFORM,
        DriftKindChoices.KIND_PRIMARY_IP,
        DriftKindChoices.KIND_NEVER_ANSWERED,
        DriftKindChoices.KIND_INTERFACE_UNOBSERVED,
        DriftKindChoices.KIND_INTERFACE_ENABLED,
        DriftKindChoices.KIND_CABLE_MISMATCH,
    }
)
"""Drift kinds whose opening is a warning: the record is wrong about what the device is, whether it
answers, or what is plugged where. The other kinds (descriptions, speeds, undocumented ports …) are info;
an item leaving the open state (resolved, adopted, acknowledged) is always info."""

DRIFT_OPENED, DRIFT_REOPENED = "opened", "reopened"
DRIFT_RESOLVED, DRIFT_ADOPTED, DRIFT_ACKNOWLEDGED = "resolved", "adopted", "acknowledged"


def drift_event(
    *,
    time: datetime,
    transition: str,
    item_id: int,
    kind: str,
    subject: str,
    device_id: int,
    device_name: str,
    site_id: int | None,
    documented: str = "",
    observed: str = "",
    note: str = "",
) -> Event:
    """An unsaved ``drift`` event for one item's ``transition`` (see :func:`events_bulk_record`).

    The event's ``kind`` is the drift kind; ``details`` hold the item id, its subject, the transition and
    the two values.
    """
    opening = transition in (DRIFT_OPENED, DRIFT_REOPENED)
    severity = (
        EventSeverityChoices.SEVERITY_WARNING
        if opening and kind in DRIFT_WARNING_KINDS
        else EventSeverityChoices.SEVERITY_INFO
    )
    where = f"{device_name} {subject}" if subject else device_name
    text = f"{where}: {(DriftKindChoices.label(kind) or kind).lower()} drift {transition}"
    values = [
        f"{name} {value!r}" for name, value in (("documented", documented), ("observed", observed)) if value
    ]
    if opening and values:
        text += f" ({', '.join(values)})"
    elif note:
        text += f": {note}"
    return Event(
        time=time,
        source=EventSourceChoices.SOURCE_DRIFT,
        severity=severity,
        kind=kind[:100],
        text=text[:MAX_TEXT],
        device_id=device_id,
        site_id=site_id,
        details={
            "drift_item_id": item_id,
            "transition": transition,
            "subject": subject,
            "documented": documented,
            "observed": observed,
        },
    )


def events_bulk_record(events: list[Event]) -> None:
    """Insert events built by :func:`drift_event` (or similar) in a few statements, not one per event."""
    if events:
        Event.objects.bulk_create(events, batch_size=500)


def _severity(value: Any) -> str:
    value = str(value or "").lower()
    if value in EventSeverityChoices.values():
        return value
    return EventSeverityChoices.SEVERITY_WARNING


@dataclass(frozen=True)
class AlertOutcome:
    """What one webhook notification did: rows created and updated, events written."""

    created: int
    updated: int
    events: int


def alert_notification_record(*, alerts: list[dict[str, Any]]) -> AlertOutcome:
    """Upsert the alerts of one notification (already validated: see the webhook serializer).

    Each alert is ``{"status", "labels", "annotations", "starts_at", "ends_at", "fingerprint",
    "generator_url"}``.  Its ``device`` label names a device (by name), its ``site`` label a site (by
    slug); an unknown one leaves the link empty.  Alertmanager repeats notifications: an unchanged
    status writes no event.  All or nothing.
    """
    device_names = {a["labels"].get("device") for a in alerts} - {None, ""}
    site_slugs = {a["labels"].get("site") for a in alerts} - {None, ""}
    devices: dict[str, Device] = {}
    for device in Device.objects.select_related("site").filter(name__in=device_names):
        devices.setdefault(device.name, device)
    sites = {site.slug: site for site in Site.objects.filter(slug__in=site_slugs)}
    created = updated = events = 0
    with transaction.atomic():
        for alert in alerts:
            labels = alert["labels"]
            device = devices.get(labels.get("device", ""))
            site = sites.get(labels.get("site", "")) or (device.site if device else None)
            record = (
                AlertRecord.objects.select_for_update()
                .filter(fingerprint=alert["fingerprint"], starts_at=alert["starts_at"])
                .first()
            )
            previous = record.status if record is not None else None
            if record is None:
                record = AlertRecord(fingerprint=alert["fingerprint"], starts_at=alert["starts_at"])
                created += 1
            else:
                updated += 1
            resolved = alert["status"] == AlertStatusChoices.STATUS_RESOLVED
            if previous == AlertStatusChoices.STATUS_RESOLVED and not resolved:
                continue  # a late firing repeat of an alert already resolved: keep it resolved
            record.alertname = labels.get("alertname", "")[:200]
            record.status = alert["status"]
            record.labels = labels
            record.annotations = alert["annotations"]
            record.ends_at = alert["ends_at"] if resolved else None
            record.generator_url = alert["generator_url"][:1000]
            record.device = device
            record.site = site
            record.full_clean(exclude=["device", "site"], validate_constraints=False)
            record.save()
            if previous != record.status:
                summary = record.annotations.get("summary") or record.annotations.get("description") or ""
                word = "resolved" if resolved else "firing"
                event_record(
                    time=record.ends_at if resolved else record.starts_at,
                    source=EventSourceChoices.SOURCE_ALERT,
                    severity=(
                        EventSeverityChoices.SEVERITY_INFO if resolved else _severity(labels.get("severity"))
                    ),
                    kind=record.alertname,
                    text=f"{record.alertname} {word}" + (f": {summary}" if summary else ""),
                    device=device,
                    site=site,
                    details={"alert_id": record.pk, "fingerprint": record.fingerprint, "labels": labels},
                )
                events += 1
    return AlertOutcome(created=created, updated=updated, events=events)


def events_purge(*, before: datetime) -> tuple[int, int]:
    """Delete events older than ``before`` and alert records that ended before it: (events, alerts)."""
    with transaction.atomic():
        events, _ = Event.objects.filter(time__lt=before).delete()
        alerts, _ = AlertRecord.objects.filter(
            status=AlertStatusChoices.STATUS_RESOLVED, ends_at__lt=before
        ).delete()
    return events, alerts
