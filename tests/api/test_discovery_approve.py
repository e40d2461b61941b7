"""Bulk approval of discovery proposals stays a bulk write: the queries do not grow with devices times
interfaces, one change record per created object and one ``device created`` event per device, the same
checks (naming the proposal and the field) as one-by-one saves, all or nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import models as m
from inventory.data import load_sysobjectid_mappings
from inventory.services.discovery import (
    ProposalErrors,
    approve_proposals,
    discovery_job_create,
    proposal_record,
)

CISCO = "1.3.6.1.4.1.9.1.1208"
PORTS = 48


@pytest.fixture(autouse=True)
def shipped_mappings(db) -> None:
    load_sysobjectid_mappings(m.SysObjectIdMapping)


@pytest.fixture
def job(inv) -> m.DiscoveryJob:
    return discovery_job_create(
        data={
            "prefix": "127.78.0.0/24",
            "group": inv.group,
            "profiles": [inv.profiles[0]],
            "site": inv.sites[0],
            "role": inv.roles[1],
        }
    )


def propose(inv, job, numbers: range) -> list[m.DiscoveryProposal]:
    """One open proposal per number: a 48-port switch at 127.78.0.<n> whose address is on no interface."""
    found = []
    for n in numbers:
        interfaces = [
            {"ifIndex": k, "ifName": f"Gi1/0/{k}", "ifAdminStatus": "up", "speed_bps": 10**9,
             "mac": f"00:11:22:33:{n:02x}:{k:02x}"}
            for k in range(1, PORTS + 1)
        ]  # fmt: skip
        found.append(
            proposal_record(
                address=f"127.78.0.{n}",
                facts={"sysName": f"sw-{n}", "sysObjectID": CISCO, "model": "WS-C2960X", "serial": f"FOC{n}"},
                interfaces=interfaces,
                job=job,
                profile=inv.profiles[0],
                group=inv.group,
            )
        )
    return found


def approve_counting(proposals: list[m.DiscoveryProposal]) -> int:
    with CaptureQueriesContext(connection) as queries:
        approve_proposals(proposals=proposals)
    return len(queries)


def test_the_queries_of_a_bulk_approval_do_not_grow_with_devices_times_interfaces(inv, job):
    approve_counting(propose(inv, job, range(1, 2)))  # the device type and platform are created here
    two = approve_counting(propose(inv, job, range(2, 4)))
    eight = approve_counting(propose(inv, job, range(4, 12)))
    assert m.Device.objects.filter(name__startswith="sw-").count() == 11
    # one address lookup per device (IPAddress.clean); one-by-one saves made ~50 queries per interface
    assert eight - two <= 2 * (8 - 2), (two, eight)
    assert two < 60


def test_one_change_record_per_created_object_and_one_event_per_device(inv, job):
    approve_proposals(proposals=propose(inv, job, range(1, 2)))
    records_before = m.ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    events_before = m.Event.objects.count()
    devices = approve_proposals(proposals=propose(inv, job, range(2, 5)))
    records = m.ObjectChange.objects.filter(pk__gt=records_before).select_related("changed_object_type")
    kinds: dict[str, int] = {}
    for record in records:
        kinds[record.changed_object_type.model] = kinds.get(record.changed_object_type.model, 0) + 1
        assert record.action == "create"
    assert kinds == {"device": 3, "interface": 3 * (PORTS + 1), "ipaddress": 3}  # + mgmt0 each
    assert records.count() == len({(r.changed_object_type_id, r.changed_object_id) for r in records})
    for device in devices:
        device.refresh_from_db()
        record = records.get(changed_object_type__model="device", changed_object_id=device.pk)
        assert record.postchange_data["primary_ip4"] == device.primary_ip4_id is not None
        assert record.postchange_data["tags"] == [] and record.postchange_data["name"] == device.name
        interface = records.filter(changed_object_type__model="interface", related_object_id=device.pk)
        assert interface.count() == PORTS + 1
        assert device.interfaces.count() == PORTS + 1 and device.is_pollable
    events = m.Event.objects.order_by("pk")[events_before:]
    assert [(e.kind, e.device_id, e.text) for e in events] == [
        ("device created", d.pk, f"device {d.name} created (active)") for d in devices
    ]
    assert {e.details["object_change_id"] for e in events} == set(
        records.filter(changed_object_type__model="device").values_list("pk", flat=True)
    )
    assert set(m.DiscoveryProposal.objects.filter(device__in=devices).values_list("status", flat=True)) == {
        "approved"
    }


def test_clashes_within_the_batch_and_with_the_database_name_proposal_and_field(inv, job):
    first, second, third = propose(inv, job, range(1, 4))
    m.DiscoveryProposal.objects.filter(pk=second.pk).update(name="SW-1")  # the same name, case aside
    m.IPAddress.objects.create(address="127.78.0.3/32")  # documented since the sweep
    with pytest.raises(ProposalErrors) as raised:
        approve_proposals(proposals=[first, second, third])
    errors = {error["id"]: error["errors"] for error in raised.value.errors}
    assert set(errors) == {second.pk, third.pk}
    assert list(errors[second.pk]) == ["name"] and f"proposal {first.pk}" in errors[second.pk]["name"][0]
    assert (
        list(errors[third.pk]) == ["address"]
        and "127.78.0.3 already exists" in errors[third.pk]["address"][0]
    )
    assert not m.Device.objects.filter(name__startswith="sw-").exists()
    assert set(m.DiscoveryProposal.objects.values_list("status", flat=True)) == {"open"}
    assert not m.DeviceType.objects.filter(model="WS-C2960X").exists()


def test_template_interfaces_come_first_and_an_observed_one_of_the_same_name_is_not_doubled(inv, job):
    m.InterfaceTemplate.objects.create(device_type=inv.device_type, name="con0", type="virtual")
    m.InterfaceTemplate.objects.create(device_type=inv.device_type, name="Gi1/0/1", type="1000base-t")
    (device,) = approve_proposals(proposals=propose(inv, job, range(1, 2)), device_type=inv.device_type)
    names = list(device.interfaces.order_by("pk").values_list("name", "type"))
    assert names[:2] == [("con0", "virtual"), ("Gi1/0/1", "1000base-t")]
    assert len(names) == 2 + (PORTS - 1) + 1 and [n for n, _ in names].count("Gi1/0/1") == 1
