"""The drift engine: every kind detected from an observation, re-detected without duplicates, resolved
when reality or the record changes; acknowledgements and their expiry; adopt and its change records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory import models as m
from inventory.choices import DriftKindChoices as K
from inventory.choices import DriftStateChoices as S
from inventory.services import update_object
from inventory.services.drift import detect_drift
from inventory.services.drift_adopt import drift_acknowledge, drift_adopt
from inventory.services.monitoring import observation_record
from tests.inventory.factories import (
    make_collector_group,
    make_device,
    make_device_type,
    make_interface,
    make_ip,
    make_profile,
)

T0 = timezone.now().replace(microsecond=0)

pytestmark = pytest.mark.django_db


def observed(name: str, index: int, **fields) -> dict:
    entry = {"ifIndex": index, "ifName": name, "ifDescr": name, "ifAdminStatus": "up", "ifOperStatus": "up"}
    entry.update(fields)
    return entry


def poll(device: m.Device, *, at=None, up=True, facts=None, interfaces=None) -> None:
    observation_record(
        device=device,
        collector="c1",
        polled_at=at or timezone.now(),
        up=up,
        error="" if up else "timeout",
        facts=facts,
        interfaces=interfaces,
    )


def active(device: m.Device) -> dict[tuple[str, str], m.DriftItem]:
    return {(item.kind, item.subject): item for item in m.DriftItem.objects.active().filter(device=device)}


@pytest.fixture
def router() -> m.Device:
    device_type = make_device_type(model="C8300-1N1S", part_number="C8300-1N1S-4T2X")
    device = make_device(name="casa-rtr01", serial="FOC111", device_type=device_type)
    make_interface(
        device, name="Gi0/0", speed=1_000_000, mac_address="00:11:22:33:44:55", description="uplink"
    )
    make_interface(device, name="Gi0/1", enabled=False)
    return device


MATCHING_FACTS = {"sysName": "CASA-RTR01.gov.ma", "serial": "foc111", "model": "c8300-1n1s-4t2x"}


def matching_interfaces() -> list[dict]:
    return [
        observed("Gi0/0", 1, speed_bps=1_000_000_000, mac="00-11-22-33-44-55", ifAlias="uplink"),
        observed("Gi0/1", 2, ifAdminStatus="down", ifOperStatus="down", ifAlias=""),
    ]


def test_record_and_reality_agree_no_drift(router):
    poll(router, facts=MATCHING_FACTS, interfaces=matching_interfaces())
    assert active(router) == {}


def test_every_device_kind_detected_and_resolved_when_reality_changes(router):
    platform = m.Platform.objects.create(name="IOS-XE", slug="ios-xe")
    m.PlatformMapping.objects.create(platform=platform, sys_object_id_prefix="1.3.6.1.4.1.9.1")
    facts = {
        "sysName": "casa-rtr02.gov.ma",
        "serial": "FOC999",
        "model": "C8500",
        "sysObjectID": "1.3.6.1.4.1.9.1.2720",
        "sysDescr": "Cisco IOS XE Software",
    }
    poll(router, at=T0, facts=facts, interfaces=matching_interfaces())
    items = active(router)
    assert {key: (i.documented, i.observed) for key, i in items.items()} == {
        (K.KIND_SERIAL, ""): ("FOC111", "FOC999"),
        (K.KIND_MODEL, ""): ("C8300-1N1S-4T2X", "C8500"),
        (K.KIND_NAME, ""): ("casa-rtr01", "casa-rtr02"),
        (K.KIND_PLATFORM, ""): ("", "ios-xe"),
    }
    assert all(i.state == S.STATE_OPEN and i.first_seen == i.last_seen for i in items.values())

    # Seen again: last_seen moves, no second item.
    later = T0 + timedelta(minutes=5)
    poll(router, at=later, facts=facts, interfaces=matching_interfaces())
    again = active(router)
    assert {k: i.pk for k, i in again.items()} == {k: i.pk for k, i in items.items()}
    assert m.DriftItem.objects.count() == 4

    # Reality changes back: everything resolves.
    unmapped = {**MATCHING_FACTS, "sysObjectID": "1.3.6.1.4.1.2636.1.1", "sysDescr": "Juniper"}
    poll(router, at=later + timedelta(minutes=1), facts=unmapped, interfaces=matching_interfaces())
    remaining = active(router)
    assert set(remaining) == set()
    resolved = m.DriftItem.objects.filter(state=S.STATE_RESOLVED)
    assert resolved.count() == 4 and all(item.resolved_at is not None for item in resolved)


def test_platform_resolves_when_the_record_changes(router):
    platform = m.Platform.objects.create(name="IOS-XE", slug="ios-xe")
    m.PlatformMapping.objects.create(platform=platform, sys_descr_regex=r"IOS[ -]XE")
    poll(router, facts={**MATCHING_FACTS, "sysDescr": "Cisco IOS-XE 17.9"}, interfaces=matching_interfaces())
    assert set(active(router)) == {(K.KIND_PLATFORM, "")}
    update_object(instance=router, data={"platform": platform})
    detect_drift(devices=[router.pk])
    assert active(router) == {}


def test_platform_mapping_longest_prefix_wins():
    from inventory.services.drift import platform_of, platform_rules

    generic = m.Platform.objects.create(name="Cisco", slug="cisco")
    nxos = m.Platform.objects.create(name="NX-OS", slug="nx-os")
    m.PlatformMapping.objects.create(platform=generic, sys_object_id_prefix="1.3.6.1.4.1.9")
    m.PlatformMapping.objects.create(platform=nxos, sys_object_id_prefix="1.3.6.1.4.1.9.12.3")
    rules = platform_rules()
    assert platform_of(rules, ".1.3.6.1.4.1.9.12.3.1.3.1", "") == "nx-os"
    assert platform_of(rules, "1.3.6.1.4.1.9.1.1", "") == "cisco"
    assert platform_of(rules, "1.3.6.1.4.1.99", "") == ""
    assert platform_of(rules, "1.3.6.1.4.1.90", "") == ""  # a prefix matches whole arcs only


def test_every_interface_kind_detected_and_resolved(router):
    make_interface(router, name="Gi0/2")  # documented, never observed
    make_interface(router, name="mgmt0")  # observed under its ifDescr, with another ifName
    interfaces = [
        observed("Gi0/0", 1, speed_bps=10_000_000_000, mac="00:11:22:33:44:66", ifAlias="to core"),
        observed("Gi0/1", 2, ifAdminStatus="up"),
        observed("Management0", 4, ifDescr="mgmt0"),
        observed("Gi0/3", 5, speed_bps=1_000_000_000),
    ]
    poll(router, facts=MATCHING_FACTS, interfaces=interfaces)
    assert {key: (i.documented, i.observed) for key, i in active(router).items()} == {
        (K.KIND_INTERFACE_SPEED, "Gi0/0"): ("1000000", "10000000"),
        (K.KIND_INTERFACE_MAC, "Gi0/0"): ("00:11:22:33:44:55", "00:11:22:33:44:66"),
        (K.KIND_INTERFACE_DESCRIPTION, "Gi0/0"): ("uplink", "to core"),
        (K.KIND_INTERFACE_ENABLED, "Gi0/1"): ("disabled", "up"),
        (K.KIND_INTERFACE_UNOBSERVED, "Gi0/2"): ("Gi0/2", ""),
        (K.KIND_INTERFACE_NAME, "mgmt0"): ("mgmt0", "Management0"),
        (K.KIND_INTERFACE_UNDOCUMENTED, "Gi0/3"): ("", "Gi0/3"),
    }
    # The record changes to agree: everything resolves on the next run.
    gi0 = m.Interface.objects.get(device=router, name="Gi0/0")
    update_object(
        instance=gi0, data={"speed": 10_000_000, "mac_address": "00:11:22:33:44:66", "description": "to core"}
    )
    update_object(instance=m.Interface.objects.get(device=router, name="Gi0/1"), data={"enabled": True})
    update_object(instance=m.Interface.objects.get(device=router, name="mgmt0"), data={"name": "Management0"})
    m.Interface.objects.get(device=router, name="Gi0/2").delete()
    make_interface(router, name="Gi0/3")
    detect_drift(devices=[router.pk])
    assert active(router) == {}


def test_a_poll_that_cannot_compare_keeps_the_items(router):
    poll(router, at=T0, facts={**MATCHING_FACTS, "serial": "OTHER"}, interfaces=[observed("Gi0/9", 9)])
    before = set(active(router))
    assert (K.KIND_SERIAL, "") in before and (K.KIND_INTERFACE_UNDOCUMENTED, "Gi0/9") in before
    poll(router, at=T0 + timedelta(minutes=1), up=False)  # down: says nothing about serial or interfaces
    assert set(active(router)) == before
    poll(router, at=T0 + timedelta(minutes=2), facts={"sysName": "casa-rtr01"}, interfaces=[])
    assert set(active(router)) == before  # no serial, no interface table reported: nothing to compare


def test_primary_ip_against_the_polled_address(router):
    interface = m.Interface.objects.get(device=router, name="Gi0/0")
    ip = make_ip("10.0.0.1/24", interface)
    other = make_ip("10.0.0.2/24", interface)
    update_object(instance=router, data={"primary_ip4": ip})
    poll(router, facts={**MATCHING_FACTS, "address": "10.0.0.2"}, interfaces=matching_interfaces())
    item = active(router)[(K.KIND_PRIMARY_IP, "")]
    assert (item.documented, item.observed) == ("10.0.0.1", "10.0.0.2")
    drift_adopt(items=[item])
    router.refresh_from_db()
    assert router.primary_ip4 == other
    detect_drift(devices=[router.pk])
    assert active(router) == {}


def test_monitored_but_never_answered_then_answers():
    device = make_device(monitored=True, snmp_profile=make_profile(), collector_group=make_collector_group())
    detect_drift(devices=[device.pk])
    assert set(active(device)) == {(K.KIND_NEVER_ANSWERED, "")}
    poll(device, up=False)
    assert set(active(device)) == {(K.KIND_NEVER_ANSWERED, "")}
    with pytest.raises(ValidationError, match="acknowledge it instead"):
        drift_adopt(items=m.DriftItem.objects.active().filter(device=device))
    poll(device, up=True, facts={"sysName": device.name})
    assert active(device) == {}
    poll(device, up=False)  # it answered once: a later failure is not "never answered"
    assert active(device) == {}


def test_acknowledge_with_expiry_reopens(router):
    poll(router, at=T0, facts={**MATCHING_FACTS, "serial": "NEW"}, interfaces=matching_interfaces())
    item = active(router)[(K.KIND_SERIAL, "")]
    first_seen = item.first_seen
    with pytest.raises(ValidationError, match="Say why"):
        drift_acknowledge(items=[item], reason=" ")
    with pytest.raises(ValidationError, match="future"):
        drift_acknowledge(items=[item], reason="RMA pending", until=T0 - timedelta(hours=1), now=T0)
    drift_acknowledge(items=[item], reason="RMA pending", until=T0 + timedelta(days=1), now=T0)
    item.refresh_from_db()
    assert (item.state, item.acknowledged_reason) == (S.STATE_ACKNOWLEDGED, "RMA pending")
    assert not m.DriftItem.objects.open_at(T0 + timedelta(hours=23)).exists()

    # Seen again before the expiry: still acknowledged, same item.
    detect_drift(devices=[router.pk], now=T0 + timedelta(hours=12))
    item.refresh_from_db()
    assert item.state == S.STATE_ACKNOWLEDGED
    # The expiry passes: counted open at once, and reopened when seen again.
    assert list(m.DriftItem.objects.open_at(T0 + timedelta(days=1, seconds=1))) == [item]
    detect_drift(devices=[router.pk], now=T0 + timedelta(days=1, hours=1))
    item.refresh_from_db()
    assert (item.state, item.acknowledged_reason, item.acknowledged_until) == (S.STATE_OPEN, "", None)
    assert item.first_seen == first_seen
    assert m.DriftItem.objects.filter(device=router).count() == 1


def test_adopt_writes_one_change_record_per_object_and_resolves(router, django_user_model):
    user = django_user_model.objects.create(username="engineer")
    interfaces = [
        observed("Gi0/0", 1, speed_bps=10_000_000_000, mac="00:11:22:33:44:66", ifAlias="to core"),
        observed("Gi0/1", 2, ifAdminStatus="down", ifAlias=""),
        observed("Te1/0/1", 3, speed_bps=10_000_000_000, mac="00:aa:bb:cc:dd:ee", ifAlias="dc link"),
    ]
    poll(router, facts={**MATCHING_FACTS, "serial": "FOC222", "sysName": "casa-rtr09"}, interfaces=interfaces)
    items = m.DriftItem.objects.active().filter(device=router)
    assert items.count() == 6  # serial, name, speed, mac, description, undocumented
    changes_before = m.ObjectChange.objects.count()
    drift_adopt(items=items, user=user)

    router.refresh_from_db()
    assert (router.serial, router.name) == ("FOC222", "casa-rtr09")
    gi0 = m.Interface.objects.get(device=router, name="Gi0/0")
    assert (gi0.speed, gi0.mac_address, gi0.description) == (10_000_000, "00:11:22:33:44:66", "to core")
    te = m.Interface.objects.get(device=router, name="Te1/0/1")
    assert (te.type, te.speed, te.mac_address, te.description, te.enabled) == (
        "10gbase-x-sfpp",
        10_000_000,
        "00:AA:BB:CC:DD:EE",
        "dc link",
        True,
    )
    changes = list(m.ObjectChange.objects.order_by("pk")[changes_before:])
    # device (serial + name), Gi0/0 (three fields), Te1/0/1 created: one record each
    assert [(c.changed_object_type.model, c.object_repr, c.action) for c in changes] == [
        ("device", "casa-rtr09", "update"),
        ("interface", "Gi0/0", "update"),
        ("interface", "Te1/0/1", "create"),
    ]
    assert {c.user_name for c in changes} == {"engineer"} and len({c.request_id for c in changes}) == 1
    assert not m.DriftItem.objects.active().filter(device=router).exists()
    assert set(m.DriftItem.objects.filter(device=router).values_list("resolved_by", flat=True)) == {
        "engineer"
    }
    detect_drift(devices=[router.pk])
    assert active(router) == {}


def test_adopt_unobserved_deletes_and_name_renames(router):
    make_interface(router, name="Gi0/2")
    make_interface(router, name="mgmt0")
    interfaces = [*matching_interfaces(), observed("Management0", 4, ifDescr="mgmt0")]
    poll(router, facts=MATCHING_FACTS, interfaces=interfaces)
    drift_adopt(items=m.DriftItem.objects.active().filter(device=router))
    assert sorted(router.interfaces.values_list("name", flat=True)) == ["Gi0/0", "Gi0/1", "Management0"]


def test_bulk_adopt_is_all_or_nothing(router):
    other = make_device(name="casa-rtr02", site=router.site, tenant=router.tenant)
    poll(router, facts={**MATCHING_FACTS, "serial": "FOC333"}, interfaces=matching_interfaces())
    poll(other, facts={"sysName": "casa-rtr01"})  # adopting this name collides with the router's
    items = m.DriftItem.objects.active()
    assert items.count() == 2
    changes_before = m.ObjectChange.objects.count()
    with pytest.raises(ValidationError) as raised:
        drift_adopt(items=items)
    assert "already exists" in str(raised.value)
    router.refresh_from_db()
    assert router.serial == "FOC111"
    assert m.ObjectChange.objects.count() == changes_before
    assert m.DriftItem.objects.active().count() == 2


def test_adopt_model_needs_exactly_one_device_type(router):
    poll(router, facts={**MATCHING_FACTS, "model": "C8500-12X"}, interfaces=matching_interfaces())
    item = active(router)[(K.KIND_MODEL, "")]
    with pytest.raises(ValidationError, match="no device type"):
        drift_adopt(items=[item])
    target = make_device_type(model="C8500", part_number="C8500-12X")
    drift_adopt(items=[item])
    router.refresh_from_db()
    assert router.device_type == target


def test_resolved_items_cannot_be_adopted_again(router):
    poll(router, facts={**MATCHING_FACTS, "serial": "X1"}, interfaces=matching_interfaces())
    item = active(router)[(K.KIND_SERIAL, "")]
    drift_adopt(items=[item])
    with pytest.raises(ValidationError, match="resolved already"):
        drift_adopt(items=[item.pk])


def test_a_light_observation_keeps_the_items(router):
    poll(router, at=T0, facts={**MATCHING_FACTS, "serial": "X1"}, interfaces=matching_interfaces())
    poll(router, at=T0 + timedelta(minutes=1))  # answered, nothing changed
    assert set(active(router)) == {(K.KIND_SERIAL, "")}


def test_templates_give_a_new_device_its_interfaces(django_user_model):
    from inventory.services.dcim import device_create

    device_type = make_device_type()
    for index in range(1, 4):
        m.InterfaceTemplate.objects.create(device_type=device_type, name=f"Gi1/0/{index}", type="1000base-t")
    m.InterfaceTemplate.objects.create(
        device_type=device_type, name="mgmt0", type="1000base-t", mgmt_only=True
    )
    template = make_device(device_type=device_type)
    device = device_create(
        data={"name": "sw-new", "site": template.site, "role": template.role, "device_type": device_type}
    )
    assert list(device.interfaces.values_list("name", "mgmt_only")) == [
        ("Gi1/0/1", False),
        ("Gi1/0/2", False),
        ("Gi1/0/3", False),
        ("mgmt0", True),
    ]


def test_make_this_the_template(router):
    from inventory.services.templates import interface_templates_from_device

    poll(
        router,
        facts=MATCHING_FACTS,
        interfaces=[*matching_interfaces(), observed("Port-channel1", 7), observed("Vlan10", 8, ifType=135)],
    )
    created = interface_templates_from_device(device=router)
    assert [(t.name, t.type, t.enabled) for t in created] == [
        ("Gi0/0", "1000base-t", True),
        ("Gi0/1", "other", False),
        ("Port-channel1", "lag", True),
        ("Vlan10", "virtual", True),
    ]
    assert interface_templates_from_device(device=router) == []  # existing names are kept


def test_incremental_detection_for_a_batch(router):
    """The collector endpoint's path: observations recorded without detection, then one batched run."""
    other = make_device()
    for device in (router, other):
        observation_record(
            device=device,
            collector="c1",
            polled_at=timezone.now(),
            up=True,
            facts={"serial": "Z9"},
            detect_drift=False,
        )
    assert not m.DriftItem.objects.exists()
    counts = detect_drift(devices=[router, other.pk])
    assert (counts.devices, counts.created) == (2, 2)


def test_drift_command_by_site_and_device(router):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    other = make_device()
    for device in (router, other):
        observation_record(
            device=device,
            collector="c1",
            polled_at=timezone.now(),
            up=True,
            facts={"serial": "Q"},
            detect_drift=False,
        )
    out = StringIO()
    call_command("drift", site=[router.site.slug], stdout=out)
    assert "Drift of 1 device(s): 1 new" in out.getvalue()
    call_command("drift", device=[str(other.pk)], stdout=out)
    call_command("drift", stdout=out)
    assert "Drift of 2 device(s): 0 new, 2 seen again" in out.getvalue()
    with pytest.raises(CommandError, match="No site"):
        call_command("drift", site=["nowhere"], stdout=out)
