"""LLDP neighbours posted in observations (contract 2) against the documented cables: cable_missing
(adopt creates the cable), cable_mismatch, neighbor_undocumented (acknowledge only)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inventory import models as m
from inventory.services.cables import cable_create
from tests.api.data import build_inventory


@pytest.fixture
def inv(db):
    return build_inventory(devices=4)


@pytest.fixture
def collector(make_token, client_for, inv):
    return client_for(make_token(collector=True))


def neighbour(local: str, *, sys_name: str = "", chassis: str = "", port: str = "", descr: str = "") -> dict:
    return {
        "local_port": local,
        "chassis_id": chassis,
        "sys_name": sys_name,
        "port_id": port,
        "port_descr": descr,
    }


def post(collector, device: m.Device, neighbours: list[dict] | None) -> None:
    observation = {
        "device_id": device.pk,
        "polled_at": timezone.now().isoformat(),
        "up": True,
        "facts": {"sysName": device.name, "serial": device.serial},
        "interfaces": [
            {"ifIndex": 1, "ifName": "Gi0/0", "ifAdminStatus": "up", "speed_bps": 1_000_000_000},
            {"ifIndex": 2, "ifName": "Gi0/1", "ifAdminStatus": "up", "speed_bps": 1_000_000_000},
        ],
    }
    if neighbours is not None:
        observation["lldp_neighbors"] = neighbours
    response = collector.post(
        "/api/collector/observations/", {"collector": "c1", "observations": [observation]}, format="json"
    )
    assert response.status_code == 200, response.content


def items(api, **filters) -> dict[tuple[str, str, str], dict]:
    body = api.get("/api/monitoring/drift/", {"state": "open", **filters}).json()
    cable_kinds = {"cable_missing", "cable_mismatch", "neighbor_undocumented"}
    return {
        (row["device"]["name"], row["kind"]["value"], row["subject"]): row
        for row in body["results"]
        if row["kind"]["value"] in cable_kinds
    }


def port(device: m.Device, name: str) -> m.Interface:
    return m.Interface.objects.get(device=device, name=name)


def test_neighbours_between_documented_ports_propose_a_cable_adopted_once(api, collector, inv):
    r0, r1, _r2, _r3 = inv.devices
    # r0 Gi0/0 sees r1 by sysName (with a domain, other case) and port ID; r1 sees r0 by serial (chassis ID)
    post(collector, r0, [neighbour("Gi0/0", sys_name="RTR-001.gov.ma", port="gi0/0")])
    post(collector, r1, [neighbour("Gi0/0", chassis=r0.serial, port="Gi0/0", sys_name="whatever")])
    found = items(api)
    assert set(found) == {(r0.name, "cable_missing", "Gi0/0"), (r1.name, "cable_missing", "Gi0/0")}
    assert found[(r0.name, "cable_missing", "Gi0/0")]["observed"] == f"{r1.name} Gi0/0"
    stored = m.DeviceObservation.objects.get(device=r0).lldp_neighbors
    assert stored[0]["sys_name"] == "RTR-001.gov.ma"

    both = [row["id"] for row in found.values()]
    response = api.post("/api/monitoring/drift/adopt/", {"ids": both}, format="json")
    assert response.status_code == 200, response.content
    (cable,) = m.Cable.objects.all()
    assert {cable.a_interface_id, cable.b_interface_id} == {port(r0, "Gi0/0").pk, port(r1, "Gi0/0").pk}
    change = m.ObjectChange.objects.get(changed_object_type__model="cable", action="create")
    assert change.user_name
    post(collector, r0, [neighbour("Gi0/0", sys_name="rtr-001", port="Gi0/0")])
    assert items(api) == {}


def test_a_cable_lldp_contradicts_is_a_mismatch_and_not_adoptable(api, collector, inv):
    r0, r1, r2, _r3 = inv.devices
    cable_create(data={"a_interface": port(r0, "Gi0/1"), "b_interface": port(r1, "Gi0/1")})
    m.Interface.objects.filter(pk=port(r2, "Gi0/1").pk).update(mac_address="00:11:22:AA:BB:CC")
    # r0 Gi0/1 is documented to r1 Gi0/1, but LLDP sees r2 (by the MAC of one of its interfaces)
    post(collector, r0, [neighbour("Gi0/1", chassis="00-11-22-aa-bb-cc", port="Gi0/0")])
    found = items(api)
    assert set(found) == {(r0.name, "cable_mismatch", "Gi0/1")}
    row = found[(r0.name, "cable_mismatch", "Gi0/1")]
    assert row["documented"] == f"{r1.name} Gi0/1" and row["observed"] == f"{r2.name} Gi0/0"
    refused = api.post(f"/api/monitoring/drift/{row['id']}/adopt/", format="json")
    assert refused.status_code == 400 and "acknowledge" in str(refused.json())
    assert m.Cable.objects.count() == 1


def test_neighbours_not_documented_are_acknowledge_only(api, collector, inv):
    r0 = inv.devices[0]
    post(
        collector,
        r0,
        [
            neighbour("Gi0/0", sys_name="unknown-switch", port="ge-0/0/1"),
            neighbour("Gi0/1", sys_name=inv.devices[1].name, port="Te9/9"),  # device known, port not
            neighbour("Gi0/7", sys_name="another", port="x"),  # local port not documented: skipped
        ],
    )
    found = items(api)
    assert set(found) == {
        (r0.name, "neighbor_undocumented", "Gi0/0"),
        (r0.name, "neighbor_undocumented", "Gi0/1"),
    }
    assert found[(r0.name, "neighbor_undocumented", "Gi0/0")]["observed"] == "unknown-switch ge-0/0/1"
    assert found[(r0.name, "neighbor_undocumented", "Gi0/1")]["observed"] == f"{inv.devices[1].name} Te9/9"
    row = found[(r0.name, "neighbor_undocumented", "Gi0/0")]
    assert api.post(f"/api/monitoring/drift/{row['id']}/adopt/", format="json").status_code == 400
    ack = api.post(f"/api/monitoring/drift/{row['id']}/acknowledge/", {"reason": "ISP switch"}, format="json")
    assert ack.status_code == 200, ack.content


def test_items_resolve_when_lldp_stops_seeing_the_neighbour(api, collector, inv):
    r0 = inv.devices[0]
    post(collector, r0, [neighbour("Gi0/0", sys_name="unknown-switch", port="p1")])
    assert len(items(api)) == 1
    post(collector, r0, [])
    assert items(api) == {}
    assert m.DriftItem.objects.filter(kind="neighbor_undocumented", state="resolved").count() == 1
