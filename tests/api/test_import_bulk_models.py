"""Models whose ``save()`` derives stored values (sort keys, countries) are imported in bulk, keys filled."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import importer
from inventory import models as m
from inventory.importer import inserts


def _inserts(queries: CaptureQueriesContext, table: str) -> int:
    """INSERT statements run through Django's cursor (the importer's prepared statement counts once on
    PostgreSQL; on SQLite it runs on the DB-API cursor and is not seen: 0)."""
    return sum(1 for q in queries.captured_queries if q["sql"].startswith(f'INSERT INTO "{table}"'))


def test_interfaces_are_bulk_written_with_their_natural_sort_key(inv):
    device = inv.devices[0]
    m.Interface.objects.filter(device=device).delete()
    names = [f"Gi0/{index}" for index in range(1, 61)]
    rows = [{"device": device.pk, "name": name, "type": "1000base-t"} for name in random.sample(names, 60)]
    changes = m.ObjectChange.objects.count()
    with CaptureQueriesContext(connection) as queries:
        importer.commit(rows, model="interfaces")
    assert _inserts(queries, "inventory_interface") <= 2  # not one INSERT (and save()) per row
    assert list(m.Interface.objects.filter(device=device).values_list("name", flat=True)) == names
    assert m.ObjectChange.objects.count() == changes + 60
    # an update by id renames: the stored key follows the name
    gi10 = m.Interface.objects.get(device=device, name="Gi0/10")
    importer.commit([{"id": gi10.pk, "name": "Gi0/61"}], model="interfaces")
    assert list(m.Interface.objects.filter(device=device).values_list("name", flat=True))[-2:] == [
        "Gi0/60",
        "Gi0/61",
    ]


def test_prefixes_and_addresses_are_bulk_written_with_their_value_keys(inv):
    prefixes = [{"prefix": f"10.77.{index}.0/24"} for index in (10, 2, 1)]
    addresses = [{"address": f"10.77.1.{index}/24"} for index in (100, 10, 9)]
    with CaptureQueriesContext(connection) as queries:
        importer.commit(prefixes, model="prefixes")
        importer.commit(addresses, model="ip-addresses")
    assert _inserts(queries, "inventory_prefix") <= 1 and _inserts(queries, "inventory_ipaddress") <= 1
    found = m.Prefix.objects.filter(prefix__startswith="10.77.").values_list("prefix", flat=True)
    assert list(found) == ["10.77.1.0/24", "10.77.2.0/24", "10.77.10.0/24"]
    found = m.IPAddress.objects.filter(address__startswith="10.77.").values_list("address", flat=True)
    assert list(found) == ["10.77.1.9/24", "10.77.1.10/24", "10.77.1.100/24"]
    # the stored keys serve the containment filters too
    assert m.IPAddress.objects.filter(host_key__gte=m.Prefix.objects.get(prefix="10.77.1.0/24").start_key)


def test_sites_in_bulk_take_their_regions_country_and_regions_are_upper_cased(inv):
    importer.commit([{"name": "Atlas", "slug": "atlas", "country": "ma"}], model="regions")
    rows = [{"name": f"Atlas {index}", "slug": f"atlas-{index}", "region": "atlas"} for index in range(5)]
    with CaptureQueriesContext(connection) as queries:
        importer.commit(rows, model="sites")
    assert _inserts(queries, "inventory_site") <= 1
    assert m.Region.objects.get(slug="atlas").country == "MA"
    assert set(m.Site.objects.filter(slug__startswith="atlas-").values_list("country", flat=True)) == {"MA"}


def test_rows_naming_a_parent_from_the_same_file_are_still_written_in_order(inv):
    rows = [
        {"name": "North", "slug": "north", "country": "MA"},
        {"name": "Tangier-Tetouan", "slug": "tangier-tetouan", "parent": "north"},
    ]
    importer.commit(rows, model="regions")
    assert m.Region.objects.get(slug="tangier-tetouan").parent.slug == "north"


def test_a_row_the_database_refuses_while_writing_fails_the_whole_import(inv):
    """A conflicting object appears after the first batch is written (the check did not see it): the
    insert's refusal is an import error (on SQLite too, where rows go through the DB-API cursor), and
    everything is rolled back."""
    site, role = inv.sites[0], inv.roles[0]
    count = inserts.BATCH + 1
    rows = [
        {"name": f"late-{index}", "site": site.pk, "role": role.pk, "device_type": inv.device_type.pk}
        for index in range(count)
    ]

    def take_the_last_name(stage: str, done: int, total: int) -> None:
        if stage == "writing" and done == inserts.BATCH:
            m.Device.objects.create(
                name=f"late-{count - 1}", site=site, role=role, device_type=inv.device_type
            )

    changes = m.ObjectChange.objects.count()
    with pytest.raises(importer.ImportFailed) as failed:
        importer.run(rows, model="devices", progress=take_the_last_name)
    assert "refused the import" in str(failed.value)
    assert not m.Device.objects.filter(name__startswith="late-").exists()
    assert m.ObjectChange.objects.count() == changes


def test_a_prefix_or_address_repeated_in_the_file_is_an_error_naming_the_earlier_row(inv):
    with pytest.raises(importer.ImportFailed) as failed:
        importer.commit([{"prefix": "10.78.0.0/24"}, {"prefix": "10.78.0.1/24"}], model="prefixes")
    assert [(e.row, e.field) for e in failed.value.errors] == [(2, "prefix")]
    assert "row 1" in failed.value.errors[0].message
    rows = [{"address": "10.78.0.1/24"}, {"address": "10.78.0.2/24"}, {"address": "10.78.0.1/32"}]
    with pytest.raises(importer.ImportFailed) as failed:
        importer.commit(rows, model="ip-addresses")
    assert [(e.row, e.field) for e in failed.value.errors] == [(3, "address")]
    assert not m.Prefix.objects.filter(prefix="10.78.0.0/24").exists()
    assert not m.IPAddress.objects.filter(address__startswith="10.78.").exists()
    # shared roles may repeat, and a VRF without a unique space allows repeats
    importer.commit([{"address": "10.78.0.9/24", "role": "vrrp"}] * 2, model="ip-addresses")
    importer.commit([{"name": "Lab", "enforce_unique": "false"}], model="vrfs")
    importer.commit([{"address": "10.78.0.5/24", "vrf": "Lab"}] * 2, model="ip-addresses")
    importer.commit([{"prefix": "10.79.0.0/24", "vrf": "Lab"}, {"prefix": "10.79.0.0/24"}], model="prefixes")
    assert m.IPAddress.objects.filter(address__startswith="10.78.").count() == 4
