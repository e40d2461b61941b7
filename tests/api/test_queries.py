"""No N+1: a list answers with the same number of queries whatever the page size."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory import models as m
from inventory.api.urls import ROUTES
from inventory.services.discovery import discovery_job_create, proposal_record
from inventory.services.jobs import enqueue_job
from inventory.services.monitoring import observation_record
from tests.api.data import build_inventory, create

LIST_URLS = [f"/api/{app}/{prefix}/" for app, routes in ROUTES.items() for prefix, _ in routes]


@pytest.fixture
def big(db, api):
    inv = build_inventory(devices=24, interfaces=2)
    role = create(m.ContactRole, name="Owner", slug="owner")
    site_type = ContentType.objects.get_for_model(m.Site)
    device_type = ContentType.objects.get_for_model(m.Device)
    for i in range(12):
        contact = create(m.Contact, name=f"Person {i}")
        target_type, target = (site_type, inv.sites[i % 2]) if i % 2 else (device_type, inv.devices[i])
        create(m.ContactAssignment, object_type=target_type, object_id=target.pk, contact=contact, role=role)
        create(m.Location, name=f"Room {i}", slug=f"room-{i}", site=inv.sites[i % 2])
        create(m.Rack, name=f"R{i}", site=inv.sites[i % 2], tags=[inv.tags[i % 2]])
        create(m.Prefix, prefix=f"10.{i}.0.0/16", site=inv.sites[i % 2], tenant=inv.tenants[0])
        create(m.Region, name=f"Province {i}", slug=f"province-{i}", parent=inv.regions[0])
        create(m.TenantGroup, name=f"Group {i}", slug=f"group-{i}", parent=inv.tenant_group)
        create(m.Tenant, name=f"Agency {i}", slug=f"agency-{i}", group=inv.tenant_group, tags=[inv.tags[0]])
        create(m.Platform, name=f"OS {i}", slug=f"os-{i}", manufacturer=inv.manufacturer)
        create(m.DeviceType, manufacturer=inv.manufacturer, model=f"M{i}", slug=f"m{i}")
        create(m.Manufacturer, name=f"Vendor {i}", slug=f"vendor-{i}")
        create(m.DeviceRole, name=f"Role {i}", slug=f"role-{i}")
        create(m.Tag, name=f"Tag {i}", slug=f"tag-{i}")
        create(m.CollectorGroup, name=f"CG {i}", slug=f"cg-{i}", exporter_address="127.0.0.1:9781")
        create(m.SnmpProfile, name=f"p{i}", community=f"c{i}")
        create(m.Site, name=f"Site {i}", slug=f"site-{i}", country="MA", region=inv.regions[0], tags=inv.tags)
        create(m.ContactRole, name=f"CR {i}", slug=f"cr-{i}")
        create(m.PlatformMapping, platform=inv.platform, sys_object_id_prefix=f"1.3.6.1.4.1.{i}")
        create(m.InterfaceTemplate, device_type=inv.device_type, name=f"Gi9/{i}", type="1000base-t")
        enqueue_job(kind="import", data=None)
        create(m.VRF, name=f"VRF {i}", rd=f"65000:{i}", tenant=inv.tenants[0], tags=[inv.tags[0]])
        create(
            m.JournalEntry,
            assigned_object_type=device_type,
            assigned_object_id=inv.devices[i].pk,
            comments="x",
        )
        field = create(m.CustomField, name=f"cf_{i}", type="text")
        field.object_types.set([device_type, site_type])
        m.Token.create_token(user=m.Token.objects.first().user, description=f"t{i}")
        create(
            m.Event,
            time="2026-11-30T06:00:00Z",
            source="poll",
            text="x",
            device=inv.devices[i],
            site=inv.sites[0],
        )
        m.AlertRecord.objects.create(
            fingerprint=f"f{i}",
            alertname="A",
            status="firing",
            labels={},
            starts_at="2026-11-30T06:00:00Z",
            device=inv.devices[i],
            site=inv.sites[0],
        )
        create(
            m.ServiceLevelObjective, name=f"slo{i}", target_percent="99.5", scope="country", scope_value="MA"
        )
        create(
            m.MaintenanceWindow,
            start="2026-11-30T06:00:00Z",
            end="2026-11-30T07:00:00Z",
            reason="x",
            scope="device",
            scope_value=inv.devices[i].name,
        )
    for device in inv.devices:  # a serial drift item each
        observation_record(
            device=device, collector="c1", polled_at=timezone.now(), up=True, facts={"serial": "X"}
        )
    for left, right in zip(inv.devices[0::2], inv.devices[1::2], strict=True):  # a cable per device pair
        for name in ("Gi0/0", "Gi0/1"):
            create(
                m.Cable,
                a_interface=left.interfaces.get(name=name),
                b_interface=right.interfaces.get(name=name),
            )
    for i in range(12):  # discovery: a sweep each with two profiles, a proposal each (some documented)
        job = discovery_job_create(
            data={
                "prefix": f"127.77.{i}.0/28",
                "group": inv.group,
                "profiles": inv.profiles,
                "site": inv.sites[0],
            }
        )
        name = inv.devices[i].name if i % 3 == 0 else f"new-{i}"
        facts = {"sysName": name, "sysObjectID": "1.3.6.1.4.1.9.1.5"}
        proposal_record(
            address=f"127.77.{i}.1",
            facts=facts,
            interfaces=[],
            job=job,
            profile=inv.profiles[0],
            group=inv.group,
        )
    api.get("/api/")  # the token's first use records last_used
    return inv


def _queries(api, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    body = response.json()
    size = len(body["results"]) if isinstance(body, dict) and "results" in body else len(body)
    return len(captured), size


def test_list_query_count_is_constant(api, big, django_assert_max_num_queries):
    """Every list endpoint, full and brief: 1000 rows cost no more queries than 2."""
    for url in LIST_URLS:
        for brief in ("", "&brief=1"):
            small_count, small_size = _queries(api, f"{url}?limit=2{brief}")
            assert small_size == 2, url
            with django_assert_max_num_queries(small_count):
                _, large_size = _queries(api, f"{url}?limit=1000{brief}")
            assert large_size >= 10, url


def test_http_sd_and_targets_query_count_is_constant(
    api, big, make_token, client_for, django_assert_max_num_queries
):
    few, size = _queries(api, "/api/prometheus/sd/devices/?name=rtr-000")
    assert size == 1
    with django_assert_max_num_queries(few):
        _, size = _queries(api, "/api/prometheus/sd/devices/")
    assert size == 24
    collector = client_for(make_token(collector=True))
    collector.get("/api/collector/targets/?group=ma-casablanca")  # the token's first use records last_used
    monitored = list(m.Device.objects.filter(name__gt="rtr-001").values_list("pk", flat=True))
    m.Device.objects.filter(pk__in=monitored).update(monitored=False)
    with CaptureQueriesContext(connection) as captured:
        response = collector.get("/api/collector/targets/?group=ma-casablanca")
    assert len(response.json()["targets"]) == 2
    m.Device.objects.filter(pk__in=monitored).update(monitored=True)
    with django_assert_max_num_queries(len(captured)):
        response = collector.get("/api/collector/targets/?group=ma-casablanca")
    assert len(response.json()["targets"]) == 24
