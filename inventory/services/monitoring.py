"""Domain writes for monitoring: the collectors' observations (contract 2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from inventory.models import Device, DeviceObservation


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
) -> DeviceObservation:
    """Keep ``device``'s latest observation; an older one than the stored is ignored.

    ``facts``/``interfaces`` of ``None`` mean "not sent": an answering device keeps the stored ones.

    Observations are operational state and write no change-log record.
    """
    with transaction.atomic():
        current = DeviceObservation.objects.select_for_update().filter(device=device).first()
        if current is not None and current.polled_at > polled_at:
            return current
        observation = current or DeviceObservation(device=device)
        observation.collector = collector
        observation.polled_at = polled_at
        observation.up = up
        observation.duration_seconds = duration_seconds
        observation.error = error if not up else ""
        # A light observation (facts and interfaces not given) of a device that still answers keeps
        # what the last full one said: collectors send those only when they change.
        light = facts is None and interfaces is None
        if not (light and up and current is not None and current.up):
            observation.facts = (facts or {}) if up else {}
            observation.interfaces = (interfaces or []) if up else []
        observation.full_clean(exclude=["device"])
        if current is not None:
            observation.save()
            return observation
        try:
            with transaction.atomic():  # a savepoint: another collector may insert the first row meanwhile
                observation.save(force_insert=True)
        except IntegrityError:  # it did (e.g. two HA members around a failover): apply ours on top
            return observation_record(
                device=device, collector=collector, polled_at=polled_at, up=up,
                duration_seconds=duration_seconds, error=error, facts=facts, interfaces=interfaces,
            )  # fmt: skip
    return observation
