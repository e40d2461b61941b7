"""Change events (issue 14.2, source ``change``): devices created / status changed / deleted, sites,
interfaces enabled or disabled, cables — one event per change record, in its transaction, with no secret;
every other change writes none; an import writes one event for the whole job."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction

from inventory import importer
from inventory import models as m
from inventory.services import create_object, delete_object, update_object
from inventory.services.cables import cable_create
from tests.inventory.factories import make_device, make_device_type, make_interface, make_role, make_site

pytestmark = pytest.mark.django_db


def changes() -> list[tuple[str, str, str]]:
    return [
        (e.kind, e.severity, e.text)
        for e in m.Event.objects.filter(source="change").order_by("pk")
    ]  # fmt: skip


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create(username="planner")


def test_device_lifecycle(user):
    site, device_type, role = make_site(slug="rabat"), make_device_type(), make_role()
    m.Event.objects.all().delete()
    device = create_object(
        model=m.Device,
        data={"name": "rbt-sw01", "site": site, "device_type": device_type, "role": role},
        user=user,
    )
    update_object(instance=device, data={"description": "a comment"}, user=user)  # no event
    update_object(instance=device, data={"status": "offline"}, user=user)
    update_object(instance=device, data={"status": "active"}, user=user)
    delete_object(instance=device, user=user)
    assert changes() == [
        ("device created", "info", "device rbt-sw01 created (active)"),
        ("device status", "warning", "device rbt-sw01 status active → offline"),
        ("device status", "info", "device rbt-sw01 status offline → active"),
        ("device deleted", "warning", "device rbt-sw01 deleted"),
    ]
    events = list(m.Event.objects.filter(source="change").order_by("pk"))
    records = list(m.ObjectChange.objects.filter(changed_object_type__model="device").order_by("pk"))
    records = [r for r in records if r.action != "update" or "status" in json.dumps(r.postchange_data)]
    assert events[0].details["object_change_id"] == records[0].pk
    assert {e.details["user"] for e in events} == {"planner"}
    assert all(e.site_id == site.pk for e in events)
    assert [e.device_id for e in events] == [None, None, None, None]  # the device is gone: SET NULL
    assert events[1].details["status"] == ["active", "offline"]


def test_no_event_when_the_write_rolls_back(user):
    site, device_type, role = make_site(), make_device_type(), make_role()
    m.Event.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        create_object(
            model=m.Device, data={"name": "gone", "site": site, "device_type": device_type, "role": role}
        )
        raise RuntimeError
    assert changes() == []


def test_sites_interfaces_and_cables(user):
    site = create_object(model=m.Site, data={"name": "Betzdorf", "slug": "betz", "country": "LU"}, user=user)
    a, b = make_device(name="btz-sw01", site=site), make_device(name="btz-sw02", site=site)
    ga, gb = make_interface(a, name="Gi0/1"), make_interface(b, name="Gi0/2")
    update_object(instance=site, data={"status": "retired"}, user=user)
    update_object(instance=ga, data={"enabled": False}, user=user)
    update_object(instance=ga, data={"description": "uplink"}, user=user)  # no event
    update_object(instance=ga, data={"enabled": True}, user=user)
    cable = cable_create(data={"a_interface": ga, "b_interface": gb}, user=user)
    number = cable.pk
    delete_object(instance=cable, user=user)
    found = [c for c in changes() if not c[0].startswith("device")]
    assert found == [
        ("site created", "info", "site Betzdorf created (active)"),
        ("site status", "warning", "site Betzdorf status active → retired"),
        ("interface disabled", "info", "btz-sw01 Gi0/1 disabled"),
        ("interface enabled", "info", "btz-sw01 Gi0/1 enabled"),
        ("cable created", "info", f"cable #{number} created (connected): btz-sw01 Gi0/1 ↔ btz-sw02 Gi0/2"),
        ("cable deleted", "warning", f"cable #{number} deleted: btz-sw01 Gi0/1 ↔ btz-sw02 Gi0/2"),
    ]
    interface_event = m.Event.objects.get(source="change", kind="interface disabled")
    assert (interface_event.device_id, interface_event.site_id) == (a.pk, site.pk)


def test_deleting_a_cabled_device_takes_its_cable_event_off_the_device(user):
    """The cable goes with the device (a cascade): its event must not link the deleted device."""
    site = make_site()
    a, b = make_device(name="a-sw", site=site), make_device(name="b-sw", site=site)
    cable_create(
        data={"a_interface": make_interface(a, name="p1"), "b_interface": make_interface(b, name="p1")}
    )
    with transaction.atomic():
        delete_object(instance=a, user=user)
    connection.check_constraints()  # what a commit checks (foreign keys are deferred)
    event = m.Event.objects.get(source="change", kind="cable deleted")
    assert (event.device_id, event.site_id) == (None, site.pk)
    assert m.Event.objects.filter(source="change", kind="device deleted", site=site).count() == 1


def test_secrets_never_in_change_events(user):
    profile = create_object(model=m.SnmpProfile, data={"name": "p1", "community": "comm-one"}, user=user)
    update_object(instance=profile, data={"community": "comm-two"}, user=user)
    device = make_device(name="rbt-sw09", snmp_profile=profile)
    update_object(instance=device, data={"status": "failed"}, user=user)
    dumped = json.dumps([(e.text, e.details) for e in m.Event.objects.all()])
    assert "comm-one" not in dumped and "comm-two" not in dumped
    assert not m.Event.objects.filter(source="change", details__object_type="snmpprofile").exists()


def test_an_import_writes_one_summary_event(user):
    make_site(slug="rabat"), make_device_type(slug="c8300"), make_role(slug="access")
    m.Event.objects.all().delete()
    rows = [
        {"name": f"imp-{n}", "site": "rabat", "device_type": "c8300", "role": "access", "status": "active"}
        for n in range(5)
    ]
    result = importer.commit(rows, model="devices", user=user)
    assert len(result.created) == 5
    assert changes() == [("import", "info", "import of devices: 5 created, 0 updated")]
    assert importer.validate(rows, model="devices", user=user)  # names taken now: errors, no event
    assert len(changes()) == 1
