"""A device's state as the UI shows it, from its latest observation: up, down, stale or never polled.

"Stale" follows contract 4: a last poll older than twice the device's poll interval no longer
says the device answers (the exporter then reports ``infrastrand_device_up 0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from inventory.models import Device, DeviceObservation
from inventory.models.dcim import DEFAULT_POLL_INTERVAL

STALE_AFTER_INTERVALS = 2

LABELS = {"up": "Up", "down": "Down", "stale": "Stale", "never": "Never polled"}


@dataclass(frozen=True)
class PollState:
    value: str  # up | down | stale | never

    @property
    def label(self) -> str:
        return LABELS[self.value]


def interval_of(device_interval: int | None, group_interval: int | None) -> int:
    return device_interval or group_interval or DEFAULT_POLL_INTERVAL


def is_stale(polled_at: datetime, interval: int, now: datetime | None = None) -> bool:
    return polled_at < (now or timezone.now()) - timedelta(seconds=STALE_AFTER_INTERVALS * interval)


def state_of(observation: DeviceObservation | None, interval: int, now: datetime | None = None) -> PollState:
    """The state of a device polled every ``interval`` seconds whose latest observation is ``observation``."""
    if observation is None:
        return PollState("never")
    if not observation.up:
        return PollState("down")
    if is_stale(observation.polled_at, interval, now):
        return PollState("stale")
    return PollState("up")


def poll_state(
    device: Device, observation: DeviceObservation | None, now: datetime | None = None
) -> PollState:
    return state_of(observation, device.effective_poll_interval, now)


def stale_device_ids(devices, now: datetime | None = None) -> list[int]:
    """Ids of ``devices`` whose last successful poll is older than twice their interval."""
    rows = DeviceObservation.objects.filter(device__in=devices, up=True).values_list(
        "device_id", "polled_at", "device__poll_interval", "device__collector_group__poll_interval"
    )
    now = now or timezone.now()
    return [pk for pk, polled_at, own, group in rows if is_stale(polled_at, interval_of(own, group), now)]
