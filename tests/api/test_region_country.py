"""NetBox site payloads carry no country: a site takes its region's (or an ancestor region's)."""

from __future__ import annotations

from inventory import models as m


def post(api, path: str, body: dict):
    return api.post(path, body, format="json")


def test_a_site_without_country_takes_its_regions(api, db):
    europe = post(api, "/api/dcim/regions/", {"name": "Benelux", "slug": "benelux"}).json()
    assert europe["country"] == ""
    lux = post(api, "/api/dcim/regions/", {"name": "Luxembourg", "slug": "lu", "country": "lu"}).json()
    assert lux["country"] == "LU"
    city = post(api, "/api/dcim/regions/", {"name": "Betzdorf", "slug": "betzdorf", "parent": lux["id"]})
    assert city.status_code == 201 and city.json()["country"] == ""

    direct = post(api, "/api/dcim/sites/", {"name": "DC1", "slug": "dc1", "region": lux["id"]})
    assert direct.status_code == 201, direct.content
    assert direct.json()["country"] == "LU"
    inherited = post(api, "/api/dcim/sites/", {"name": "DC2", "slug": "dc2", "region": city.json()["id"]})
    assert inherited.status_code == 201 and inherited.json()["country"] == "LU"
    own = post(api, "/api/dcim/sites/", {"name": "DC3", "slug": "dc3", "region": lux["id"], "country": "MA"})
    assert own.status_code == 201 and own.json()["country"] == "MA"

    for body in (
        {"name": "DC4", "slug": "dc4"},
        {"name": "DC4", "slug": "dc4", "region": europe["id"]},
        {"name": "DC4", "slug": "dc4", "country": ""},
    ):
        refused = post(api, "/api/dcim/sites/", body)
        assert refused.status_code == 400
        assert "region that has one" in str(refused.json()["country"])
    assert not m.Site.objects.filter(slug="dc4").exists()
    bad = post(api, "/api/dcim/regions/", {"name": "Nowhere", "slug": "nowhere", "country": "XX"})
    assert bad.status_code == 400 and "country" in bad.json()


def test_netbox_site_payload_in_bulk(api, db):
    region = m.Region.objects.create(name="Morocco", slug="ma", country="MA")
    rows = [
        {"name": f"S{i}", "slug": f"s{i}", "region": {"slug": "ma"}, "status": "active"} for i in range(3)
    ]
    response = api.post("/api/dcim/sites/", rows, format="json")
    assert response.status_code == 201, response.content
    assert {site["country"] for site in response.json()} == {"MA"}
    assert m.Site.objects.filter(region=region, country="MA").count() == 3
