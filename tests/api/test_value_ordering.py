"""``?ordering=address|prefix|name`` sort by value (stored keys), both directions, not as text."""

from __future__ import annotations

from inventory import models as m


def _order(api, path: str, ordering: str, key: str, **filters) -> list[str]:
    response = api.get(path, {"ordering": ordering, "limit": 1000, **filters})
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()["results"]]


def test_ip_addresses_order_by_address_value(api, inv):
    for address in ("10.99.0.10/24", "10.99.0.2/24", "10.99.0.100/24", "10.99.0.2/32", "10.99.0.9/24"):
        m.IPAddress.objects.create(address=address)
    expected = ["10.99.0.2/24", "10.99.0.2/32", "10.99.0.9/24", "10.99.0.10/24", "10.99.0.100/24"]
    found = _order(api, "/api/ipam/ip-addresses/", "address", "address", q="10.99.0.")
    assert found == expected
    found = _order(api, "/api/ipam/ip-addresses/", "-address", "address", q="10.99.0.")
    assert found == expected[::-1]


def test_prefixes_order_by_prefix_value(api, inv):
    for prefix in ("10.99.10.0/24", "10.99.2.0/24", "10.99.0.0/16", "10.99.2.0/25"):
        m.Prefix.objects.create(prefix=prefix)
    expected = ["10.99.0.0/16", "10.99.2.0/24", "10.99.2.0/25", "10.99.10.0/24"]
    found = _order(api, "/api/ipam/prefixes/", "prefix", "prefix", q="10.99.")
    assert found == expected
    assert _order(api, "/api/ipam/prefixes/", "-prefix", "prefix", q="10.99.") == expected[::-1]


def test_interfaces_order_by_natural_name(api, inv):
    device = inv.devices[0]
    m.Interface.objects.filter(device=device).delete()
    for name in ("Gi0/10", "Gi0/2", "Gi0/1", "Gi1/0"):
        m.Interface.objects.create(device=device, name=name, type="1000base-t")
    expected = ["Gi0/1", "Gi0/2", "Gi0/10", "Gi1/0"]
    path = "/api/dcim/interfaces/"
    assert _order(api, path, "name", "name", device_id=device.pk) == expected
    assert _order(api, path, "-name", "name", device_id=device.pk) == expected[::-1]
    # another ordering term after the value-ordered one still applies
    assert _order(api, path, "-name,id", "name", device_id=device.pk) == expected[::-1]
