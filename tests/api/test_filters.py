"""NetBox's filter lookups, q=, tag=, ordering=, brief and pagination on the list endpoints."""

from __future__ import annotations

import pytest

from inventory import models as m
from tests.api.data import add_device


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item.get("name") or item.get("address") for item in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"name": "rtr-001"}, ["rtr-001"]),
        ({"name": ["rtr-000", "rtr-002"]}, ["rtr-000", "rtr-002"]),
        ({"name__n": "rtr-001"}, ["rtr-000", "rtr-002"]),
        ({"name__ic": "R-00"}, ["rtr-000", "rtr-001", "rtr-002"]),
        ({"name__nic": "002"}, ["rtr-000", "rtr-001"]),
        ({"name__isw": "RTR-00"}, ["rtr-000", "rtr-001", "rtr-002"]),
        ({"name__iew": "1"}, ["rtr-001"]),
        ({"name__niew": "1"}, ["rtr-000", "rtr-002"]),
        ({"name__ie": "RTR-002"}, ["rtr-002"]),
        ({"name__nie": "RTR-002"}, ["rtr-000", "rtr-001"]),
        ({"serial__empty": "false"}, ["rtr-000", "rtr-001", "rtr-002"]),
        ({"description__empty": "true"}, ["rtr-000", "rtr-001", "rtr-002"]),
        ({"site": "betzdorf"}, ["rtr-001"]),
        ({"site__n": "betzdorf"}, ["rtr-000", "rtr-002"]),
        ({"role": "core-router", "status": "active"}, ["rtr-000", "rtr-002"]),
        ({"status__n": "active"}, []),
        ({"tenant_group": "agencies"}, ["rtr-000", "rtr-001", "rtr-002"]),
        ({"country": "LU"}, ["rtr-001"]),
        ({"region": "grand-casablanca"}, ["rtr-000", "rtr-002"]),
        ({"strand": "digital-inclusion"}, ["rtr-001"]),
        ({"tag": "core"}, ["rtr-000", "rtr-002"]),
        ({"tag": ["core", "edge"]}, []),
        ({"tag__n": "core"}, ["rtr-001"]),
        ({"q": "SN00001"}, ["rtr-001"]),
        ({"monitored": "true", "has_primary_ip": "true"}, ["rtr-000", "rtr-001", "rtr-002"]),
        ({"ordering": "-name"}, ["rtr-002", "rtr-001", "rtr-000"]),
    ],
)
def test_device_filters(api, inv, query, expected):
    assert names(api.get("/api/dcim/devices/", query)) == expected


def test_fk_id_filters_and_null(api, inv):
    site = inv.sites[0]
    assert names(api.get("/api/dcim/devices/", {"site_id": site.pk})) == ["rtr-000", "rtr-002"]
    assert names(api.get("/api/dcim/devices/", {"site_id__n": site.pk})) == ["rtr-001"]
    assert names(api.get("/api/dcim/devices/", {"platform_id": "null"})) == []
    assert names(api.get("/api/dcim/devices/", {"location_id": "null"})) == ["rtr-000", "rtr-001", "rtr-002"]


def test_numeric_lookups(api, inv):
    ids = sorted(d.pk for d in inv.devices)
    assert len(names(api.get("/api/dcim/devices/", {"id__gt": ids[0]}))) == 2
    assert len(names(api.get("/api/dcim/devices/", {"id__gte": ids[0]}))) == 3
    assert len(names(api.get("/api/dcim/devices/", {"id__lt": ids[2]}))) == 2
    assert len(names(api.get("/api/dcim/devices/", {"id__lte": ids[2], "id__n": ids[1]}))) == 2
    assert names(api.get("/api/dcim/sites/", {"latitude__gt": 30})) == ["Casablanca DC1"]


def test_invalid_filter_values_are_400_with_the_field(api, inv):
    for query, field in [
        ({"status": "sleeping"}, "status"),
        ({"site_id": "abc"}, "site_id"),
        ({"id__gt": "x"}, "id__gt"),
        ({"monitored": "maybe"}, "monitored"),
    ]:
        response = api.get("/api/dcim/devices/", query)
        assert response.status_code == 400, query
        assert field in response.json()


def test_interface_and_ip_filters(api, inv):
    device = inv.devices[1]
    response = api.get("/api/dcim/interfaces/", {"device_id": device.pk})
    assert sorted(names(response)) == ["Gi0/0", "Gi0/1"]
    assert names(api.get("/api/dcim/interfaces/", {"device": "rtr-001", "name": "Gi0/1"})) == ["Gi0/1"]
    assert names(api.get("/api/ipam/ip-addresses/", {"device": "rtr-002"})) == ["127.0.2.3/24"]
    assert names(api.get("/api/ipam/ip-addresses/", {"address__isw": "127.0.2."})) == [
        "127.0.2.1/24",
        "127.0.2.2/24",
        "127.0.2.3/24",
    ]


def test_pagination_shape_and_limits(api, inv):
    for i in range(3, 8):
        add_device(inv, i, interfaces=0)
    page = api.get("/api/dcim/devices/", {"limit": 3}).json()
    assert page["count"] == 8 and len(page["results"]) == 3
    assert "offset=3" in page["next"] and page["previous"] is None
    second = api.get(page["next"]).json()
    assert [d["name"] for d in second["results"]] == ["rtr-003", "rtr-004", "rtr-005"]
    assert len(api.get("/api/dcim/devices/").json()["results"]) == 8
    assert len(api.get("/api/dcim/devices/", {"limit": 0}).json()["results"]) == 8


def test_default_and_max_page_size(api, inv):
    m.Tag.objects.bulk_create([m.Tag(name=f"t{i:04d}", slug=f"t{i:04d}") for i in range(1100)])
    assert len(api.get("/api/extras/tags/").json()["results"]) == 50
    assert len(api.get("/api/extras/tags/", {"limit": 5000}).json()["results"]) == 1000
    assert len(api.get("/api/extras/tags/", {"limit": 0}).json()["results"]) == 1000
