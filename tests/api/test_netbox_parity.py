"""NetBox parity automation depends on: filters applied or refused (never ignored), value ordering,
value shapes, dynamic fields, section roots, custom fields, VRFs and journal entries."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType

from inventory import models as m
from tests.api.data import create


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [
        item.get("name") or item.get("address") or item.get("prefix") for item in response.json()["results"]
    ]


def refused(response, parameter: str) -> str:
    assert response.status_code == 400, response.content
    body = response.json()
    assert parameter in body, body
    return " ".join(body[parameter])


@pytest.fixture
def owner_field(db):
    field = create(m.CustomField, name="owner", type="text")
    field.object_types.set([ContentType.objects.get_for_model(m.Device)])
    ports = create(m.CustomField, name="ports", type="integer", validation_minimum=1, validation_maximum=96)
    ports.object_types.set([ContentType.objects.get_for_model(m.Device)])
    return field


# -- filters: applied or refused ------------------------------------------------------------------


def test_custom_field_values_filter_and_validate(api, inv, owner_field):
    device = inv.devices[1]
    response = api.patch(
        f"/api/dcim/devices/{device.pk}/", {"custom_fields": {"owner": "ops"}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["custom_fields"] == {"owner": "ops", "ports": None}
    # A PATCH of one custom field keeps the others.
    response = api.patch(f"/api/dcim/devices/{device.pk}/", {"custom_fields": {"ports": 48}}, format="json")
    assert response.json()["custom_fields"] == {"owner": "ops", "ports": 48}

    assert names(api.get("/api/dcim/devices/", {"cf_owner": "ops"})) == ["rtr-001"]
    assert names(api.get("/api/dcim/devices/", {"cf_owner__ic": "OP"})) == ["rtr-001"]
    assert names(api.get("/api/dcim/devices/", {"cf_owner__n": "ops"})) == ["rtr-000", "rtr-002"]
    assert names(api.get("/api/dcim/devices/", {"cf_ports__gte": 24})) == ["rtr-001"]
    assert names(api.get("/api/dcim/devices/", {"cf_ports__lt": 24})) == []
    assert names(api.get("/api/dcim/devices/", {"cf_owner": "null"})) == ["rtr-000", "rtr-002"]

    assert "no custom field 'team'" in refused(api.get("/api/dcim/devices/", {"cf_team": "ops"}), "cf_team")
    assert "lookup" in refused(api.get("/api/dcim/devices/", {"cf_ports__ic": "4"}), "cf_ports__ic")
    refused(api.get("/api/dcim/devices/", {"cf_ports": "many"}), "cf_ports")
    refused(api.get("/api/dcim/sites/", {"cf_owner": "ops"}), "cf_owner")  # not a site field

    for bad in ({"team": "x"}, {"ports": 500}, {"ports": "many"}, {"owner": 3}):
        response = api.patch(f"/api/dcim/devices/{device.pk}/", {"custom_fields": bad}, format="json")
        assert response.status_code == 400, bad
        assert set(response.json()["custom_fields"]) == set(bad)
    device.refresh_from_db()
    assert device.custom_field_data == {"owner": "ops", "ports": 48}


def test_required_custom_field_and_default_on_create(api, inv, owner_field):
    owner_field.required = True
    owner_field.default = "noc"
    owner_field.save()
    payload = {
        "name": "new-01",
        "site": inv.sites[0].pk,
        "role": inv.roles[0].pk,
        "device_type": inv.device_type.pk,
    }
    response = api.post("/api/dcim/devices/", payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["custom_fields"]["owner"] == "noc"
    response = api.post(
        "/api/dcim/devices/", {**payload, "name": "new-02", "custom_fields": {"owner": None}}, format="json"
    )
    assert response.status_code == 400
    assert "owner" in response.json()["custom_fields"]


def test_created_and_last_updated_ranges(api, inv):
    future = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).isoformat()
    past = "2000-01-01"
    assert names(api.get("/api/dcim/devices/", {"created__gte": future})) == []
    assert names(api.get("/api/dcim/devices/", {"last_updated__gte": future})) == []
    assert names(api.get("/api/dcim/devices/", {"last_updated__lte": past})) == []
    assert len(names(api.get("/api/dcim/devices/", {"created__gte": past, "created__lte": future}))) == 3
    refused(api.get("/api/dcim/devices/", {"created__gte": "yesterday"}), "created__gte")


def test_unknown_related_values_are_400(api, inv):
    for query in ({"site": "atlantis"}, {"site_id": 987654}, {"tag": "nope"}, {"region": "nowhere"}):
        (parameter,) = query
        assert "not one of the available choices" in refused(api.get("/api/dcim/devices/", query), parameter)
    assert names(api.get("/api/dcim/devices/", {"site": ["betzdorf"]})) == ["rtr-001"]


def test_netbox_filters_we_lack_and_unknown_lookups_are_400_other_parameters_ignored(api, inv):
    assert "not supported" in refused(api.get("/api/dcim/devices/", {"cluster_id": 1}), "cluster_id")
    assert "not supported" in refused(api.get("/api/dcim/devices/", {"cluster_id__n": 1}), "cluster_id__n")
    assert "Unknown lookup" in refused(api.get("/api/dcim/devices/", {"name__regex": "x"}), "name__regex")
    assert len(names(api.get("/api/dcim/devices/", {"utm_source": "mail", "brief": "1"}))) == 3


def test_ip_address_parent_address_and_prefix_containment(api, inv):
    for address in ("10.0.1.10/24", "10.0.1.2/24", "10.0.2.1/24", "10.0.1.2/32", "2001:db8::1/64"):
        create(m.IPAddress, address=address, role="anycast")
    assert names(api.get("/api/ipam/ip-addresses/", {"parent": "10.0.1.0/24"})) == [
        "10.0.1.2/24",
        "10.0.1.2/32",
        "10.0.1.10/24",
    ]
    assert names(api.get("/api/ipam/ip-addresses/", {"parent": "2001:db8::/32"})) == ["2001:db8::1/64"]
    assert names(api.get("/api/ipam/ip-addresses/", {"address": "10.0.1.2"})) == [
        "10.0.1.2/24",
        "10.0.1.2/32",
    ]
    assert names(api.get("/api/ipam/ip-addresses/", {"address": "10.0.1.2/32"})) == ["10.0.1.2/32"]
    assert names(api.get("/api/ipam/ip-addresses/", {"parent": "10.0.0.0/8", "mask_length": 32})) == [
        "10.0.1.2/32"
    ]
    refused(api.get("/api/ipam/ip-addresses/", {"parent": "10.0.1.0/33"}), "parent")

    for prefix in ("10.0.0.0/16", "10.0.1.0/24", "10.0.1.128/25", "10.1.0.0/16", "2001:db8::/32"):
        create(m.Prefix, prefix=prefix)
    assert names(api.get("/api/ipam/prefixes/", {"within": "10.0.0.0/16"})) == [
        "10.0.1.0/24",
        "10.0.1.128/25",
    ]
    assert names(api.get("/api/ipam/prefixes/", {"within_include": "10.0.0.0/16"})) == [
        "10.0.0.0/16",
        "10.0.1.0/24",
        "10.0.1.128/25",
    ]
    assert names(api.get("/api/ipam/prefixes/", {"contains": "10.0.1.200"})) == [
        "10.0.0.0/16",
        "10.0.1.0/24",
        "10.0.1.128/25",
    ]
    assert names(api.get("/api/ipam/prefixes/", {"contains": "10.0.1.0/24"})) == [
        "10.0.0.0/16",
        "10.0.1.0/24",
    ]
    assert names(api.get("/api/ipam/prefixes/", {"prefix": "10.0.1.5/24"})) == ["10.0.1.0/24"]
    refused(api.get("/api/ipam/prefixes/", {"within": "ten"}), "within")


# -- ordering -------------------------------------------------------------------------------------


def test_addresses_and_prefixes_sort_by_value(api, db):
    for address in (
        "10.0.0.100/24",
        "2001:db8::1/64",
        "10.0.0.10/24",
        "10.0.0.2/24",
        "10.0.0.2/16",
        "9.0.0.1/8",
    ):
        create(m.IPAddress, address=address, role="vip")
    assert names(api.get("/api/ipam/ip-addresses/")) == [
        "9.0.0.1/8",
        "10.0.0.2/16",
        "10.0.0.2/24",
        "10.0.0.10/24",
        "10.0.0.100/24",
        "2001:db8::1/64",
    ]
    for prefix in ("10.10.0.0/16", "10.9.0.0/16", "10.9.0.0/24", "2001:db8::/32"):
        create(m.Prefix, prefix=prefix)
    assert names(api.get("/api/ipam/prefixes/")) == [
        "10.9.0.0/16",
        "10.9.0.0/24",
        "10.10.0.0/16",
        "2001:db8::/32",
    ]


def test_interfaces_sort_naturally(api, inv):
    device = inv.devices[0]
    for name in ("Gi0/10", "Gi0/2", "Gi1/0/1", "Gi0/1/1", "Te0/1"):
        create(m.Interface, device=device, name=name, type="1000base-t")
    response = api.get("/api/dcim/interfaces/", {"device_id": device.pk})
    assert names(response) == ["Gi0/0", "Gi0/1", "Gi0/1/1", "Gi0/2", "Gi0/10", "Gi1/0/1", "Te0/1"]


# -- value shapes, dynamic fields, roots ----------------------------------------------------------


def test_values_and_fields_automation_reads(api, inv):
    device = inv.devices[0]
    site = api.get(f"/api/dcim/sites/{inv.sites[0].pk}/").json()
    assert site["time_zone"] is None
    assert site["display_url"].endswith(f"/{inv.sites[0].pk}/")
    assert site["custom_fields"] == {}

    body = api.get(f"/api/dcim/devices/{device.pk}/").json()
    assert body["interface_count"] == 2
    assert body["oob_ip"] is None
    listed = api.get("/api/dcim/devices/", {"name": device.name}).json()["results"][0]
    assert listed["interface_count"] == 2

    interfaces = api.get("/api/dcim/interfaces/", {"device_id": device.pk}).json()["results"]
    first = interfaces[0]
    assert first["mac_address"] is None and first["cable"] is None and first["lag"] is None
    assert first["mode"] is None and first["vrf"] is None and first["link_peers"] == []

    lag = create(m.Interface, device=device, name="Po1", type="lag")
    response = api.patch(
        f"/api/dcim/interfaces/{first['id']}/",
        {"lag": lag.pk, "mode": "access", "mac_address": None},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["lag"]["id"] == lag.pk and response.json()["mode"]["value"] == "access"
    other = api.patch(f"/api/dcim/interfaces/{first['id']}/", {"lag": first["id"]}, format="json")
    assert other.status_code == 400 and "lag" in other.json()

    response = api.patch(f"/api/dcim/sites/{inv.sites[0].pk}/", {"time_zone": None}, format="json")
    assert response.status_code == 200 and response.json()["time_zone"] is None
    assert api.get("/api/dcim/interfaces/", {"lag_id": lag.pk}).json()["count"] == 1


def test_fields_and_omit(api, inv):
    rows = api.get("/api/dcim/devices/", {"fields": "id,name,site"}).json()["results"]
    assert set(rows[0]) == {"id", "name", "site"}
    assert "slug" in rows[0]["site"]  # nested objects keep their form
    detail = api.get(f"/api/dcim/devices/{inv.devices[0].pk}/", {"omit": "comments,custom_fields"}).json()
    assert "comments" not in detail and "custom_fields" not in detail and "name" in detail


def test_api_section_roots_list_their_endpoints(api, client_for):
    anonymous = client_for(None)
    for section, endpoint in (
        ("dcim", "devices"),
        ("ipam", "vrfs"),
        ("tenancy", "tenants"),
        ("extras", "journal-entries"),
        ("core", "object-changes"),
    ):
        response = anonymous.get(f"/api/{section}/")
        assert response.status_code == 200, section
        assert response.json()[endpoint].endswith(f"/api/{section}/{endpoint}/")


# -- VRFs and journal entries ---------------------------------------------------------------------


def test_vrfs_separate_address_spaces(api, db):
    blue = create(m.VRF, name="Blue", rd="65000:1")
    create(m.IPAddress, address="10.5.0.1/24")
    response = api.post("/api/ipam/ip-addresses/", {"address": "10.5.0.1/24", "vrf": blue.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["vrf"]["rd"] == "65000:1"
    again = api.post("/api/ipam/ip-addresses/", {"address": "10.5.0.1/24", "vrf": blue.pk}, format="json")
    assert again.status_code == 400 and "address" in again.json()
    assert names(api.get("/api/ipam/ip-addresses/", {"vrf": "65000:1"})) == ["10.5.0.1/24"]
    assert api.get("/api/ipam/ip-addresses/", {"vrf_id": "null"}).json()["count"] == 1
    refused(api.get("/api/ipam/ip-addresses/", {"vrf": "65000:9"}), "vrf")


def test_journal_entries_on_any_object(api, inv, admin_token):
    site = inv.sites[0]
    response = api.post(
        "/api/extras/journal-entries/",
        {"assigned_object_type": "dcim.site", "assigned_object_id": site.pk, "comments": "Power work Sunday"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created_by"] == admin_token.user.pk
    assert body["kind"]["value"] == "info" and body["assigned_object"]["slug"] == site.slug
    listed = api.get("/api/extras/journal-entries/", {"assigned_object_type": "dcim.site"}).json()
    assert listed["count"] == 1
    missing = api.post(
        "/api/extras/journal-entries/",
        {"assigned_object_type": "dcim.site", "assigned_object_id": 987654, "comments": "x"},
        format="json",
    )
    assert missing.status_code == 400 and "assigned_object_id" in missing.json()
