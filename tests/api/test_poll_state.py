"""The device API shows the poll state the device page shows: state, last poll, error, without N+1."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory import models as m
from tests.api.data import build_inventory


def _observe(device: m.Device, *, up: bool, age: timedelta, error: str = "") -> None:
    m.DeviceObservation.objects.create(
        device=device,
        collector="collector-01",
        polled_at=timezone.now() - age,
        up=up,
        duration_seconds=0.25,
        error=error,
    )


def _states(api) -> dict[str, dict]:
    response = api.get("/api/dcim/devices/?limit=1000")
    assert response.status_code == 200
    return {row["name"]: row["poll_state"] for row in response.json()["results"]}


def test_each_state_is_reported(api, db):
    inv = build_inventory(devices=4, interfaces=0)
    up, down, stale, never = inv.devices
    _observe(up, up=True, age=timedelta(seconds=5))
    _observe(down, up=False, age=timedelta(seconds=5), error="unknownUserName")
    _observe(stale, up=True, age=timedelta(seconds=3 * stale.effective_poll_interval))

    states = _states(api)
    assert states[up.name]["state"] == "up"
    assert states[up.name]["up"] is True and states[up.name]["error"] is None
    assert states[up.name]["collector"] == "collector-01"
    assert states[up.name]["duration_seconds"] == 0.25
    assert states[down.name] == {
        **states[down.name],
        "state": "down",
        "up": False,
        "error": "unknownUserName",
    }
    assert states[stale.name]["state"] == "stale"
    assert states[never.name] == {
        "state": "never",
        "last_poll": None,
        "up": None,
        "error": None,
        "duration_seconds": None,
        "collector": None,
    }
    detail = api.get(f"/api/dcim/devices/{down.pk}/").json()["poll_state"]
    assert detail["state"] == "down" and detail["last_poll"].startswith(str(timezone.now().year))


def test_the_group_interval_decides_staleness(api, db):
    inv = build_inventory(devices=1, interfaces=0)
    device = inv.devices[0]
    device.poll_interval = None
    device.save()
    device.collector_group.poll_interval = 3600
    device.collector_group.save()
    _observe(device, up=True, age=timedelta(minutes=30))  # stale at the default interval, fresh at an hour
    assert _states(api)[device.name]["state"] == "up"


def test_poll_state_costs_no_query_per_device(api, db):
    inv = build_inventory(devices=30, interfaces=0)
    for device in inv.devices:
        _observe(device, up=True, age=timedelta(seconds=1))

    def count(limit: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(f"/api/dcim/devices/?limit={limit}").status_code == 200
        return len(captured)

    api.get("/api/")  # the token's first use records last_used
    assert count(30) == count(2)
