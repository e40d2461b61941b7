"""Discovery proposals (issue 15 items 1-2): results become proposals, de-duplicated against documented
devices
and earlier proposals, rejections remembered, approval documents exactly the device, its interfaces, IP and
monitoring settings (change-logged, all or nothing); the jobs, proposals and mappings API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import models as m
from inventory.data import load_sysobjectid_mappings
from inventory.services.discovery import APPROVE_PERMS, discovery_job_create, proposal_record
from inventory.services.monitoring import observation_record
from tests.api.data import SECRETS

GROUP = "ma-casablanca"
PREFIX = "127.77.0.0/28"
CISCO = "1.3.6.1.4.1.9.1.1208"
UNMAPPED = "1.3.6.1.4.1.99999.1"


@pytest.fixture(autouse=True)
def shipped_mappings(db) -> None:
    """The mappings migration 0010 loads (a transactional test run before this one flushes them)."""
    load_sysobjectid_mappings(m.SysObjectIdMapping)


@pytest.fixture
def job(inv) -> m.DiscoveryJob:
    return discovery_job_create(
        data={
            "prefix": PREFIX,
            "group": inv.group,
            "profiles": [inv.profiles[0], inv.profiles[1]],
            "port": 11161,
            "site": inv.sites[0],
            "role": inv.roles[1],
        }
    )


@pytest.fixture
def collector(inv, make_token, client_for):
    return client_for(make_token(collector=True, groups=(GROUP,)))


def sweep(collector, job, *results, done=0, finished=False):
    assert collector.post(
        f"/api/collector/discovery/{job.pk}/claim/", {"collector": "c1"}, format="json"
    ).status_code == 200  # fmt: skip
    response = collector.post(
        f"/api/collector/discovery/{job.pk}/results/",
        {"collector": "c1", "done": done, "finished": finished, "results": list(results)},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["rejected"] == []
    return response.json()


def answer(address: str, profile: m.SnmpProfile, *, name: str, oid: str = CISCO, **extra) -> dict:
    facts = {"sysName": name, "sysDescr": "Cisco IOS Software", "sysObjectID": oid, "uptime_seconds": 12.5,
             "model": "WS-C2960X"}  # fmt: skip
    facts.update(extra.pop("facts", {}))
    return {
        "address": address,
        "profile_id": profile.pk,
        "facts": facts,
        "interfaces": [
            {"ifIndex": 1, "ifName": "Gi1/0/1", "ifDescr": "GigabitEthernet1/0/1", "ifAlias": "uplink",
             "ifAdminStatus": "up", "ifOperStatus": "up", "speed_bps": 1_000_000_000,
             "mac": "00:11:22:33:44:01"},
            {"ifIndex": 2, "ifName": "Gi1/0/2", "ifDescr": "GigabitEthernet1/0/2", "ifAlias": "",
             "ifAdminStatus": "down", "ifOperStatus": "down", "speed_bps": 0, "mac": ""},
        ],
        **extra,
    }  # fmt: skip


def proposal_at(address: str) -> m.DiscoveryProposal:
    return m.DiscoveryProposal.objects.get(address=address)


# -- proposals from results ------------------------------------------------------------------------------


def test_a_new_device_becomes_an_open_proposal_with_the_mapping(collector, job, inv):
    sweep(collector, job, answer("127.77.0.3", inv.profiles[0], name="sw-3", facts={"serial": "FOC123"}))
    proposal = proposal_at("127.77.0.3")
    assert proposal.status == "open" and proposal.source == "sweep"
    assert (proposal.name, proposal.serial, proposal.sys_object_id) == ("sw-3", "FOC123", CISCO)
    assert proposal.mapping == {"prefix": "1.3.6.1.4.1.9.1", "manufacturer": "Cisco", "platform": "IOS",
                                "device_type": "WS-C2960X"}  # fmt: skip
    assert proposal.manufacturer == inv.manufacturer  # found by name
    assert proposal.platform is None and proposal.device_type is None  # created on approval
    assert proposal.profile == inv.profiles[0] and proposal.group == inv.group and proposal.job == job
    assert len(proposal.interfaces) == 2


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"sysName": "other", "serial": "sn00001"}, "serial"),
        ({"sysName": "RTR-002.gov.ma"}, "name"),
        ({"sysName": "RTR-002"}, "name"),
    ],
)
def test_a_documented_device_is_a_confirmation_not_a_duplicate(collector, job, inv, facts, reason):
    sweep(collector, job, answer("127.77.0.6", inv.profiles[0], name="", facts=facts))
    proposal = proposal_at("127.77.0.6")
    expected = inv.devices[1] if reason == "serial" else inv.devices[2]
    assert proposal.status == "documented"
    assert (proposal.matched_device, proposal.match_reason) == (expected, reason)
    assert f"address 127.77.0.6 is not documented on {expected.name}" in proposal.contradictions
    assert m.Device.objects.count() == 3


def test_any_documented_ip_matches_and_an_agreeing_observation_has_no_contradiction(collector, inv):
    # rtr-000 documents 127.0.2.1/24; add a second, non-primary address to rtr-001 and sweep both
    interface = inv.devices[1].interfaces.get(name="Gi0/1")
    m.IPAddress.objects.create(address="127.0.2.9/24", assigned_object=interface)
    job = discovery_job_create(
        data={"prefix": "127.0.2.0/28", "group": inv.group, "profiles": [inv.profiles[0]]}
    )
    sweep(
        collector, job,
        answer("127.0.2.1", inv.profiles[0], name="rtr-000", facts={"serial": "SN00000"}),
        answer("127.0.2.9", inv.profiles[0], name="unnamed-thing"),
    )  # fmt: skip
    confirmed = proposal_at("127.0.2.1")
    assert (confirmed.status, confirmed.matched_device, confirmed.contradictions) == (
        "documented", inv.devices[0], [],
    )  # fmt: skip
    by_ip = proposal_at("127.0.2.9")
    assert (by_ip.status, by_ip.matched_device, by_ip.match_reason) == ("documented", inv.devices[1], "ip")
    assert by_ip.contradictions == ["sysName unnamed-thing observed, name rtr-001 documented"]


def test_repeated_sweeps_update_the_same_open_proposal(collector, job, inv):
    sweep(collector, job, answer("127.77.0.3", inv.profiles[0], name="sw-3"))
    first = proposal_at("127.77.0.3")
    again = discovery_job_create(data={"prefix": PREFIX, "group": inv.group, "profiles": [inv.profiles[1]]})
    sweep(collector, again, answer("127.77.0.3", inv.profiles[1], name="sw-3", facts={"sysDescr": "new"}))
    proposal = proposal_at("127.77.0.3")
    assert proposal.pk == first.pk and m.DiscoveryProposal.objects.count() == 1
    assert (
        proposal.job == again and proposal.profile == inv.profiles[1] and proposal.facts["sysDescr"] == "new"
    )
    assert proposal.first_seen == first.first_seen and proposal.last_seen > first.last_seen


def test_a_rejected_proposal_is_remembered_and_not_proposed_again(collector, job, inv, api):
    sweep(collector, job, answer("127.77.0.3", inv.profiles[0], name="sw-3"))
    proposal = proposal_at("127.77.0.3")
    response = api.post(f"/api/discovery/proposals/{proposal.pk}/reject/")
    assert response.status_code == 200
    assert response.json()["status"]["value"] == "rejected"
    assert response.json()["decided_by"]
    again = discovery_job_create(data={"prefix": PREFIX, "group": inv.group, "profiles": [inv.profiles[0]]})
    sweep(collector, again, answer("127.77.0.3", inv.profiles[0], name="SW-3"))
    assert list(m.DiscoveryProposal.objects.values_list("status", flat=True)) == ["rejected"]
    # another device at that address later is a new proposal
    sweep(collector, again, answer("127.77.0.3", inv.profiles[0], name="sw-new"))
    assert sorted(m.DiscoveryProposal.objects.values_list("status", flat=True)) == ["open", "rejected"]
    assert api.post(f"/api/discovery/proposals/{proposal.pk}/reject/").status_code == 400


# -- approval ---------------------------------------------------------------------------------------------


def test_one_click_approval_documents_exactly_the_device(collector, job, inv, api):
    sweep(collector, job, answer("127.77.0.3", inv.profiles[1], name="sw-3", facts={"serial": "FOC123"}))
    proposal = proposal_at("127.77.0.3")
    before = {model: model.objects.count() for model in (m.Device, m.Interface, m.IPAddress, m.DeviceType)}
    changes_before = m.ObjectChange.objects.count()
    response = api.post(f"/api/discovery/proposals/{proposal.pk}/approve/", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"]["value"] == "approved" and body["device"]["name"] == "sw-3"
    device = m.Device.objects.get(name="sw-3")
    assert (device.site, device.role, device.tenant, device.status) == (
        inv.sites[0],
        inv.roles[1],
        None,
        "active",
    )
    assert device.serial == "FOC123"
    assert (device.device_type.manufacturer, device.device_type.model) == (inv.manufacturer, "WS-C2960X")
    assert device.platform.name == "IOS" and device.platform.manufacturer == inv.manufacturer
    assert (device.monitored, device.snmp_profile, device.collector_group) == (
        True,
        inv.profiles[1],
        inv.group,
    )
    names = sorted(device.interfaces.values_list("name", "enabled", "speed", "mac_address", "description"))
    assert names == [
        ("Gi1/0/1", True, 1_000_000, "00:11:22:33:44:01", "uplink"),
        ("Gi1/0/2", False, None, "", ""),
        ("mgmt0", True, None, "", ""),
    ]
    assert device.interfaces.get(name="mgmt0").type == "virtual"
    assert str(device.primary_ip4) == "127.77.0.3/28"
    assert device.primary_ip4.assigned_object.name == "mgmt0"
    assert m.Device.objects.pollable().filter(pk=device.pk).exists()
    after = {model: model.objects.count() for model in before}
    assert {model: after[model] - before[model] for model in before} == {
        m.Device: 1, m.Interface: 3, m.IPAddress: 1, m.DeviceType: 1,
    }  # fmt: skip
    # every object written through the services, logged
    logged = m.ObjectChange.objects.order_by("pk")[changes_before:]
    kinds = [change.changed_object_type.model for change in logged]
    assert kinds.count("device") >= 1 and kinds.count("interface") == 3 and kinds.count("ipaddress") == 1
    assert {"devicetype", "platform"} <= set(kinds)
    assert all(change.user_name for change in logged)


def test_the_observed_interface_of_the_address_carries_it(collector, job, inv, api):
    entry = {"address": "127.77.0.4", "prefix_length": 24, "ifIndex": 2}
    sweep(collector, job, answer("127.77.0.4", inv.profiles[0], name="sw-4", addresses=[entry]))
    proposal = proposal_at("127.77.0.4")
    assert api.post(f"/api/discovery/proposals/{proposal.pk}/approve/", {}, format="json").status_code == 200
    device = m.Device.objects.get(name="sw-4")
    assert str(device.primary_ip4) == "127.77.0.4/24"
    assert device.primary_ip4.assigned_object.name == "Gi1/0/2"
    assert not device.interfaces.filter(name="mgmt0").exists()


def test_bulk_approval_is_all_or_nothing_and_names_proposal_and_field(collector, job, inv, api):
    sweep(
        collector, job,
        answer("127.77.0.3", inv.profiles[0], name="sw-3", facts={"model": "WS-C2960X"}),
        answer("127.77.0.4", inv.profiles[0], name="odd-4", oid=UNMAPPED),
    )  # fmt: skip
    ids = sorted(m.DiscoveryProposal.objects.values_list("pk", flat=True))
    unmapped = proposal_at("127.77.0.4")
    response = api.post("/api/discovery/proposals/approve/", {"ids": ids}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "No proposal was approved."
    (error,) = body["errors"]
    assert error["id"] == unmapped.pk and error["name"] == "odd-4"
    assert "device_type" in error["errors"] and UNMAPPED in error["errors"]["device_type"][0]
    assert not m.Device.objects.filter(name__in=["sw-3", "odd-4"]).exists()
    assert set(m.DiscoveryProposal.objects.values_list("status", flat=True)) == {"open"}
    # with a device type, a site and a role chosen for the batch: both documented
    response = api.post(
        "/api/discovery/proposals/approve/",
        {"ids": ids, "device_type": inv.device_type.pk, "site": inv.sites[1].pk, "role": inv.roles[0].pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 2
    devices = m.Device.objects.filter(name__in=["sw-3", "odd-4"])
    assert {(d.site, d.role, d.device_type) for d in devices} == {
        (inv.sites[1], inv.roles[0], inv.device_type)
    }


def test_approval_without_site_or_role_names_them(collector, inv, api):
    job = discovery_job_create(data={"prefix": PREFIX, "group": inv.group, "profiles": [inv.profiles[0]]})
    sweep(collector, job, answer("127.77.0.3", inv.profiles[0], name="sw-3"))
    proposal = proposal_at("127.77.0.3")
    response = api.post(f"/api/discovery/proposals/{proposal.pk}/approve/", {}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"][0]["errors"]
    assert set(errors) == {"site", "role"}


def test_a_documented_proposal_is_not_approved(collector, job, inv, api):
    sweep(collector, job, answer("127.77.0.6", inv.profiles[0], name="rtr-000"))
    proposal = proposal_at("127.77.0.6")
    response = api.post(f"/api/discovery/proposals/{proposal.pk}/approve/", {}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()["errors"][0]["errors"]


def test_approving_needs_the_permissions_to_document_a_device(collector, job, inv, make_token, client_for):
    sweep(collector, job, answer("127.77.0.3", inv.profiles[0], name="sw-3"))
    sweep(collector, job, answer("127.77.0.4", inv.profiles[0], name="sw-4"))
    proposal = proposal_at("127.77.0.3")
    reader = client_for(make_token("view_discoveryproposal", "change_discoveryproposal"))
    assert reader.post(f"/api/discovery/proposals/{proposal_at('127.77.0.4').pk}/reject/").status_code == 200
    assert reader.get("/api/discovery/proposals/").status_code == 200
    assert (
        reader.post(f"/api/discovery/proposals/{proposal.pk}/approve/", {}, format="json").status_code == 403
    )
    # approval may create the mapped manufacturer, platform and device type: their add permissions are needed
    documenter = client_for(make_token("view_discoveryproposal", *APPROVE_PERMS[:5]))
    assert (
        documenter.post(f"/api/discovery/proposals/{proposal.pk}/approve/", {}, format="json").status_code
        == 403
    )
    approver = client_for(make_token("view_discoveryproposal", *APPROVE_PERMS))
    assert (
        approver.post(f"/api/discovery/proposals/{proposal.pk}/approve/", {}, format="json").status_code
        == 200
    )
    assert m.Device.objects.filter(name="sw-3").exists()


# -- LLDP -------------------------------------------------------------------------------------------------


def test_undocumented_lldp_neighbours_become_one_proposal_each(inv, api):
    neighbours = [
        {"local_port": "Gi0/0", "local_port_num": 1, "chassis_id": "AA:BB:CC:00:00:01", "sys_name": "far-sw",
         "port_id": "Gi1/0/48", "port_descr": ""},
        {"local_port": "Gi0/1", "local_port_num": 2, "chassis_id": "SN00001", "sys_name": "rtr-001",
         "port_id": "Gi0/0", "port_descr": ""},
    ]  # fmt: skip

    def observe(device: m.Device, rows: list[dict]) -> None:
        observation_record(
            device=device, collector="c1", polled_at=timezone.now(), up=True,
            facts={"sysName": device.name}, interfaces=[], lldp_neighbors=rows,
        )  # fmt: skip

    observe(inv.devices[0], neighbours)
    (proposal,) = m.DiscoveryProposal.objects.all()
    first_seen = proposal.last_seen
    observe(inv.devices[0], neighbours)  # within LLDP_REFRESH: not written again
    proposal.refresh_from_db()
    assert proposal.last_seen == first_seen and m.DiscoveryProposal.objects.count() == 1
    m.DiscoveryProposal.objects.update(last_seen=first_seen - timedelta(minutes=6))
    observe(inv.devices[0], neighbours)  # older than that: refreshed, still one
    (proposal,) = m.DiscoveryProposal.objects.all()
    assert proposal.last_seen > first_seen
    assert (proposal.source, proposal.name, proposal.chassis_id, proposal.address) == (
        "lldp", "far-sw", "AA:BB:CC:00:00:01", None,
    )  # fmt: skip
    assert proposal.seen_from == inv.devices[0] and proposal.status == "open"
    assert api.post(f"/api/discovery/proposals/{proposal.pk}/reject/").status_code == 200
    m.DiscoveryProposal.objects.update(last_seen=first_seen - timedelta(minutes=6))
    observe(inv.devices[1], neighbours[:1])
    assert list(m.DiscoveryProposal.objects.values_list("status", flat=True)) == ["rejected"]


# -- jobs and mappings API -----------------------------------------------------------------------------


def test_jobs_api_creates_with_ordered_profiles_and_refuses_big_prefixes(inv, api):
    body = {
        "prefix": "127.77.0.0/24",
        "group": inv.group.pk,
        "profiles": [inv.profiles[1].pk, inv.profiles[0].pk],
    }
    response = api.post("/api/discovery/jobs/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert [p["id"] for p in created["profiles"]] == [inv.profiles[1].pk, inv.profiles[0].pk]
    assert created["status"]["value"] == "pending" and created["total"] == 254 and created["rate"] == 50.0
    assert (
        created["created_by"]["username"]
        if isinstance(created["created_by"], dict)
        else created["created_by"]
    )
    too_big = api.post("/api/discovery/jobs/", {**body, "prefix": "10.0.0.0/15"}, format="json")
    assert too_big.status_code == 400
    assert "prefix" in too_big.json() and "/16" in too_big.json()["prefix"][0]
    v6 = api.post("/api/discovery/jobs/", {**body, "prefix": "fd00::/111"}, format="json")
    assert v6.status_code == 400 and "prefix" in v6.json()
    assert (
        api.post("/api/discovery/jobs/", {**body, "prefix": "fd00::/112"}, format="json").status_code == 201
    )
    forced = api.post("/api/discovery/jobs/", {**body, "prefix": "10.0.0.0/15", "force": True}, format="json")
    assert forced.status_code == 201 and forced.json()["total"] == 131_070
    host_bits = api.post("/api/discovery/jobs/", {**body, "prefix": "10.0.0.1/24"}, format="json")
    assert host_bits.status_code == 400 and "prefix" in host_bits.json()
    no_profiles = api.post("/api/discovery/jobs/", {**body, "profiles": []}, format="json")
    assert no_profiles.status_code == 400 and "profiles" in no_profiles.json()
    cancel = api.post(f"/api/discovery/jobs/{created['id']}/cancel/")
    assert cancel.status_code == 200 and cancel.json()["status"]["value"] == "cancelled"
    assert api.post(f"/api/discovery/jobs/{created['id']}/cancel/").status_code == 400
    listed = api.get("/api/discovery/jobs/", {"status": "cancelled"}).json()
    assert [row["id"] for row in listed["results"]] == [created["id"]]
    assert api.get("/api/discovery/jobs/", {"group": "nowhere"}).status_code == 400


def test_mappings_api_lists_the_shipped_vendors_and_takes_new_ones(inv, api):
    shipped = api.get("/api/discovery/sysobjectid-mappings/", {"limit": 1000}).json()
    manufacturers = {row["manufacturer"] for row in shipped["results"]}
    assert {
        "Cisco",
        "Juniper Networks",
        "Arista Networks",
        "HPE",
        "Aruba",
        "Huawei",
        "MikroTik",
        "Fortinet",
        "Palo Alto Networks",
        "Ubiquiti",
        "Dell",
        "APC",
        "Eaton",
        "Generic",
        "Nokia",
    } <= manufacturers
    response = api.post(
        "/api/discovery/sysobjectid-mappings/",
        {
            "prefix": "1.3.6.1.4.1.9.1.1208",
            "manufacturer": "Cisco",
            "platform": "IOS",
            "device_type": "C2960X",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    duplicate = api.post(
        "/api/discovery/sysobjectid-mappings/",
        {"prefix": "1.3.6.1.4.1.9.1.1208", "manufacturer": "X"},
        format="json",
    )
    assert duplicate.status_code == 400 and "prefix" in duplicate.json()
    # the longest prefix wins
    proposal = proposal_record(
        address="127.77.0.9", facts={"sysName": "x", "sysObjectID": CISCO}, interfaces=[]
    )
    assert (
        proposal.mapping["device_type"] == "C2960X" and proposal.mapping["prefix"] == "1.3.6.1.4.1.9.1.1208"
    )


def test_no_secret_in_discovery_answers(collector, job, inv, api):
    sweep(collector, job, answer("127.77.0.3", inv.profiles[1], name="sw-3"))
    answers = [
        api.get("/api/discovery/jobs/").content,
        api.get(f"/api/discovery/jobs/{job.pk}/").content,
        api.get("/api/discovery/proposals/").content,
        api.get("/api/discovery/sysobjectid-mappings/").content,
    ]
    proposal = proposal_at("127.77.0.3")
    answers.append(api.post(f"/api/discovery/proposals/{proposal.pk}/approve/", {}, format="json").content)
    answers.append(api.get("/api/core/object-changes/", {"limit": 1000}).content)
    for content in answers:
        text = content.decode()
        assert not any(secret in text for secret in SECRETS), text[:300]


def test_loading_the_shipped_mappings_again_adds_nothing_and_keeps_edits(api):
    cisco = m.SysObjectIdMapping.objects.get(prefix="1.3.6.1.4.1.9.1")
    response = api.patch(
        f"/api/discovery/sysobjectid-mappings/{cisco.pk}/", {"platform": "IOS-XE"}, format="json"
    )
    assert response.status_code == 200
    m.SysObjectIdMapping.objects.filter(prefix="1.3.6.1.4.1.2636").delete()
    assert load_sysobjectid_mappings(m.SysObjectIdMapping) == 1  # only the deleted one comes back
    assert load_sysobjectid_mappings(m.SysObjectIdMapping) == 0
    assert m.SysObjectIdMapping.objects.get(prefix="1.3.6.1.4.1.9.1").platform == "IOS-XE"
