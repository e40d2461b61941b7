"""Custom fields in imports: an update keeps the values its row does not give; definitions read once."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import importer
from inventory import models as m


def _owner_field() -> m.CustomField:
    field = m.CustomField.objects.create(name="owner", type="text", default="unassigned")
    field.object_types.set([ContentType.objects.get_for_model(m.Device)])
    return field


def test_an_update_row_without_custom_fields_keeps_the_objects_values(inv):
    _owner_field()
    device = inv.devices[0]
    device.custom_field_data = {"owner": "noc-casa"}
    device.save()
    importer.commit(
        importer.parse(f"id,status\n{device.pk},planned\n", format="csv", model="devices"), model="devices"
    )
    device.refresh_from_db()
    assert device.status == "planned"
    assert device.custom_field_data == {"owner": "noc-casa"}  # not reset to the default
    record = m.ObjectChange.objects.filter(changed_object_id=device.pk, action="update").latest("pk")
    assert record.postchange_data["custom_field_data"] == {"owner": "noc-casa"}


def test_new_rows_take_the_default_and_custom_field_definitions_are_read_once_per_import(inv):
    _owner_field()
    rows = [
        {"name": f"cf-{index}", "site": "casablanca-dc1", "role": "core-router", "device_type": "C8300"}
        for index in range(30)
    ]
    with CaptureQueriesContext(connection) as queries:
        result = importer.commit(rows, model="devices")
    definitions = [q for q in queries.captured_queries if 'FROM "inventory_customfield"' in q["sql"]]
    assert len(definitions) == 1, [q["sql"] for q in definitions]
    owners = {d.custom_field_data.get("owner") for d in m.Device.objects.filter(pk__in=result.created)}
    assert owners == {"unassigned"}
