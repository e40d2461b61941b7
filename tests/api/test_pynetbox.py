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


def test_filter_then_delete_never_deletes_everything(nb, data):
    """The classic automation script: delete what a filter matched. Unknown filters must fail loudly."""
    from django.contrib.contenttypes.models import ContentType

    owner = nb.extras.custom_fields.create(name="owner", type="text", object_types=["dcim.device"])
    assert owner.id
    target = nb.dcim.devices.get(name="rtr-002")
    target.custom_fields["owner"] = "ops"
    assert target.save()
    assert m.Device.objects.get(pk=target.id).custom_field_data == {"owner": "ops"}
    matched = list(nb.dcim.devices.filter(cf_owner="ops"))
    assert [d.name for d in matched] == ["rtr-002"]
    for device in matched:
        device.delete()
    assert m.Device.objects.count() == 3

    future = "2999-01-01T00:00:00Z"
    assert list(nb.dcim.devices.filter(created__gte=future)) == []
    assert list(nb.dcim.devices.filter(last_updated__gte=future)) == []
    for query in ({"cf_team": "ops"}, {"site": "atlantis"}, {"tag": "nope"}, {"cluster_id": 3}):
        with pytest.raises(RequestError) as excinfo:
            list(nb.dcim.devices.filter(**query))
        assert excinfo.value.req.status_code == 400
    assert m.Device.objects.count() == 3
    assert (
        ContentType.objects.get_for_model(m.Device)
        in m.CustomField.objects.get(name="owner").object_types.all()
    )


def test_vrfs_prefixes_journal_and_dynamic_fields(nb, data):
    vrf = nb.ipam.vrfs.create(name="Blue", rd="65000:1")
    nb.ipam.prefixes.create(prefix="10.30.0.0/16", vrf=vrf.id)
    nb.ipam.prefixes.create(prefix="10.30.1.0/24", vrf=vrf.id)
    assert [p.prefix for p in nb.ipam.prefixes.filter(within="10.30.0.0/16")] == ["10.30.1.0/24"]
    assert [p.prefix for p in nb.ipam.prefixes.filter(vrf_id=vrf.id)] == ["10.30.0.0/16", "10.30.1.0/24"]
    assert [a.address for a in nb.ipam.ip_addresses.filter(parent="127.0.2.0/24")] == [
        f"127.0.2.{i}/24" for i in range(1, 5)
    ]
    device = nb.dcim.devices.get(name="rtr-000")
    entry = nb.extras.journal_entries.create(
        assigned_object_type="dcim.device",
        assigned_object_id=device.id,
        kind="warning",
        comments="PSU 2 failed",
    )
    assert entry.kind.value == "warning"
    assert device.interface_count == 2
    narrow = nb.http_session.get(
        f"{nb.base_url}/dcim/devices/{device.id}/",
        params={"fields": "id,name"},
        headers={"Authorization": f"Token {nb.token}"},
    )
    assert narrow.json() == {"id": device.id, "name": "rtr-000"}
