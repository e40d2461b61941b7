"""``/api/monitoring/drift/`` (filters, adopt, acknowledge, bulk), interface templates, drift metrics —
through the test client, the collector's observation endpoint, promtool and pynetbox on the live server."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pynetbox
import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from pynetbox.core.app import App
from pynetbox.core.endpoint import DetailEndpoint
from pynetbox.core.query import RequestError

from inventory import models as m
from inventory.services.drift_adopt import ADOPT_PERMS
from tests.api.data import build_inventory


def report(client, inv, observations: list[dict]) -> dict:
    response = client.post(
        "/api/collector/observations/", {"collector": "c1", "observations": observations}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def drifting(device: m.Device, **facts) -> dict:
    """An observation of ``device`` with its documented interfaces, Gi0/9 more, and ``facts``."""
    return {
        "device_id": device.pk,
        "polled_at": timezone.now().isoformat(),
        "up": True,
        "facts": {"sysName": device.name, **facts},
        "interfaces": [
            {"ifIndex": 1, "ifName": "Gi0/0", "ifAdminStatus": "up", "speed_bps": 1_000_000_000},
            {"ifIndex": 2, "ifName": "Gi0/1", "ifAdminStatus": "up", "speed_bps": 1_000_000_000},
            {"ifIndex": 9, "ifName": "Gi0/9", "ifAdminStatus": "up", "speed_bps": 10_000_000_000},
        ],
    }


@pytest.fixture
def collector(make_token, client_for, inv):
    return client_for(make_token(collector=True))


@pytest.fixture
def drift(collector, inv):
    """rtr-000 (Casablanca, MA, add) and rtr-001 (Betzdorf, LU, ctie) each with a serial drift and an
    undocumented Gi0/9, reported through the collector endpoint (the incremental path)."""
    report(collector, inv, [drifting(device, serial=f"NEW{device.pk}") for device in inv.devices[:2]])
    return inv


def test_the_observation_endpoint_detects_drift(drift, api):
    body = api.get("/api/monitoring/drift/").json()
    assert body["count"] == 4
    kinds = sorted((row["device"]["name"], row["kind"]["value"], row["subject"]) for row in body["results"])
    assert kinds == [
        ("rtr-000", "interface_undocumented", "Gi0/9"),
        ("rtr-000", "serial", ""),
        ("rtr-001", "interface_undocumented", "Gi0/9"),
        ("rtr-001", "serial", ""),
    ]
    row = next(
        r for r in body["results"] if r["kind"]["value"] == "serial" and r["device"]["name"] == "rtr-000"
    )
    assert row["documented"] == "SN00000" and row["observed"].startswith("NEW")
    assert row["state"] == {"value": "open", "label": "Open"}
    assert row["url"].endswith(f"/api/monitoring/drift/{row['id']}/")


@pytest.mark.parametrize(
    ("query", "devices"),
    [
        ("site=casablanca-dc1", {"rtr-000"}),
        ("country=LU", {"rtr-001"}),
        ("strand=digital-inclusion", {"rtr-001"}),
        ("tenant=add", {"rtr-000"}),
        ("kind=serial", {"rtr-000", "rtr-001"}),
        ("state=acknowledged", set()),
    ],
)
def test_list_filters(drift, api, query, devices):
    response = api.get(f"/api/monitoring/drift/?{query}")
    assert response.status_code == 200, response.content
    assert {row["device"]["name"] for row in response.json()["results"]} == devices


def test_filter_by_device_id_and_unknown_site(drift, api):
    device = drift.devices[1]
    rows = api.get(f"/api/monitoring/drift/?device_id={device.pk}").json()["results"]
    assert {row["device"]["id"] for row in rows} == {device.pk} and len(rows) == 2
    assert api.get("/api/monitoring/drift/?site=nowhere").status_code == 400
    assert api.get("/api/monitoring/drift/?kind=bogus").status_code == 400


def test_adopt_one_item(drift, api, admin_token):
    item = m.DriftItem.objects.get(device=drift.devices[0], kind="interface_undocumented")
    before = m.ObjectChange.objects.count()
    response = api.post(f"/api/monitoring/drift/{item.pk}/adopt/")
    assert response.status_code == 200, response.content
    assert response.json()["state"]["value"] == "resolved"
    interface = m.Interface.objects.get(device=drift.devices[0], name="Gi0/9")
    assert (interface.type, interface.speed) == ("10gbase-x-sfpp", 10_000_000)
    change = m.ObjectChange.objects.get(
        pk__gt=0, pk__in=m.ObjectChange.objects.order_by("pk")[before:].values("pk")
    )
    assert (change.action, change.object_repr, change.user_name) == (
        "create",
        "Gi0/9",
        admin_token.user.username,
    )
    again = api.post(f"/api/monitoring/drift/{item.pk}/adopt/")
    assert again.status_code == 400 and "resolved already" in again.content.decode()


def test_acknowledge_one_item_with_expiry(drift, api):
    item = m.DriftItem.objects.get(device=drift.devices[0], kind="serial")
    until = (timezone.now() + timedelta(days=2)).isoformat()
    assert api.post(f"/api/monitoring/drift/{item.pk}/acknowledge/", {}, format="json").status_code == 400
    response = api.post(
        f"/api/monitoring/drift/{item.pk}/acknowledge/",
        {"reason": "RMA in progress", "until": until},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"]["value"] == "acknowledged" and body["acknowledged_reason"] == "RMA in progress"
    assert body["acknowledged_until"] is not None


def test_bulk_adopt_by_filter_and_by_ids(drift, api):
    response = api.post("/api/monitoring/drift/adopt/", {"filter": {"site": "casablanca-dc1"}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 2
    assert m.Device.objects.get(name="rtr-000").serial.startswith("NEW")
    assert m.DriftItem.objects.active().filter(device__name="rtr-000").count() == 0
    ids = list(m.DriftItem.objects.active().values_list("pk", flat=True))
    response = api.post("/api/monitoring/drift/adopt/", {"ids": ids}, format="json")
    assert response.status_code == 200 and response.json()["count"] == 2
    assert not m.DriftItem.objects.active().exists()


def test_bulk_adopt_is_all_or_nothing(drift, api):
    m.Interface.objects.create(device=drift.devices[1], name="Gi0/9", type="other")  # the record moved on
    before = m.ObjectChange.objects.count()
    ids = list(m.DriftItem.objects.active().values_list("pk", flat=True))
    response = api.post("/api/monitoring/drift/adopt/", {"ids": ids}, format="json")
    assert response.status_code == 400, response.content
    assert "Gi0/9" in response.content.decode()
    assert m.ObjectChange.objects.count() == before
    assert m.DriftItem.objects.active().count() == 4
    assert not m.Device.objects.filter(serial__startswith="NEW").exists()


def test_bulk_acknowledge_and_selection_errors(drift, api):
    response = api.post(
        "/api/monitoring/drift/acknowledge/", {"filter": {"kind": "serial"}, "reason": "known"}, format="json"
    )
    assert response.status_code == 200 and response.json()["count"] == 2
    assert api.post("/api/monitoring/drift/adopt/", {}, format="json").status_code == 400
    bad = api.post("/api/monitoring/drift/adopt/", {"filter": {"site": "nowhere"}}, format="json")
    assert bad.status_code == 400 and "filter" in bad.json()
    none = api.post("/api/monitoring/drift/adopt/", {"filter": {"kind": "model"}}, format="json")
    assert none.status_code == 400


def test_permissions(drift, make_token, client_for):
    item = m.DriftItem.objects.filter(device=drift.devices[0]).first()
    viewer = client_for(make_token("view_driftitem"))
    assert viewer.get("/api/monitoring/drift/").status_code == 200
    assert viewer.post(f"/api/monitoring/drift/{item.pk}/adopt/").status_code == 403
    acker = client_for(make_token("view_driftitem", "change_driftitem"))
    ack = acker.post(f"/api/monitoring/drift/{item.pk}/acknowledge/", {"reason": "ok"}, format="json")
    assert ack.status_code == 200
    assert acker.post(f"/api/monitoring/drift/{item.pk}/adopt/").status_code == 403
    no_cables = [p for p in ADOPT_PERMS if p != "inventory.add_cable"]
    interfaces_only = client_for(make_token("view_driftitem", *no_cables))
    state = m.DriftItem.objects.get(pk=item.pk).state
    # adopting may create a cable (cable_missing): without add_cable nothing is adopted
    assert interfaces_only.post(f"/api/monitoring/drift/{item.pk}/adopt/").status_code == 403
    assert m.DriftItem.objects.get(pk=item.pk).state == state
    adopter = client_for(make_token("view_driftitem", *ADOPT_PERMS))
    assert adopter.post(f"/api/monitoring/drift/{item.pk}/adopt/").status_code == 200
    read_only = client_for(make_token("view_driftitem", "change_driftitem", write=False))
    assert read_only.post(f"/api/monitoring/drift/{item.pk}/acknowledge/", {"reason": "x"}).status_code == 403
    assert client_for(make_token("view_site")).get("/api/monitoring/drift/").status_code == 403


def test_interface_templates_api_and_device_creation(api, inv):
    device_type = inv.device_type
    response = api.post(
        "/api/dcim/interface-templates/",
        [{"device_type": device_type.pk, "name": f"Gi1/0/{i}", "type": "1000base-t"} for i in (1, 2)],
        format="json",
    )
    assert response.status_code == 201, response.content
    row = response.json()[0]
    assert row["type"] == {"value": "1000base-t", "label": "1000BASE-T (1GE)"} and row["module_type"] is None
    assert row["device_type"]["id"] == device_type.pk
    listed = api.get(f"/api/dcim/interface-templates/?devicetype_id={device_type.pk}").json()
    assert listed["count"] == 2
    created = api.post(
        "/api/dcim/devices/",
        {"name": "sw-new", "site": inv.sites[0].pk, "role": inv.roles[0].pk, "device_type": device_type.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["interface_count"] == 2
    names = m.Interface.objects.filter(device__name="sw-new").values_list("name", flat=True)
    assert sorted(names) == ["Gi1/0/1", "Gi1/0/2"]


def test_templates_from_a_live_device(collector, api, inv):
    report(collector, inv, [drifting(inv.devices[0])])
    response = api.post(
        "/api/dcim/interface-templates/from-device/", {"device": inv.devices[0].pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert [row["name"] for row in response.json()] == ["Gi0/0", "Gi0/1", "Gi0/9"]
    empty = api.post(
        "/api/dcim/interface-templates/from-device/", {"device": inv.devices[2].pk}, format="json"
    )
    assert empty.status_code == 400 and "no observed interfaces" in empty.content.decode()


def test_drift_metrics_and_promtool(drift, api):
    item = m.DriftItem.objects.get(device=drift.devices[1], kind="serial")
    api.post(f"/api/monitoring/drift/{item.pk}/acknowledge/", {"reason": "known"}, format="json")
    text = api.get("/metrics").content
    families = {f.name: f for f in text_string_to_metric_families(text.decode())}
    counts = {
        tuple(s.labels[k] for k in ("kind", "site", "country", "tenant")): s.value
        for s in families["infrastrand_drift_items"].samples
    }
    assert counts == {
        ("interface_undocumented", "casablanca-dc1", "MA", "add"): 1,
        ("serial", "casablanca-dc1", "MA", "add"): 1,
        ("interface_undocumented", "betzdorf", "LU", "ctie"): 1,
    }
    oldest = families["infrastrand_drift_oldest_open_timestamp_seconds"].samples
    first = m.DriftItem.objects.get(device=drift.devices[0], kind="serial").first_seen.timestamp()
    assert any(s.labels["kind"] == "serial" and s.value == first for s in oldest)
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) must be installed"
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=30)
    findings = [
        line
        for line in (result.stdout + result.stderr).decode().splitlines()
        if line.strip() and "infrastrand_interface_documented" not in line
    ]
    assert result.returncode in (0, 3) and not findings, result.stdout + result.stderr


# -- pynetbox against the live server --------------------------------------------------------------


@pytest.fixture
def nb(live_server, transactional_db, make_token):
    api = pynetbox.api(live_server.url, token=make_token(superuser=True).key)
    api.http_session.trust_env = False  # never a proxy: loopback only
    yield api
    api.http_session.close()


def test_pynetbox_lists_filters_adopts_and_acknowledges(nb, transactional_db):
    inv = build_inventory(devices=3)
    from inventory.services.monitoring import observation_record

    for device in inv.devices[:2]:
        observation_record(
            device=device, collector="c1", polled_at=timezone.now(), up=True, facts={"serial": "PYNB"}
        )
    monitoring = App(nb, "monitoring")  # pynetbox knows NetBox's apps; other apps are one line away
    items = list(monitoring.drift.filter(kind="serial"))
    assert len(items) == 2 and {str(item.kind) for item in items} == {"Serial number"}
    assert monitoring.drift.count(site="betzdorf") == 1
    first, second = items
    adopted = DetailEndpoint(first, "adopt").create({})
    assert adopted["state"]["value"] == "resolved"
    acked = DetailEndpoint(second, "acknowledge").create({"reason": "spare chassis"})
    assert acked["state"]["value"] == "acknowledged"
    with pytest.raises(RequestError) as raised:
        DetailEndpoint(first, "adopt").create({})
    assert raised.value.req.status_code == 400
    template = nb.dcim.interface_templates.create(
        device_type=inv.device_type.pk, name="Gi9/9", type="1000base-t"
    )
    assert nb.dcim.interface_templates.get(template.id).name == "Gi9/9"
