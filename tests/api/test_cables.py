"""``/api/dcim/cables/`` (NetBox 4 terminations, filters, validation, change log), the interface's cable
fields without N+1, and pynetbox against the live server."""

from __future__ import annotations

import pynetbox
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from inventory import models as m
from inventory.services.cables import cable_create
from tests.api.data import build_inventory


def ends(a: m.Interface, b: m.Interface) -> dict:
    return {
        "a_terminations": [{"object_type": "dcim.interface", "object_id": a.pk}],
        "b_terminations": [{"object_type": "dcim.interface", "object_id": b.pk}],
    }


def port(device: m.Device, name: str) -> m.Interface:
    return m.Interface.objects.get(device=device, name=name)


@pytest.fixture
def inv(db):
    return build_inventory(devices=4)


def test_create_reads_back_netbox_shapes_and_logs_the_change(api, inv):
    a, b = port(inv.devices[0], "Gi0/1"), port(inv.devices[1], "Gi0/1")
    response = api.post(
        "/api/dcim/cables/",
        {
            **ends(a, b),
            "status": "planned",
            "type": "cat6",
            "label": "X1",
            "length": "2.5",
            "length_unit": "m",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == {"value": "planned", "label": "Planned"}
    assert body["type"] == {"value": "cat6", "label": "CAT6"}
    assert body["a_terminations"][0]["object_type"] == "dcim.interface"
    assert body["a_terminations"][0]["object_id"] == a.pk
    assert body["a_terminations"][0]["object"]["device"]["name"] == inv.devices[0].name
    assert body["b_terminations"][0]["object"]["name"] == "Gi0/1"
    assert body["display"] == "X1"
    change = m.ObjectChange.objects.get(
        changed_object_id=body["id"], changed_object_type__model="cable", action="create"
    )
    assert change.postchange_data["label"] == "X1"

    detail = api.get(f"/api/dcim/interfaces/{a.pk}/").json()
    assert detail["cable"]["id"] == body["id"] and detail["cable"]["label"] == "X1"
    assert detail["link_peers_type"] == "dcim.interface"
    assert [peer["id"] for peer in detail["link_peers"]] == [b.pk]
    assert detail["connected_endpoints"] is None  # planned: not connected yet
    assert detail["connected_endpoints_reachable"] is False

    api.patch(f"/api/dcim/cables/{body['id']}/", {"status": "connected"}, format="json")
    peer = api.get(f"/api/dcim/interfaces/{b.pk}/").json()
    assert [end["id"] for end in peer["connected_endpoints"]] == [a.pk]
    assert peer["connected_endpoints_type"] == "dcim.interface"
    assert peer["connected_endpoints_reachable"] is True

    cabled = api.get("/api/dcim/interfaces/", {"cabled": "true"}).json()["results"]
    assert sorted(row["id"] for row in cabled) == sorted([a.pk, b.pk])
    uncabled = api.get("/api/dcim/interfaces/", {"cabled": "false", "limit": 100}).json()
    assert uncabled["count"] == m.Interface.objects.count() - 2
    free = api.get(f"/api/dcim/interfaces/{port(inv.devices[2], 'Gi0/0').pk}/").json()
    assert free["cable"] is None and free["link_peers"] == [] and free["connected_endpoints"] is None


def test_an_interface_takes_one_cable_on_either_end(api, inv):
    a, b, c = (port(inv.devices[i], "Gi0/0") for i in range(3))
    assert api.post("/api/dcim/cables/", ends(a, b), format="json").status_code == 201
    again = api.post("/api/dcim/cables/", ends(c, a), format="json")  # a as the B end this time
    assert again.status_code == 400
    assert "already has cable" in again.json()["b_interface"][0]
    same = api.post("/api/dcim/cables/", ends(c, c), format="json")
    assert same.status_code == 400 and "itself" in str(same.json())
    wrong = api.post(
        "/api/dcim/cables/",
        {**ends(c, b), "a_terminations": [{"object_type": "dcim.frontport", "object_id": c.pk}]},
        format="json",
    )
    assert wrong.status_code == 400 and "dcim.interface" in str(wrong.json()["a_terminations"])
    missing = api.post("/api/dcim/cables/", {"a_terminations": ends(c, b)["a_terminations"]}, format="json")
    assert missing.status_code == 400 and "b_terminations" in missing.json()
    assert m.Cable.objects.count() == 1


def test_a_bulk_create_is_all_or_nothing(api, inv):
    a, b, c = (port(inv.devices[i], "Gi0/0") for i in range(3))
    response = api.post("/api/dcim/cables/", [ends(a, b), ends(b, c)], format="json")
    assert response.status_code == 400
    assert m.Cable.objects.count() == 0


def test_filters_device_site_status_type(api, inv):
    d0, d1, d2, d3 = inv.devices
    first = cable_create(
        data={"a_interface": port(d0, "Gi0/0"), "b_interface": port(d1, "Gi0/0"), "type": "cat6"}
    )
    second = cable_create(
        data={"a_interface": port(d2, "Gi0/0"), "b_interface": port(d3, "Gi0/0"), "status": "planned"}
    )

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/dcim/cables/?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["id"] for row in response.json()["results"])

    assert ids(f"device_id={d1.pk}") == [first.pk]  # the B end counts too
    assert ids(f"device_id={d0.pk}&device_id={d3.pk}") == [first.pk, second.pk]
    assert ids("status=planned") == [second.pk]
    assert ids("type=cat6") == [first.pk]
    assert ids(f"site={d0.site.slug}") == sorted(
        c.pk
        for c in (first, second)
        if d0.site_id in (c.a_interface.device.site_id, c.b_interface.device.site_id)
    )
    assert api.get("/api/dcim/cables/?site=nowhere").status_code == 400


def test_interface_list_answers_cables_without_n_plus_1(api, inv):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/dcim/interfaces/?limit=100").status_code == 200
        return len(captured)

    cable_create(
        data={"a_interface": port(inv.devices[0], "Gi0/0"), "b_interface": port(inv.devices[1], "Gi0/0")}
    )
    queries()  # warms the per-process caches (content types, the token's last use)
    one = queries()
    for name in ("Gi0/1",):
        cable_create(
            data={"a_interface": port(inv.devices[0], name), "b_interface": port(inv.devices[1], name)}
        )
    cable_create(
        data={"a_interface": port(inv.devices[2], "Gi0/0"), "b_interface": port(inv.devices[3], "Gi0/0")}
    )
    assert queries() == one
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/dcim/cables/?limit=100").json()["count"] == 3
    assert len(captured) <= 6


@pytest.fixture
def nb(live_server, transactional_db, make_token):
    credentials = make_token(superuser=True)
    api = pynetbox.api(live_server.url, token=credentials.key)
    api.http_session.trust_env = False  # loopback only
    yield api
    api.http_session.close()


def test_pynetbox_creates_reads_filters_and_deletes_cables(nb, transactional_db):
    inv = build_inventory(devices=2)
    a, b = port(inv.devices[0], "Gi0/0"), port(inv.devices[1], "Gi0/0")
    created = nb.dcim.cables.create(**ends(a, b), label="uplink", status="connected")
    assert created.id
    cable = nb.dcim.cables.get(created.id)
    assert cable.label == "uplink" and cable.status.value == "connected"
    assert cable.a_terminations[0].object.name == "Gi0/0"
    assert [c.id for c in nb.dcim.cables.filter(device_id=inv.devices[1].pk)] == [created.id]
    interface = nb.dcim.interfaces.get(a.pk)
    assert interface.cable.id == created.id
    assert interface.link_peers[0].id == b.pk
    cable.label = "uplink-2"
    assert cable.save()
    assert m.Cable.objects.get(pk=created.id).label == "uplink-2"
    assert cable.delete()
    assert not m.Cable.objects.exists()


def test_documented_interface_metric_counts_cabled_ports_as_connected(api, inv):
    """InterfaceDown's ``connected="true"``: the end of a cable or marked connected (mark_connected kept)."""
    d0, d1 = inv.devices[:2]
    cable_create(data={"a_interface": port(d0, "Gi0/0"), "b_interface": port(d1, "Gi0/0")})
    m.Interface.objects.filter(pk=port(d1, "Gi0/1").pk).update(mark_connected=True)
    found = text_string_to_metric_families(api.get("/metrics").content.decode())
    documented = {
        (s.labels["device"], s.labels["ifName"]): (s.labels["mark_connected"], s.labels["connected"])
        for family in found
        for s in family.samples
        if s.name == "infrastrand_interface_documented" and s.labels["device"] in (d0.name, d1.name)
    }
    assert documented == {
        (d0.name, "Gi0/0"): ("false", "true"),
        (d0.name, "Gi0/1"): ("false", "false"),
        (d1.name, "Gi0/0"): ("false", "true"),
        (d1.name, "Gi0/1"): ("true", "true"),
    }
