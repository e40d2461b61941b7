"""LLDP neighbours from a real agent (the snmpsim switch's LLDP-MIB rows) through the collector's
observation into the inventory's drift engine, posted to the observations endpoint."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from collectors.observations import lldp_neighbors_from
from collectors.sim.ports import mac
from inventory import models as m
from inventory.models.dcim import normalize_mac
from inventory.services.tokens import token_create
from tests.inventory.factories import make_device, make_interface

from .conftest import sim_target


def test_the_switch_reports_its_neighbours(sim, harness):
    harness.poll(sim_target(sim["switch"]))
    observation = harness.observations[-1]
    assert observation["up"]
    neighbours = observation["lldp_neighbors"]
    assert [(n["local_port"], n["local_port_num"], n["sys_name"], n["port_id"]) for n in neighbours] == [
        ("Gi1/0/1", 1, "core-rtr01", "Te0/0/1"),
        ("Gi1/0/2", 2, "srv01", "eth0"),
        ("Gi1/0/3", 3, "ups01", "mgmt0"),
    ]
    core = neighbours[0]
    assert core["chassis_id"] == normalize_mac(mac("core-rtr01", 0))
    assert core["port_descr"] == "Te0/0/1 to test-switch"
    json.dumps(observation)  # what the sender posts


def test_a_device_without_the_lldp_module_reports_no_neighbour_list(sim, harness):
    harness.poll(sim_target(sim["router"]))
    assert "lldp_neighbors" not in harness.observations[-1]
    assert lldp_neighbors_from({"ifName": {"1": b"eth0"}}) is None


@pytest.mark.django_db
def test_the_agents_neighbours_become_drift_items(sim, harness):
    group = m.CollectorGroup.objects.create(name="Lab", slug="lab")
    switch = make_device(name="test-switch", collector_group=group)
    for i in (1, 2, 3):
        make_interface(switch, name=f"Gi1/0/{i}")
    core = make_device(name="casa-core")  # named differently: matched by the chassis MAC
    make_interface(core, name="Te0/0/1", mac_address=normalize_mac(mac("core-rtr01", 0)))
    make_device(name="srv01")  # documented, but not its eth0
    _token, key, _ = token_create(username="lab-collector", collector=True, groups=["lab"])

    harness.poll(sim_target(sim["switch"], id=switch.pk))
    observation = harness.observations[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(
        "/api/collector/observations/", {"collector": "lab", "observations": [observation]}, format="json"
    )
    assert response.status_code == 200, response.content

    found = {
        (item.kind, item.subject): item.observed
        for item in m.DriftItem.objects.filter(
            device=switch, kind__in=["cable_missing", "cable_mismatch", "neighbor_undocumented"]
        )
    }
    assert found == {
        ("cable_missing", "Gi1/0/1"): "casa-core Te0/0/1",
        ("neighbor_undocumented", "Gi1/0/2"): "srv01 eth0",
        ("neighbor_undocumented", "Gi1/0/3"): "ups01 mgmt0",
    }
