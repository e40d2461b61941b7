"""Collector endpoints: contract 1 targets (decrypted credentials, ETag/304) and contract 2 observations."""

from __future__ import annotations

import pytest

from collectors.snmp.usm import master_key
from inventory import models as m
from tests.api.data import AUTH_KEY, COMMUNITY, PRIV_KEY


@pytest.fixture
def collector(inv, make_token, client_for):
    return client_for(make_token(collector=True))


def targets(client, group="ma-casablanca", **headers):
    return client.get(f"/api/collector/targets/?group={group}", **headers)


def test_targets_follow_contract_1(collector, inv):
    response = targets(collector)
    assert response.status_code == 200
    body = response.json()
    assert body["group"] == "ma-casablanca"
    by_name = {t["name"]: t for t in body["targets"]}
    assert sorted(by_name) == ["rtr-000", "rtr-001", "rtr-002"]
    v2c = by_name["rtr-000"]
    assert v2c == {
        "id": inv.devices[0].pk,
        "name": "rtr-000",
        "address": "127.0.2.1",
        "port": 161,
        "version": "2c",
        "community": COMMUNITY,
        "v3": None,
        "timeout": 5.0,
        "retries": 3,
        "max_repetitions": 25,
        "interval": 60,
        "modules": ["system", "if_mib"],
        "labels": {
            "device": "rtr-000",
            "site": "casablanca-dc1",
            "region": "grand-casablanca",
            "country": "MA",
            "tenant": "add",
            "role": "core-router",
            "strands": "e-government,infrastructure",
            "platform": "ios-xe",
            "device_type": "c8300",
        },
    }
    v3 = by_name["rtr-001"]
    assert v3["version"] == "3" and v3["community"] is None
    assert v3["v3"] == {
        "username": "monitor",
        "auth_protocol": "SHA-256",
        "auth_key": AUTH_KEY,
        "priv_protocol": "AES-128",
        "priv_key": PRIV_KEY,
        "context": "",
        "auth_master_key": master_key("SHA-256", AUTH_KEY.encode()).hex(),
        "priv_master_key": master_key("SHA-256", PRIV_KEY.encode()).hex(),
    }
    assert v3["labels"]["country"] == "LU" and v3["labels"]["strands"] == "digital-inclusion"


def test_only_pollable_devices_are_targets(collector, inv):
    m.Device.objects.filter(pk=inv.devices[0].pk).update(monitored=False)
    m.Device.objects.filter(pk=inv.devices[1].pk).update(status="planned")
    assert [t["name"] for t in targets(collector).json()["targets"]] == ["rtr-002"]


def test_etag_and_304(collector, inv, api):
    first = targets(collector)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = targets(collector, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert targets(collector, HTTP_IF_NONE_MATCH=f'W/{etag}, "other"').status_code == 304
    assert targets(collector, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    api.patch(f"/api/dcim/devices/{inv.devices[2].pk}/", {"poll_interval": 30}, format="json")
    changed = targets(collector, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert {t["name"]: t["interval"] for t in changed.json()["targets"]}["rtr-002"] == 30
    profile = inv.profiles[0]
    api.patch(
        f"/api/monitoring/snmp-profiles/{profile.pk}/", {"community": "rotated-c0mmunity"}, format="json"
    )
    rotated = targets(collector, HTTP_IF_NONE_MATCH=changed["ETag"])
    assert rotated.status_code == 200
    assert {t["name"]: t["community"] for t in rotated.json()["targets"]}["rtr-000"] == "rotated-c0mmunity"


def test_group_is_required_and_must_exist(collector, inv):
    assert collector.get("/api/collector/targets/").status_code == 400
    assert targets(collector, group="nowhere").status_code == 404


def test_observations_store_the_latest_per_device(collector, inv):
    device = inv.devices[0]
    payload = {
        "collector": "collector-01",
        "observations": [
            {
                "device_id": device.pk,
                "device": device.name,
                "polled_at": "2026-11-29T06:00:00Z",
                "up": True,
                "duration_seconds": 0.084,
                "error": "",
                "facts": {
                    "sysName": "rtr-000",
                    "sysDescr": "IOS-XE",
                    "sysObjectID": "1.3.6.1.4.1.9.1.1",
                    "uptime_seconds": 123456.78,
                    "serial": "SN00000",
                    "model": "C8300",
                },
                "interfaces": [
                    {
                        "ifIndex": 1,
                        "ifName": "Gi0/0",
                        "ifDescr": "Gi0/0",
                        "ifAlias": "",
                        "ifAdminStatus": "up",
                        "ifOperStatus": "up",
                        "speed_bps": 1000000000,
                        "mac": "00:11:22:33:44:55",
                    }
                ],
            },
            {
                "device_id": inv.devices[1].pk,
                "device": "rtr-001",
                "polled_at": "2026-11-29T06:00:01Z",
                "up": False,
                "error": "timeout",
            },
            {"device_id": 987654, "device": "gone", "polled_at": "2026-11-29T06:00:01Z", "up": False},
        ],
    }
    response = collector.post("/api/collector/observations/", payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "accepted": 2,
        "unknown_devices": [987654],
        "rejected": [],
        "rejected_devices": [],
    }
    stored = m.DeviceObservation.objects.get(device=device)
    assert stored.up and stored.collector == "collector-01"
    assert stored.facts["sysObjectID"] == "1.3.6.1.4.1.9.1.1"
    assert stored.interfaces[0]["ifName"] == "Gi0/0"
    failed = m.DeviceObservation.objects.get(device=inv.devices[1])
    assert not failed.up and failed.error == "timeout"
    newer = {
        "collector": "collector-02",
        "observations": [
            {"device_id": device.pk, "polled_at": "2026-11-29T06:01:00Z", "up": False, "error": "no answer"}
        ],
    }
    older = {
        "collector": "collector-03",
        "observations": [{"device_id": device.pk, "polled_at": "2026-11-29T05:00:00Z", "up": True}],
    }
    assert collector.post("/api/collector/observations/", newer, format="json").status_code == 200
    assert collector.post("/api/collector/observations/", older, format="json").status_code == 200
    stored.refresh_from_db()
    assert (stored.collector, stored.up, stored.error) == ("collector-02", False, "no answer")
    assert m.DeviceObservation.objects.count() == 2


def test_a_bad_observation_is_rejected_alone(collector, inv):
    batch = {
        "collector": "c",
        "observations": [
            {"device_id": inv.devices[0].pk, "polled_at": "2026-11-29T06:00:00Z", "up": True},
            {"device_id": inv.devices[1].pk, "polled_at": "yesterday", "up": "perhaps"},
            {
                "device_id": inv.devices[2].pk,
                "polled_at": "2026-11-29T06:00:00Z",
                "up": True,
                "facts": {"sysDescr": "bad\x00nul"},
            },
        ],
    }
    response = collector.post("/api/collector/observations/", batch, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 1
    assert [(r["index"], r["device"]) for r in body["rejected"]] == [
        (1, str(inv.devices[1].pk)),
        (2, str(inv.devices[2].pk)),
    ]
    assert "polled_at" in str(body["rejected"][0]["errors"]) and "up" in str(body["rejected"][0]["errors"])
    assert "NUL" in str(body["rejected"][1]["errors"]["facts"])
    assert list(m.DeviceObservation.objects.values_list("device_id", flat=True)) == [inv.devices[0].pk]
    assert (
        collector.post("/api/collector/observations/", {"observations": []}, format="json").status_code == 400
    )


def test_observations_by_name_when_the_id_is_unknown_to_the_collector(collector, inv):
    payload = {
        "collector": "c1",
        "observations": [
            {
                "device_id": None,
                "device": "rtr-002",
                "polled_at": "2026-11-29T06:00:00Z",
                "up": False,
                "error": "x" * 5000,
            },
            {"device": "no-such-device", "polled_at": "2026-11-29T06:00:00Z", "up": True},
        ],
    }
    response = collector.post("/api/collector/observations/", payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "accepted": 1,
        "unknown_devices": ["no-such-device"],
        "rejected": [],
        "rejected_devices": [],
    }
    stored = m.DeviceObservation.objects.get(device=inv.devices[2])
    assert stored.error == "x" * 2000


def test_light_observations_refresh_the_poll_and_keep_the_facts(collector, inv):
    """Collectors send facts only when they change: a light observation keeps the stored ones."""
    device = inv.devices[0]

    def post(polled_at: str, up: bool, **extra) -> None:
        row = {"device_id": device.pk, "polled_at": polled_at, "up": up, **extra}
        payload = {"collector": "c1", "observations": [row]}
        assert collector.post("/api/collector/observations/", payload, format="json").status_code == 200

    full = {"facts": {"sysName": "rtr-000"}, "interfaces": [{"ifIndex": 1, "ifName": "Gi0/0"}]}
    post("2026-11-29T06:00:00Z", True, **full)
    post("2026-11-29T06:00:30Z", True, duration_seconds=0.05)
    stored = m.DeviceObservation.objects.get(device=device)
    assert stored.polled_at.isoformat() == "2026-11-29T06:00:30+00:00"
    assert stored.facts == {"sysName": "rtr-000"} and stored.interfaces[0]["ifName"] == "Gi0/0"
    post("2026-11-29T06:01:00Z", False, error="timeout")
    post("2026-11-29T06:01:30Z", True)  # back up, light: nothing stale from before the outage
    stored.refresh_from_db()
    assert stored.up and stored.facts == {} and stored.interfaces == []
    post("2026-11-29T06:02:00Z", True, facts={"sysName": "rtr-000b"})  # full without interfaces
    stored.refresh_from_db()
    assert stored.facts == {"sysName": "rtr-000b"} and stored.interfaces == []


def test_a_light_batch_is_written_in_a_bounded_number_of_statements(collector, inv):
    """Issue 16 at 3,000 devices: a steady batch (light observations of devices that answer again) was
    four statements per device; 500-device batches took the loaded inventory > 10 s.  Now the number of
    statements does not grow with the batch, and the rows still say who polled when."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = next(d for d in inv.devices if d.collector_group_id)
    fields = ("site", "device_type", "role", "snmp_profile", "collector_group", "status", "monitored")
    devices = [first] + [
        m.Device.objects.create(name=f"batch-{i:02d}", **{f: getattr(first, f) for f in fields})
        for i in range(20)
    ]

    def post(polled_at: str, **extra) -> None:
        rows = [{"device_id": d.pk, "polled_at": polled_at, "up": True, **extra} for d in devices]
        payload = {"collector": "c2", "observations": rows}
        response = collector.post("/api/collector/observations/", payload, format="json")
        assert response.status_code == 200 and response.json()["accepted"] == len(devices)

    post("2026-11-29T06:00:00Z", facts={"sysName": "x"})
    with CaptureQueriesContext(connection) as light:
        post("2026-11-29T06:01:00Z", duration_seconds=0.25)
    assert len(light.captured_queries) < 25 + len(devices), [q["sql"][:80] for q in light.captured_queries]
    post("2026-11-29T06:00:30Z")  # older than the stored ones: ignored
    for stored in m.DeviceObservation.objects.filter(device__in=devices):
        assert stored.polled_at.isoformat() == stored.answered_at.isoformat() == "2026-11-29T06:01:00+00:00"
        assert (stored.collector, stored.duration_seconds, stored.facts) == ("c2", 0.25, {"sysName": "x"})
