"""Prometheus http_sd: netbox-plugin-prometheus-sd's shape, contract 4's ``__meta_infrastrand_*`` labels."""

from __future__ import annotations

from inventory import models as m

LABELS = {
    f"__meta_infrastrand_{name}"
    for name in (
        *("device", "device_id", "site", "region", "country", "tenant", "tenant_group", "role", "platform"),
        *("device_type", "status", "strands", "tags", "collector_group", "collector_address", "primary_ip"),
        *("location", "rack"),
    )
}


def test_shape_and_labels(api, inv):
    response = api.get("/api/prometheus/sd/devices/")
    assert response.status_code == 200
    groups = response.json()
    assert [group["targets"] for group in groups] == [["rtr-000"], ["rtr-001"], ["rtr-002"]]
    for group in groups:
        assert set(group) == {"targets", "labels"}
        assert set(group["labels"]) == LABELS
        assert all(isinstance(value, str) for value in group["labels"].values())
    first = groups[0]["labels"]
    assert first == {
        "__meta_infrastrand_device": "rtr-000",
        "__meta_infrastrand_device_id": str(inv.devices[0].pk),
        "__meta_infrastrand_site": "casablanca-dc1",
        "__meta_infrastrand_region": "grand-casablanca",
        "__meta_infrastrand_country": "MA",
        "__meta_infrastrand_tenant": "add",
        "__meta_infrastrand_tenant_group": "agencies",
        "__meta_infrastrand_role": "core-router",
        "__meta_infrastrand_platform": "ios-xe",
        "__meta_infrastrand_device_type": "c8300",
        "__meta_infrastrand_status": "active",
        "__meta_infrastrand_strands": ",e-government,infrastructure,",
        "__meta_infrastrand_tags": ",core,",
        "__meta_infrastrand_collector_group": "ma-casablanca",
        "__meta_infrastrand_collector_address": "127.0.0.1:9781",
        "__meta_infrastrand_primary_ip": "127.0.2.1",
        "__meta_infrastrand_location": "",
        "__meta_infrastrand_rack": "",
    }


def test_same_filters_as_the_device_list(api, inv):
    m.Device.objects.filter(pk=inv.devices[2].pk).update(monitored=False)
    for query in (
        {"monitored": "true"},
        {"country": "MA"},
        {"site": "betzdorf"},
        {"tag": "edge"},
        {"q": "rtr-00"},
        {"status__n": "active"},
        {"name__isw": "RTR-001"},
    ):
        listed = [d["name"] for d in api.get("/api/dcim/devices/", query).json()["results"]]
        discovered = [g["targets"][0] for g in api.get("/api/prometheus/sd/devices/", query).json()]
        assert discovered == listed, query
    assert api.get("/api/prometheus/sd/devices/", {"status": "bogus"}).status_code == 400


def test_needs_view_permission(inv, make_token, client_for):
    assert client_for(make_token("view_site")).get("/api/prometheus/sd/devices/").status_code == 403
    viewer = client_for(make_token("view_device", write=False))
    assert viewer.get("/api/prometheus/sd/devices/").status_code == 200
    assert viewer.post("/api/prometheus/sd/devices/", {}).status_code == 403


def test_http_sd_refuses_without_a_token_and_to_collector_tokens(inv, make_token, client_for):
    assert client_for(None).get("/api/prometheus/sd/devices/").status_code == 401
    collector = client_for(make_token("view_device", collector=True))
    assert collector.get("/api/prometheus/sd/devices/").status_code == 403
