"""Drift events (issue 14.2, source ``drift``): one event per item opened, reopened, resolved, adopted or
acknowledged, in the engine's or the action's transaction; a re-detection writes none; a batch writes its
events in a fixed number of statements, however many devices and items it holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import models as m
from inventory.choices import DriftKindChoices as K
from inventory.services.drift import detect_drift
from inventory.services.drift_adopt import drift_acknowledge, drift_adopt
from tests.inventory.factories import make_device, make_device_type, make_interface
from tests.inventory.test_drift import MATCHING_FACTS, T0, matching_interfaces, observed, poll

pytestmark = pytest.mark.django_db


@pytest.fixture
def router() -> m.Device:
    """The router of test_drift: documented Gi0/0 (1 Gbit/s, MAC, "uplink") and Gi0/1 (disabled)."""
    device_type = make_device_type(model="C8300-1N1S", part_number="C8300-1N1S-4T2X")
    device = make_device(name="casa-rtr01", serial="FOC111", device_type=device_type)
    make_interface(
        device, name="Gi0/0", speed=1_000_000, mac_address="00:11:22:33:44:55", description="uplink"
    )
    make_interface(device, name="Gi0/1", enabled=False)
    return device


def drift_events(device: m.Device) -> list[m.Event]:
    return list(m.Event.objects.filter(device=device, source="drift").order_by("pk"))


def test_open_writes_one_event_per_item_and_re_detection_none(router):
    interfaces = matching_interfaces()
    interfaces[0]["ifAlias"] = "to core"
    poll(router, at=T0, facts={**MATCHING_FACTS, "serial": "FOC999"}, interfaces=interfaces)
    items = {item.kind: item for item in m.DriftItem.objects.filter(device=router)}
    events = drift_events(router)
    assert {(e.kind, e.severity, e.details["drift_item_id"], e.details["transition"]) for e in events} == {
        (K.KIND_SERIAL, "warning", items[K.KIND_SERIAL].pk, "opened"),
        (K.KIND_INTERFACE_DESCRIPTION, "info", items[K.KIND_INTERFACE_DESCRIPTION].pk, "opened"),
    }
    serial = next(e for e in events if e.kind == K.KIND_SERIAL)
    assert serial.text == "casa-rtr01: serial number drift opened (documented 'FOC111', observed 'FOC999')"
    assert serial.site_id == router.site_id
    description = next(e for e in events if e.kind == K.KIND_INTERFACE_DESCRIPTION)
    assert description.text.startswith("casa-rtr01 Gi0/0: interface description (ifalias) drift opened")

    # Seen again, several times: no event storm.
    for minutes in (5, 10, 15):
        poll(router, at=T0 + timedelta(minutes=minutes), facts={**MATCHING_FACTS, "serial": "FOC999"},
             interfaces=interfaces)  # fmt: skip
    assert len(drift_events(router)) == 2

    # Observed again as documented: one info event per resolved item.
    poll(router, at=T0 + timedelta(minutes=20), facts=MATCHING_FACTS, interfaces=matching_interfaces())
    resolved = [e for e in drift_events(router) if e.details["transition"] == "resolved"]
    assert {(e.kind, e.severity, e.details["drift_item_id"]) for e in resolved} == {
        (K.KIND_SERIAL, "info", items[K.KIND_SERIAL].pk),
        (K.KIND_INTERFACE_DESCRIPTION, "info", items[K.KIND_INTERFACE_DESCRIPTION].pk),
    }


def test_acknowledge_and_reopen_write_events(router, django_user_model):
    user = django_user_model.objects.create(username="engineer")
    poll(router, at=T0, facts={**MATCHING_FACTS, "serial": "NEW"}, interfaces=matching_interfaces())
    item = m.DriftItem.objects.get(device=router)
    drift_acknowledge(items=[item], reason="RMA pending", until=T0 + timedelta(days=1), user=user, now=T0)
    acknowledged = drift_events(router)[-1]
    assert acknowledged.details == {
        "drift_item_id": item.pk,
        "transition": "acknowledged",
        "subject": "",
        "documented": "FOC111",
        "observed": "NEW",
    }
    assert acknowledged.text.endswith("drift acknowledged: RMA pending (by engineer), until " +
                                      f"{T0 + timedelta(days=1):%Y-%m-%d %H:%M}")  # fmt: skip
    detect_drift(devices=[router.pk], now=T0 + timedelta(hours=12))  # still acknowledged: nothing
    assert len(drift_events(router)) == 2
    detect_drift(devices=[router.pk], now=T0 + timedelta(days=1, hours=1))  # expired and seen: reopened
    reopened = drift_events(router)[-1]
    assert (reopened.details["transition"], reopened.severity, reopened.details["drift_item_id"]) == (
        "reopened",
        "warning",
        item.pk,
    )
    assert len(drift_events(router)) == 3


def test_adopt_writes_a_drift_event_per_item_and_change_events(router, django_user_model):
    user = django_user_model.objects.create(username="engineer")
    interfaces = matching_interfaces()
    interfaces[1]["ifAdminStatus"] = "up"  # Gi0/1 documented disabled, observed enabled
    poll(router, facts={**MATCHING_FACTS, "serial": "FOC222"}, interfaces=interfaces)
    items = list(m.DriftItem.objects.active().filter(device=router))
    assert {i.kind for i in items} == {K.KIND_SERIAL, K.KIND_INTERFACE_ENABLED}
    drift_adopt(items=items, user=user)
    adopted = [e for e in drift_events(router) if e.details["transition"] == "adopted"]
    assert sorted(e.details["drift_item_id"] for e in adopted) == sorted(i.pk for i in items)
    assert all(e.text.endswith("drift adopted: by engineer") for e in adopted)
    # The interface enabled by the adoption is an inventory change: a change event too.
    changes = m.Event.objects.filter(device=router, source="change", kind="interface enabled")
    assert [e.text for e in changes] == ["casa-rtr01 Gi0/1 enabled"]


def test_a_batch_writes_its_events_in_a_fixed_number_of_statements():
    """Opening items for 3 or for 30 devices costs the same statements: one INSERT of the events, one
    SELECT of the new items' ids (the item INSERT itself is split by SQLite's variable limit)."""

    def fleet(count: int, prefix: str) -> list[m.Device]:
        devices = []
        for n in range(count):
            device = make_device(name=f"{prefix}{n:03d}", serial=f"S{n}")
            make_interface(device, name="Gi0/0")
            poll_quietly(device)
            devices.append(device)
        return devices

    def poll_quietly(device: m.Device) -> None:
        from inventory.services.monitoring import observation_record

        observation_record(
            device=device, collector="c1", polled_at=T0, up=True, detect_drift=False,
            facts={"serial": "OTHER", "sysName": device.name},
            interfaces=[observed("Gi0/0", 1, ifAlias="x"), observed("Gi0/9", 2)],
        )  # fmt: skip

    small, large = fleet(3, "a"), fleet(30, "b")
    counts = []
    for devices in (small, large):
        with CaptureQueriesContext(connection) as queries:
            result = detect_drift(devices=devices, now=T0)
        assert result.created == 3 * len(devices)  # serial, description, undocumented Gi0/9
        sqls = [q["sql"] for q in queries.captured_queries]
        event_inserts = [sql for sql in sqls if sql.startswith('INSERT INTO "inventory_event"')]
        counts.append((len(event_inserts), len([sql for sql in sqls if not sql.startswith("INSERT")])))
    assert counts[0] == counts[1] and counts[0][0] == 1
    assert m.Event.objects.filter(source="drift").count() == 3 * 33
    detect_drift(devices=large, now=T0 + timedelta(minutes=5))
    assert m.Event.objects.filter(source="drift").count() == 3 * 33  # re-detection: none
