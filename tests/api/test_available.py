"""available-ips / available-prefixes on prefixes: NetBox's listing and allocation semantics."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection

from inventory import models as m
from tests.api.data import create


@pytest.fixture
def prefix(db):
    net = create(m.Prefix, prefix="10.40.0.0/29")
    create(m.IPAddress, address="10.40.0.2/29")
    return net


def test_available_ips_skip_used_network_and_broadcast(api, prefix):
    response = api.get(f"/api/ipam/prefixes/{prefix.pk}/available-ips/")
    assert response.status_code == 200
    assert [row["address"] for row in response.json()] == [f"10.40.0.{i}/29" for i in (1, 3, 4, 5, 6)]
    assert response.json()[0]["family"] == 4 and response.json()[0]["vrf"] is None
    limited = api.get(f"/api/ipam/prefixes/{prefix.pk}/available-ips/", {"limit": 2}).json()
    assert [row["address"] for row in limited] == ["10.40.0.1/29", "10.40.0.3/29"]


def test_allocate_ips_one_and_many_then_409(api, prefix):
    url = f"/api/ipam/prefixes/{prefix.pk}/available-ips/"
    one = api.post(url, {"description": "gw", "status": "reserved"}, format="json")
    assert one.status_code == 201, one.content
    assert one.json()["address"] == "10.40.0.1/29" and one.json()["status"]["value"] == "reserved"
    many = api.post(url, [{"dns_name": "a.example"}, {"dns_name": "b.example"}], format="json")
    assert [row["address"] for row in many.json()] == ["10.40.0.3/29", "10.40.0.4/29"]
    too_many = api.post(url, [{}, {}, {}], format="json")
    assert too_many.status_code == 409
    assert "2 available" in too_many.json()["detail"]
    assert m.IPAddress.objects.count() == 4  # nothing of the refused request was written
    bad = api.post(url, {"status": "sleeping"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()


def test_pool_and_ipv6_hand_out_every_address(api, db):
    pool = create(m.Prefix, prefix="10.41.0.0/30", is_pool=True)
    rows = api.get(f"/api/ipam/prefixes/{pool.pk}/available-ips/").json()
    assert [row["address"] for row in rows] == [f"10.41.0.{i}/30" for i in range(4)]
    v6 = create(m.Prefix, prefix="2001:db8::/126")
    rows = api.get(f"/api/ipam/prefixes/{v6.pk}/available-ips/").json()
    assert [row["address"] for row in rows] == ["2001:db8::1/126", "2001:db8::2/126", "2001:db8::3/126"]


def test_available_prefixes_and_allocation(api, db):
    parent = create(m.Prefix, prefix="10.50.0.0/16")
    create(m.Prefix, prefix="10.50.0.0/24")
    create(m.Prefix, prefix="10.50.2.0/24")
    url = f"/api/ipam/prefixes/{parent.pk}/available-prefixes/"
    free = [row["prefix"] for row in api.get(url).json()]
    assert free == [
        "10.50.1.0/24",
        "10.50.3.0/24",
        "10.50.4.0/22",
        "10.50.8.0/21",
        "10.50.16.0/20",
        "10.50.32.0/19",
        "10.50.64.0/18",
        "10.50.128.0/17",
    ]
    created = api.post(url, {"prefix_length": 24, "description": "new"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["prefix"] == "10.50.1.0/24"
    pair = api.post(url, [{"prefix_length": 23}, {"prefix_length": 24}], format="json")
    assert [row["prefix"] for row in pair.json()] == ["10.50.4.0/23", "10.50.3.0/24"]
    assert api.post(url, {"prefix_length": 8}, format="json").status_code == 400
    assert api.post(url, {}, format="json").status_code == 400
    small = create(m.Prefix, prefix="10.60.0.0/30")
    create(m.Prefix, prefix="10.60.0.0/30", vrf=create(m.VRF, name="other"))  # other VRF: not a child
    assert (
        api.post(
            f"/api/ipam/prefixes/{small.pk}/available-prefixes/", {"prefix_length": 31}, format="json"
        ).status_code
        == 201
    )
    create(m.Prefix, prefix="10.60.0.2/31")
    full = api.post(
        f"/api/ipam/prefixes/{small.pk}/available-prefixes/", {"prefix_length": 31}, format="json"
    )
    assert full.status_code == 409


def test_allocation_needs_the_permission_on_addresses(client_for, make_token, prefix):
    viewer = client_for(make_token("view_prefix", "view_ipaddress"))
    url = f"/api/ipam/prefixes/{prefix.pk}/available-ips/"
    assert viewer.get(url).status_code == 200
    assert viewer.post(url, {}, format="json").status_code == 403
    adder = client_for(make_token("view_prefix", "add_prefix"))
    assert adder.post(url, {}, format="json").status_code == 403
    assert m.IPAddress.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_allocations_never_share_an_address(make_token, client_for):
    """Concurrent POSTs serialise on the prefix row: every address is handed out once.

    On PostgreSQL the requests really run in parallel (the row lock does the work); the in-memory
    SQLite test database cannot hold concurrent write transactions at all, so there they take turns.
    """
    gate = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()
    prefix = create(m.Prefix, prefix="10.70.0.0/24")
    key = make_token(superuser=True)
    url = f"/api/ipam/prefixes/{prefix.pk}/available-ips/"
    results: list[int] = []

    def allocate() -> None:
        try:
            client = client_for(key)
            for _ in range(3):
                with gate:
                    results.append(client.post(url, [{}, {}], format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results.count(201) == 12, results
    addresses = list(m.IPAddress.objects.values_list("address", flat=True))
    assert len(addresses) == 24 == len(set(addresses))
