"""Every model with a writable API endpoint imports (create, and update by ``id``); unknown columns fail."""

from __future__ import annotations

import json

import pytest

from inventory import importer
from inventory import models as m

# One new record per model, in an order where each names only what exists (or an earlier row's object).
EXAMPLES: dict[str, list[dict]] = {
    "regions": [
        {"name": "Maghreb", "slug": "maghreb"},
        {"name": "Rabat-Salé", "slug": "rabat-sale", "parent": "maghreb"},  # parent from the same file
    ],
    "tenant-groups": [{"name": "Ministries", "slug": "ministries"}],
    "tenants": [{"name": "Ministry X", "slug": "ministry-x", "group": "ministries", "tags": "core"}],
    "sites": [{"name": "Rabat DC", "slug": "rabat-dc", "country": "MA", "region": "rabat-sale"}],
    "locations": [{"name": "Hall A", "slug": "hall-a", "site": "rabat-dc"}],
    "racks": [{"name": "R1", "site": "rabat-dc", "location": "hall-a", "u_height": 42}],
    "manufacturers": [{"name": "Juniper", "slug": "juniper"}],
    "device-types": [{"manufacturer": "juniper", "model": "MX204", "slug": "mx204"}],
    "device-roles": [{"name": "Edge router", "slug": "edge-router", "color": "ff0000"}],
    "platforms": [{"name": "Junos", "slug": "junos", "manufacturer": "Juniper"}],
    "interface-templates": [{"device_type": "MX204", "name": "xe-0/0/0", "type": "10gbase-x-sfpp"}],
    "platform-mappings": [{"platform": "junos", "sys_object_id_prefix": "1.3.6.1.4.1.2636"}],
    "sysobjectid-mappings": [
        {"prefix": "1.3.6.1.4.1.2636.1.1.1.2.29", "manufacturer": "Juniper", "device_type": "MX204"}
    ],
    "snmp-profiles": [{"name": "v2c-rabat", "version": "2c", "community": "s3cret-community"}],
    "collector-groups": [{"name": "MA Rabat", "slug": "ma-rabat", "exporter_address": "127.0.0.1:9782"}],
    "devices": [
        {
            "name": "rabat-edge-01",
            "site": "rabat-dc",
            "rack": "R1",
            "location": "hall-a",
            "role": "edge-router",
            "device_type": "MX204",
            "platform": "junos",
            "tenant": "ministry-x",
            "snmp_profile": "v2c-rabat",
            "collector_group": "ma-rabat",
            "monitored": "true",
            "tags": "core,edge",
        },
    ],
    "interfaces": [
        {"device": "rabat-edge-01", "name": "xe-0/0/0", "type": "10gbase-x-sfpp"},
        {"device": "rabat-edge-01", "name": "xe-0/0/1", "type": "10gbase-x-sfpp"},
    ],
    "cables": [{"a_terminations": [], "b_terminations": [], "status": "connected", "label": "RBT-001"}],
    "prefixes": [{"prefix": "10.30.0.0/24", "site": "rabat-dc"}],
    "ip-addresses": [
        {"address": "10.30.0.1/24", "device": "rabat-edge-01", "interface": "xe-0/0/0", "is_primary": "yes"}
    ],
    "contact-roles": [{"name": "NOC", "slug": "noc"}],
    "contacts": [{"name": "Rabat NOC", "email": "noc@example.ma"}],
    "contact-assignments": [
        {"object_type": "dcim.site", "object_id": 0, "contact": "Rabat NOC", "role": "noc"}
    ],
    "tags": [{"name": "Backbone", "slug": "backbone"}],
    "vrfs": [{"name": "Government", "rd": "65000:10", "tenant": "ministry-x"}],
    "custom-fields": [{"name": "owner", "type": "text"}],
    "slos": [{"name": "MA availability", "target_percent": "99.5", "scope": "country", "scope_value": "MA"}],
    "maintenance-windows": [
        {
            "start": "2026-12-01T00:00:00Z",
            "end": "2026-12-01T02:00:00Z",
            "reason": "line card swap",
            "scope": "site",
            "scope_value": "rabat-dc",
        }
    ],
    "journal-entries": [
        {"assigned_object_type": "dcim.site", "assigned_object_id": 0, "kind": "info", "comments": "Opened"}
    ],
}


def test_every_model_with_an_api_endpoint_imports_and_updates_by_id(inv):
    assert set(EXAMPLES) == set(importer.model_names())
    for model, rows in EXAMPLES.items():
        if model == "contact-assignments":
            rows = [{**rows[0], "object_id": m.Site.objects.get(slug="rabat-dc").pk}]
        if model == "cables":  # the two ports just imported, as NetBox 4 terminations
            a, b = m.Interface.objects.filter(device__name="rabat-edge-01").order_by("name")
            rows = [
                {
                    **rows[0],
                    "a_terminations": [{"object_type": "dcim.interface", "object_id": a.pk}],
                    "b_terminations": [{"object_type": "dcim.interface", "object_id": b.pk}],
                }
            ]
        if model == "journal-entries":
            rows = [{**rows[0], "assigned_object_id": m.Site.objects.get(slug="rabat-dc").pk}]
        result = importer.commit(importer.parse(json.dumps(rows), format="json", model=model), model=model)
        assert len(result.created) == len(rows), model
    device = m.Device.objects.get(name="rabat-edge-01")
    assert (device.rack.name, device.location.slug, device.primary_ip4.address) == (
        "R1",
        "hall-a",
        "10.30.0.1/24",
    )
    assert m.Region.objects.get(slug="rabat-sale").parent.slug == "maghreb"
    assert m.SnmpProfile.objects.get(name="v2c-rabat").community == "s3cret-community"
    assert not m.ObjectChange.objects.filter(postchange_data__icontains="s3cret").exists()

    # every model again: an update of the object just imported, by its id, with a changed description
    for model in EXAMPLES:
        target = importer.target(model)
        obj = target.model.objects.order_by("-pk").first()
        column = next(c for c in ("description", "comments", "priority", "reason") if c in target.columns)
        value = "primary" if column == "priority" else "imported again"
        result = importer.commit([{"id": obj.pk, column: value}], model=model)
        assert result.updated == [obj.pk] and result.created == [], model
        obj.refresh_from_db()
        assert getattr(obj, column) == value, model
        change = m.ObjectChange.objects.filter(changed_object_id=obj.pk, action="update").latest("pk")
        assert change.postchange_data[column] == value and change.prechange_data[column] != value, model


def test_update_by_id_changes_only_the_given_fields_and_logs_one_change_each(inv):
    a, b = inv.devices[0], inv.devices[1]
    before_serial, before_site = a.serial, a.site_id
    csv = f"id,status,tags\n{a.pk},planned,edge\n{b.pk},offline,\n"
    changes = m.ObjectChange.objects.count()
    result = importer.commit(importer.parse(csv, format="csv", model="devices"), model="devices")
    assert sorted(result.updated) == sorted([a.pk, b.pk])
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.serial, a.site_id, b.status) == ("planned", before_serial, before_site, "offline")
    assert [t.slug for t in a.tags.all()] == ["edge"]
    assert m.ObjectChange.objects.count() == changes + 2
    record = m.ObjectChange.objects.filter(changed_object_id=a.pk, action="update").latest("pk")
    assert record.prechange_data["status"] != "planned" and record.postchange_data["status"] == "planned"
    assert record.postchange_data["tags"] == ["Edge"]


def test_update_of_a_missing_id_and_unknown_columns_are_errors_and_nothing_is_written(inv):
    device = inv.devices[0]
    rows = [
        {"id": device.pk, "status": "planned"},
        {"id": 999999, "status": "planned"},
        {"name": "x", "site": "casablanca-dc1", "colour": "red", "stauts": "active"},
    ]
    with pytest.raises(importer.ImportFailed) as failed:
        importer.commit(rows, model="devices")
    errors = [(e.row, e.field) for e in failed.value.errors]
    assert errors == [(3, "colour"), (3, "stauts")]  # columns first: nothing else is checked
    assert "Unknown column 'colour'" in failed.value.errors[0].message
    with pytest.raises(importer.ImportFailed) as failed:
        importer.commit(rows[:2], model="devices")
    assert [(e.row, e.field) for e in failed.value.errors] == [(2, "id")]
    device.refresh_from_db()
    assert device.status != "planned"


def test_every_error_of_every_record_at_once(inv):
    rows = [
        {"name": "", "site": "nowhere", "role": "nobody", "device_type": "C8300", "status": "sleeping",
         "position": "x", "tags": "core,missing-tag"},
        {"name": "ok-1", "site": "casablanca-dc1", "role": "core-router", "device_type": "C8300"},
        {"name": "OK-1", "site": "casablanca-dc1", "role": "core-router", "device_type": "C8300"},
        {"name": "RTR-000", "site": "casablanca-dc1", "tenant": "add", "role": "core-router",
         "device_type": "C8300"},
    ]  # fmt: skip
    errors = importer.validate(rows, model="devices")
    fields = [(e.row, e.field) for e in errors]
    for expected in [(1, "site"), (1, "role"), (1, "status"), (1, "position"), (1, "tags"), (1, "name")]:
        assert expected in fields
    assert (3, "name") in fields and "as row 2" in next(e.message for e in errors if e.row == 3)
    assert (4, "name") in fields  # already in the database (case-insensitive, same site and tenant)
    assert not m.Device.objects.filter(name__iexact="ok-1").exists()


def test_a_csv_cell_over_the_csv_limit_is_a_clear_error(inv):
    text = "name,slug,country\nok,ok,MA\n" + "x" * 140_000 + ",big,MA\n"
    with pytest.raises(importer.ImportFailed) as failed:
        importer.parse(text, format="csv", model="sites")
    (error,) = failed.value.errors
    assert (error.row, error.field) == (2, "file") and "field larger than field limit" in error.message


def test_an_update_writes_only_the_fields_its_row_gives(inv):
    """Rows giving different fields: neither writes the other's field with the value read while checking."""
    a, b = inv.devices[0], inv.devices[1]
    rows = importer.parse(
        f"id,status,serial\n{a.pk},planned,\n{b.pk},,NEW-SERIAL\n", format="csv", model="devices"
    )

    def change_meanwhile(stage: str, done: int, total: int) -> None:
        if stage == "checking" and done == total:  # every row checked, nothing written yet
            m.Device.objects.filter(pk__in=[a.pk, b.pk]).update(serial="CHANGED-MEANWHILE", status="offline")

    importer.run(rows, model="devices", progress=change_meanwhile)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.serial) == ("planned", "CHANGED-MEANWHILE")
    assert (b.status, b.serial) == ("offline", "NEW-SERIAL")
