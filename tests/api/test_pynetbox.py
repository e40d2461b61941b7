"""The real NetBox client (pynetbox) against the live server: it must work unmodified."""

from __future__ import annotations

import json

import pynetbox
import pytest
from pynetbox.core.query import RequestError

from inventory import models as m
from tests.api.data import build_inventory


@pytest.fixture
def nb(live_server, transactional_db, make_token):
    credentials = make_token(superuser=True)
    api = pynetbox.api(live_server.url, token=credentials.key)
    api.http_session.trust_env = False  # never a proxy: loopback only
    yield api
    api.http_session.close()  # no keep-alive connection outlives the test's database


@pytest.fixture
def data(transactional_db):
    return build_inventory(devices=4)


def test_status_version_and_openapi(nb):
    status = nb.status()
    assert status["netbox-version"].startswith("4.")
    assert status["django-version"]
    assert nb.version == "4.2"
    assert "/api/dcim/devices/" in nb.openapi()["paths"]


def test_sites_list_get_filter_create_update_delete(nb, data):
    assert len(list(nb.dcim.sites.all())) == 2
    site = nb.dcim.sites.get(slug="casablanca-dc1")
    assert site.name == "Casablanca DC1"
    assert site.status.value == "active" and site.status.label == "Active"
    assert site.region.slug == "grand-casablanca"
    assert site.tenant.name == "Digital Development Agency"
    assert [s.slug for s in nb.dcim.sites.filter(country="LU")] == ["betzdorf"]
    assert [s.slug for s in nb.dcim.sites.filter(name__ic="casa")] == ["casablanca-dc1"]
    assert [s.slug for s in nb.dcim.sites.filter(status__n="active")] == []

    created = nb.dcim.sites.create(
        name="Tangier Exchange",
        slug="tangier-ix",
        country="MA",
        status="planned",
        region={"slug": "grand-casablanca"},
        strands=["infrastructure"],
    )
    assert created.id and created.status.value == "planned"
    created.status = "active"
    created.facility = "IX hall"
    assert created.save()
    fresh = nb.dcim.sites.get(created.id)
    assert fresh.status.value == "active" and fresh.facility == "IX hall"
    assert fresh.delete()
    assert not m.Site.objects.filter(slug="tangier-ix").exists()


def test_sites_bulk_create_update_delete(nb, data):
    created = nb.dcim.sites.create(
        [{"name": f"Bulk {i}", "slug": f"bulk-{i}", "country": "LU", "status": "staging"} for i in range(3)]
    )
    assert len(created) == 3
    ids = [site.id for site in created]
    updated = nb.dcim.sites.update([{"id": pk, "status": "active"} for pk in ids])
    assert {site.status.value for site in updated} == {"active"}
    assert nb.dcim.sites.delete(ids)
    assert not m.Site.objects.filter(pk__in=ids).exists()


def test_bulk_create_with_a_bad_row_raises_and_writes_nothing(nb, data):
    before = m.Site.objects.count()
    with pytest.raises(RequestError) as excinfo:
        nb.dcim.sites.create(
            [{"name": "Good", "slug": "good", "country": "MA"}, {"name": "Bad", "slug": "bad"}]
        )
    assert excinfo.value.req.status_code == 400
    assert json.loads(excinfo.value.error) == [{}, {"country": ["Give a country, or a region that has one."]}]
    assert m.Site.objects.count() == before


def test_devices_with_nested_lookups_and_choices(nb, data):
    device = nb.dcim.devices.create(
        name="edge-sw-01",
        site={"slug": "betzdorf"},
        role={"slug": "access-switch"},
        device_type={"manufacturer": {"slug": "cisco"}, "model": "C8300"},
        tenant={"slug": "ctie"},
        status="staged",
        tags=[{"slug": "edge"}],
    )
    assert device.site.slug == "betzdorf"
    assert device.device_type.manufacturer.slug == "cisco"
    assert device.status.value == "staged"
    assert [tag.slug for tag in device.tags] == ["edge"]
    listed = list(nb.dcim.devices.filter(site="betzdorf", status="staged"))
    assert [d.name for d in listed] == ["edge-sw-01"]
    assert {d.name for d in nb.dcim.devices.filter(site_id=data.sites[0].pk)} == {"rtr-000", "rtr-002"}
    device.serial = "LU-0001"
    device.status = "active"
    device.save()
    assert m.Device.objects.get(pk=device.id).serial == "LU-0001"
    # A nested record resolves to its own endpoint and loads in full.
    site = device.site
    site.full_details()
    assert site.country == "LU"
    device.delete()
    assert not m.Device.objects.filter(name="edge-sw-01").exists()


def test_device_choices_and_unknown_value(nb, data):
    choices = nb.dcim.devices.choices()
    assert {"value": "active", "display_name": "Active"} in choices["status"]
    with pytest.raises(RequestError) as excinfo:
        nb.dcim.devices.create(
            name="bad",
            site=data.sites[0].pk,
            role=data.roles[0].pk,
            device_type=data.device_type.pk,
            status="nope",
        )
    assert "status" in excinfo.value.error


def test_interfaces(nb, data):
    device = data.devices[0]
    interfaces = list(nb.dcim.interfaces.filter(device_id=device.pk))
    assert sorted(i.name for i in interfaces) == ["Gi0/0", "Gi0/1"]
    created = nb.dcim.interfaces.create(
        [{"device": device.pk, "name": f"Te1/0/{i}", "type": "10gbase-x-sfpp", "mtu": 9000} for i in range(2)]
    )
    assert [i.type.value for i in created] == ["10gbase-x-sfpp"] * 2
    interface = nb.dcim.interfaces.get(device_id=device.pk, name="Te1/0/0")
    interface.enabled = False
    interface.mac_address = "00-11-22-aa-bb-cc"
    interface.save()
    stored = m.Interface.objects.get(pk=interface.id)
    assert stored.enabled is False and stored.mac_address == "00:11:22:AA:BB:CC"
    assert nb.dcim.interfaces.delete([i.id for i in created])
    assert not m.Interface.objects.filter(name__startswith="Te1/0/").exists()


def test_ip_addresses(nb, data):
    interface = m.Interface.objects.get(device=data.devices[0], name="Gi0/1")
    ip = nb.ipam.ip_addresses.create(
        address="10.20.0.5/24",
        status="active",
        assigned_object_type="dcim.interface",
        assigned_object_id=interface.pk,
        dns_name="RTR-000.example.ma",
    )
    assert ip.family.value == 4
    assert ip.assigned_object_type == "dcim.interface"
    assert ip.assigned_object.name == "Gi0/1"
    assert ip.dns_name == "rtr-000.example.ma"
    on_device = {a.address for a in nb.ipam.ip_addresses.filter(device_id=data.devices[0].pk)}
    assert on_device == {"10.20.0.5/24", "127.0.2.1/24"}
    ip.status = "reserved"
    ip.save()
    assert m.IPAddress.objects.get(pk=ip.id).status == "reserved"
    assert nb.ipam.ip_addresses.get(address="10.20.0.5/24").id == ip.id
    ip.delete()
    assert not m.IPAddress.objects.filter(address="10.20.0.5/24").exists()


def test_pagination_is_followed(nb, data):
    for i in range(60):
        m.Tag.objects.create(name=f"t{i:02d}", slug=f"t{i:02d}")
    tags = list(nb.extras.tags.all())
    assert len(tags) == 62
    assert nb.extras.tags.count() == 62


def test_read_only_token_is_refused(live_server, data, make_token):
    reader = pynetbox.api(live_server.url, token=make_token(superuser=True, write=False).key)
    reader.http_session.trust_env = False
    assert len(list(reader.dcim.devices.all())) == 4
    with pytest.raises(RequestError) as excinfo:
        reader.dcim.sites.create(name="X", slug="x", country="MA")
    reader.http_session.close()
    assert excinfo.value.req.status_code == 403
    assert not m.Site.objects.filter(slug="x").exists()
