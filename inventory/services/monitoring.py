"""Domain writes for monitoring: the collectors' observations (contract 2) and the poll state changes they
show (up -> down, down -> up, a reboot seen from sysUpTime going backwards), written as events."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inventory.choices import EventSeverityChoices, EventSourceChoices
from inventory.models import Device, DeviceObservation
from inventory.services import drift
from inventory.services.events import event_record

UPTIME_SLACK_SECONDS = 5.0
"""sysUpTime may read a little behind the previous poll's (agents round, polls take time): a smaller
decrease is no reboot."""


def observation_record(
    *,
    device: Device,
    collector: str,
    polled_at: datetime,
    up: bool,
    duration_seconds: float | None = None,
    error: str = "",
    facts: dict[str, Any] | None = None,
    interfaces: list[dict[str, Any]] | None = None,
    lldp_neighbors: list[dict[str, Any]] | None = None,
    detect_drift: bool = True,
) -> DeviceObservation:
    """Keep ``device``'s latest observation; an older one than the stored is ignored.

    ``facts``/``interfaces``/``lldp_neighbors`` of ``None`` mean "not sent": an answering device keeps the
    stored ones (in a full observation, neighbours not sent mean the lldp module was not walked: none).

    Observations are operational state and write no change-log record.  A change of state against the
    stored observation writes an event (:func:`poll_state_events`) in the same transaction. With
    ``detect_drift`` the device's drift items are brought up to date in the same transaction (a caller
    recording a batch passes False and runs :func:`inventory.services.drift.detect_drift` once for it).
    """
    with transaction.atomic():
        current = DeviceObservation.objects.select_for_update().filter(device=device).first()
        if current is not None and current.polled_at > polled_at:
            return current
        previous = (current.up, (current.facts or {}).get("uptime_seconds")) if current is not None else None
        observation = current or DeviceObservation(device=device)
        observation.collector = collector
        observation.polled_at = polled_at
        observation.up = up
        observation.duration_seconds = duration_seconds
        observation.error = error if not up else ""
        if up:
            observation.answered_at = polled_at
        # A light observation (facts and interfaces not given) of a device that still answers keeps
        # what the last full one said: collectors send those only when they change.
        light = facts is None and interfaces is None and lldp_neighbors is None
        if not (light and up and current is not None and current.up):
            observation.facts = (facts or {}) if up else {}
            observation.interfaces = (interfaces or []) if up else []
            observation.lldp_neighbors = (lldp_neighbors or []) if up else []
        observation.full_clean(exclude=["device"])
        if current is not None:
            observation.save()
        else:
            try:
                with (
                    transaction.atomic()
                ):  # a savepoint: another collector may insert the first row meanwhile
                    observation.save(force_insert=True)
            except IntegrityError:  # it did (e.g. two HA members around a failover): apply ours on top
                return observation_record(
                    device=device, collector=collector, polled_at=polled_at, up=up,
                    duration_seconds=duration_seconds, error=error, facts=facts, interfaces=interfaces,
                    detect_drift=detect_drift,
                )  # fmt: skip
        if previous is not None:
            poll_state_events(
                device=device,
                polled_at=polled_at,
                was_up=previous[0],
                up=up,
                previous_uptime=previous[1],
                uptime=(facts or {}).get("uptime_seconds") if up else None,
                error=observation.error,
            )
        if detect_drift:
            drift.detect_drift(devices=[device.pk])
    return observation


def observations_record(*, collector: str, observations: list[tuple[Device, dict[str, Any]]]) -> None:
    """Keep a collector's batch of observations (``(device, validated contract-2 row)``, in device order)
    in one transaction, then bring the batch's drift items up to date once.

    Most of a steady batch is *light* observations (no facts, interfaces or neighbours) of devices that
    answered their previous poll and answer again: nothing but the poll time changes and no event is
    due, so those rows are written with one locking read and one pipelined ``executemany`` update
    instead of four statements each (a light 500-device batch: ~2,000 statements before).  Every other
    observation (full, down, first, a device listed twice in the batch) goes through
    :func:`observation_record`.
    """
    with transaction.atomic():
        ids = [device.pk for device, _row in observations]
        twice = {pk for pk, n in Counter(ids).items() if n > 1}
        current = {
            o.device_id: o
            for o in DeviceObservation.objects.select_for_update()
            .filter(device_id__in=ids)
            .order_by("device_id")
            .only("device_id", "up", "polled_at")
        }
        adapt = connection.ops.adapt_datetimefield_value
        now = adapt(timezone.now())
        touched: list[tuple] = []
        for device, row in observations:
            stored = current.get(device.pk)
            light = all(row.get(key) is None for key in ("facts", "interfaces", "lldp_neighbors"))
            if light and row["up"] and stored is not None and stored.up and device.pk not in twice:
                if stored.polled_at <= row["polled_at"]:  # an older one than the stored is ignored
                    polled = adapt(row["polled_at"])
                    touched.append((collector, polled, now, polled, row.get("duration_seconds"), device.pk))
                continue
            observation_record(
                device=device,
                collector=collector,
                polled_at=row["polled_at"],
                up=row["up"],
                duration_seconds=row.get("duration_seconds"),
                error=row.get("error", ""),
                facts=row.get("facts"),
                interfaces=row.get("interfaces"),
                lldp_neighbors=row.get("lldp_neighbors"),
                detect_drift=False,
            )
        if touched:
            table = connection.ops.quote_name(DeviceObservation._meta.db_table)
            with connection.cursor() as cursor:  # executemany: pipelined on psycopg 3, native on SQLite
                cursor.executemany(
                    f"UPDATE {table} SET collector = %s, polled_at = %s, received_at = %s, answered_at = %s, "
                    "duration_seconds = %s, error = '' WHERE device_id = %s",
                    touched,
                )
        drift.detect_drift(devices=ids)


def poll_state_events(
    *,
    device: Device,
    polled_at: datetime,
    was_up: bool,
    up: bool,
    previous_uptime: Any,
    uptime: Any,
    error: str,
) -> None:
    """Events for what changed between two polls: down, up again, rebooted (sysUpTime went backwards)."""
    poll = EventSourceChoices.SOURCE_POLL
    if was_up and not up:
        event_record(
            time=polled_at,
            source=poll,
            severity=EventSeverityChoices.SEVERITY_CRITICAL,
            kind="down",
            text=f"{device.name} stopped answering SNMP" + (f": {error}" if error else ""),
            device=device,
            details={"error": error},
        )
    elif up and not was_up:
        event_record(
            time=polled_at, source=poll, kind="up", text=f"{device.name} answers SNMP again", device=device
        )
    numbers = (int, float)
    if (
        isinstance(uptime, numbers)
        and isinstance(previous_uptime, numbers)
        and uptime + UPTIME_SLACK_SECONDS < previous_uptime
    ):
        booted = polled_at - timedelta(seconds=uptime)
        event_record(
            time=booted,
            source=poll,
            severity=EventSeverityChoices.SEVERITY_WARNING,
            kind="reboot",
            text=f"{device.name} restarted (sysUpTime {previous_uptime:.0f} s -> {uptime:.0f} s)",
            device=device,
            details={"previous_uptime_seconds": previous_uptime, "uptime_seconds": uptime},
        )
