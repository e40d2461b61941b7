"""Error shapes: NetBox's 400 field errors, row-indexed bulk errors, 404, 405 and 409; nothing written."""

from __future__ import annotations

from inventory import models as m


def _device(inv, **extra):
    return {
        "name": "new",
        "site": inv.sites[0].pk,
        "role": inv.roles[0].pk,
        "device_type": inv.device_type.pk,
        **extra,
    }


def test_related_object_references(api, inv):
    cases = [
        ({"site": 987654}, "site", "numeric ID: 987654"),
        ({"site": {"slug": "atlantis"}}, "site", "provided attributes"),
        ({"site": "betzdorf"}, "site", "numeric ID or by dictionary"),
        ({"site": {"secret_field": 1}}, "site", "Unknown attribute"),
        ({"site": {"slug": ["a", "b"]}}, "site", "single value"),
        ({"site": True}, "site", "numeric ID or by dictionary"),
        ({"role": {"name__icontains": "r"}}, "role", "Unknown attribute"),
        ({"status": "sleeping"}, "status", "not a valid choice"),
        ({"status": {"value": "active"}, "tags": [987654]}, "tags", "numeric ID: 987654"),
    ]
    for extra, field, message in cases:
        response = api.post("/api/dcim/devices/", _device(inv, **extra), format="json")
        assert response.status_code == 400, extra
        assert message in str(response.json()[field]), (extra, response.json())
    assert not m.Device.objects.filter(name="new").exists()


def test_ambiguous_lookup_dict(api, inv):
    response = api.post(
        "/api/dcim/devices/", _device(inv, device_type={"manufacturer": {"slug": "cisco"}}), format="json"
    )
    assert response.status_code == 201  # only one Cisco type so far
    api.post(
        "/api/dcim/device-types/",
        {"manufacturer": inv.manufacturer.pk, "model": "C9", "slug": "c9"},
        format="json",
    )
    response = api.post(
        "/api/dcim/devices/",
        _device(inv, name="n2", device_type={"manufacturer": {"slug": "cisco"}}),
        format="json",
    )
    assert response.status_code == 400 and "Multiple objects" in str(response.json()["device_type"])


def test_model_rules_are_field_errors(api, inv):
    rack = m.Rack.objects.create(name="R1", site=inv.sites[1])
    response = api.post("/api/dcim/devices/", _device(inv, rack=rack.pk), format="json")
    assert response.status_code == 400
    assert "rack" in response.json() and "belongs to site" in response.json()["rack"][0]
    ip_elsewhere = m.IPAddress.objects.get(address="127.0.2.2/24")
    response = api.patch(
        f"/api/dcim/devices/{inv.devices[0].pk}/", {"primary_ip4": ip_elsewhere.pk}, format="json"
    )
    assert response.status_code == 400 and "primary_ip4" in response.json()


def test_protected_delete_is_409_and_bulk_names_the_row(api, inv):
    site = inv.sites[0]
    changes = m.ObjectChange.objects.count()
    response = api.delete(f"/api/dcim/sites/{site.pk}/")
    assert response.status_code == 409
    assert "dependent objects" in response.json()["detail"]
    spare = m.Tenant.objects.create(name="Spare", slug="spare")
    response = api.delete(
        "/api/tenancy/tenants/", [{"id": spare.pk}, {"id": inv.tenants[0].pk}], format="json"
    )
    assert response.status_code == 400
    assert response.json()[0] == {} and "id" in response.json()[1]
    assert m.Tenant.objects.filter(pk=spare.pk).exists()
    assert m.ObjectChange.objects.count() == changes + 1  # the spare tenant's creation only


def test_bulk_put_needs_complete_objects(api, inv):
    tags = list(m.Tag.objects.order_by("pk"))
    rows = [{"id": tag.pk, "name": f"{tag.name} v2", "slug": f"{tag.slug}-v2"} for tag in tags]
    response = api.put("/api/extras/tags/", rows, format="json")
    assert response.status_code == 200, response.content
    assert [t["name"] for t in response.json()] == ["Core v2", "Edge v2"]
    response = api.put("/api/extras/tags/", [{"id": tags[0].pk, "color": "000000"}], format="json")
    assert response.status_code == 400 and "name" in response.json()[0]


def test_malformed_bodies(api, inv):
    assert api.post("/api/dcim/sites/", "not json", content_type="application/json").status_code == 400
    assert api.post("/api/dcim/sites/", [], format="json").status_code == 400
    assert api.patch("/api/dcim/sites/", [{"name": "no id"}], format="json").status_code == 400
    assert api.patch("/api/dcim/sites/", {"id": inv.sites[0].pk}, format="json").status_code == 400
    response = api.delete("/api/dcim/sites/", [inv.sites[1].pk, inv.sites[1].pk], format="json")
    assert response.status_code == 400
    assert m.Site.objects.filter(pk=inv.sites[1].pk).exists()
    assert api.get("/api/dcim/sites/abc/").status_code == 404
