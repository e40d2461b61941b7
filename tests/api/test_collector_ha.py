"""HA collector groups (issue 16.1): leases renewed by the targets request, rendezvous assignment, http_sd.

The lease clock is faked by writing heartbeats at chosen instants (``heartbeat(now=…)``) and asking
``live_members(now=…)``: the expiry is checked by the database query, not by the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from inventory import models as m
from inventory.services.membership import assigned, heartbeat, live_members
from tests.api.concurrent_heartbeats import expected_names, hammer
from tests.api.data import add_device

ROOT = Path(__file__).resolve().parents[2]

GROUP = "ma-casablanca"
DEVICES = 40


@pytest.fixture
def many(inv):
    """The API test inventory grown to DEVICES devices, all in the one collector group."""
    for i in range(len(inv.devices), DEVICES):
        add_device(inv, i, interfaces=1)
    return inv


@pytest.fixture
def collector(many, make_token, client_for):
    return client_for(make_token(collector=True, groups=(GROUP,)))


def member_targets(client, name: str, port: int, refresh: float = 10) -> list[str]:
    response = client.get(
        "/api/collector/targets/",
        {"group": GROUP, "member": name, "address": f"127.0.0.1:{port}", "refresh": refresh},
    )
    assert response.status_code == 200, response.content
    return [t["name"] for t in response.json()["targets"]]


class Member:
    """A stand-in with the attribute :func:`assigned` reads, for pure assignment checks."""

    def __init__(self, name: str) -> None:
        self.name = name


def owners(devices: list[str], members: list[str]) -> dict[str, str]:
    live = [Member(n) for n in members]
    return {d: assigned(d, live).name for d in devices}


def test_members_share_the_group_completely_and_disjointly(collector, many):
    a = member_targets(collector, "col-a", 9801)
    assert len(a) == DEVICES  # alone in the group: every device
    b = member_targets(collector, "col-b", 9802)
    a = member_targets(collector, "col-a", 9801)
    assert a and b and not set(a) & set(b)
    assert sorted(a + b) == sorted(d.name for d in many.devices)
    assert m.CollectorMember.objects.filter(group__slug=GROUP).count() == 2


def test_without_member_the_whole_group_is_listed_as_before(collector, many):
    member_targets(collector, "col-a", 9801)
    member_targets(collector, "col-b", 9802)
    response = collector.get("/api/collector/targets/", {"group": GROUP})
    assert len(response.json()["targets"]) == DEVICES  # static --shard collectors split it themselves


def test_lease_expires_after_three_refreshes_by_the_database_clock(many):
    group = many.group
    t0 = timezone.now() - timedelta(hours=1)
    heartbeat(group=group, name="col-a", address="127.0.0.1:9801", refresh=10, now=t0)
    assert [x.name for x in live_members([group.pk], now=t0 + timedelta(seconds=29.9))[group.pk]] == ["col-a"]
    assert live_members([group.pk], now=t0 + timedelta(seconds=30)) == {}
    heartbeat(group=group, name="col-a", address="127.0.0.1:9801", refresh=10, now=t0 + timedelta(seconds=25))
    assert live_members([group.pk], now=t0 + timedelta(seconds=50))[group.pk][0].name == "col-a"
    member = m.CollectorMember.objects.get()
    assert member.first_seen == t0 and member.last_seen == t0 + timedelta(seconds=25)


def test_lease_length_is_configurable(many, settings):
    settings.COLLECTOR_LEASE_REFRESHES = 5
    t0 = timezone.now() - timedelta(hours=1)
    heartbeat(group=many.group, name="col-a", address="127.0.0.1:9801", refresh=10, now=t0)
    assert live_members([many.group.pk], now=t0 + timedelta(seconds=49))
    assert not live_members([many.group.pk], now=t0 + timedelta(seconds=50))


def test_a_dead_members_devices_go_to_the_survivor_and_only_its_share_comes_back(collector, many):
    a_first = member_targets(collector, "col-a", 9801)
    b_first = member_targets(collector, "col-b", 9802)
    a_shared = member_targets(collector, "col-a", 9801)
    # col-b's last heartbeat was long ago (a fake clock in the past): its lease is over
    heartbeat(
        group=many.group,
        name="col-b",
        address="127.0.0.1:9802",
        refresh=10,
        now=timezone.now() - timedelta(minutes=5),
    )
    assert sorted(member_targets(collector, "col-a", 9801)) == sorted(a_first)
    b_back = member_targets(collector, "col-b", 9802)
    assert b_back == b_first  # it gets back exactly what it had: the HRW winners for it
    assert member_targets(collector, "col-a", 9801) == a_shared


def test_a_returning_member_takes_back_about_one_nth():
    devices = [f"dev-{i:05d}" for i in range(3000)]
    for n in (2, 3, 5):
        names = [f"col-{k}" for k in range(n)]
        before = owners(devices, names[:-1])
        after = owners(devices, names)
        moved = [d for d in devices if before[d] != after[d]]
        assert all(after[d] == names[-1] for d in moved)  # only onto the returning member
        assert len(moved) / len(devices) <= 1 / n + 0.03
        # removing a member moves only that member's devices
        gone = owners(devices, names[1:])
        assert all(gone[d] == after[d] for d in devices if after[d] != names[0])


def test_http_sd_points_each_device_at_its_members_exporter(collector, many, api):
    a = set(member_targets(collector, "col-a", 9801))
    b = set(member_targets(collector, "col-b", 9802))
    a = set(member_targets(collector, "col-a", 9801))
    sd = api.get("/api/prometheus/sd/devices/").json()
    address = {g["targets"][0]: g["labels"]["__meta_infrastrand_collector_address"] for g in sd}
    assert {address[d] for d in a} == {"127.0.0.1:9801"}
    assert {address[d] for d in b} == {"127.0.0.1:9802"}


def test_http_sd_keeps_the_last_members_for_one_lease_when_every_lease_ran_out(collector, many, api):
    """Every lease of the group ran out at once (a stalled inventory delays all heartbeats alike)."""
    now = timezone.now()
    for name, port in (("col-a", 9801), ("col-b", 9802)):
        heartbeat(
            group=many.group,
            name=name,
            address=f"127.0.0.1:{port}",
            refresh=10,
            now=now - timedelta(seconds=45),
        )
    sd = api.get("/api/prometheus/sd/devices/").json()
    assert {g["labels"]["__meta_infrastrand_collector_address"] for g in sd} == {
        "127.0.0.1:9801",
        "127.0.0.1:9802",
    }
    for name, port in (("col-a", 9801), ("col-b", 9802)):  # two leases ago: gone
        heartbeat(
            group=many.group,
            name=name,
            address=f"127.0.0.1:{port}",
            refresh=10,
            now=now - timedelta(seconds=61),
        )
    sd = api.get("/api/prometheus/sd/devices/").json()
    assert {g["labels"]["__meta_infrastrand_collector_address"] for g in sd} == {many.group.exporter_address}


def test_http_sd_keeps_the_group_address_without_live_members(collector, many, api):
    heartbeat(
        group=many.group,
        name="col-a",
        address="127.0.0.1:9801",
        refresh=10,
        now=timezone.now() - timedelta(hours=1),
    )
    sd = api.get("/api/prometheus/sd/devices/").json()
    assert {g["labels"]["__meta_infrastrand_collector_address"] for g in sd} == {many.group.exporter_address}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"member": "col-a", "refresh": "10"}, "address"),
        ({"member": "col-a", "address": "not an address", "refresh": "10"}, "address"),
        ({"member": "col-a", "address": "127.0.0.1:9801", "refresh": "-1"}, "refresh"),
        ({"member": "x" * 101, "address": "127.0.0.1:9801", "refresh": "10"}, "member"),
    ],
)
def test_bad_heartbeat_names_the_field(collector, params, field):
    response = collector.get("/api/collector/targets/", {"group": GROUP, **params})
    assert response.status_code == 400
    assert field in response.json()
    assert not m.CollectorMember.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_heartbeats_lose_no_row(inv):
    """Eight threads, each with its own connection, renew 4 shared and 8 own members 20 times each:
    in this process on PostgreSQL; on SQLite in a helper process on a file database (the in-memory
    test database has no file locking), with the production ``transaction_mode=IMMEDIATE``."""
    if connection.vendor == "postgresql":
        report = hammer(inv.group.pk)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'ha.sqlite3'}"
            out = subprocess.run(
                [sys.executable, "-m", "tests.api.concurrent_heartbeats", url],
                capture_output=True, text=True, timeout=600, cwd=ROOT,
                env={**os.environ, "INFRASTRAND_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": ""},
            )  # fmt: skip
            assert out.returncode == 0, out.stderr[-3000:]
            report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["errors"] == [] and report["alive"] == 0
    assert report["names"] == expected_names()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_overlapping_observation_batches_of_two_members_do_not_deadlock(many, make_token, client_for):
    """Around a failover two members report the same devices; their batches lock the observation rows.
    Written in batch order, one batch ascending and the other descending deadlocked (PostgreSQL answered
    "deadlock detected", the API 503).  PostgreSQL only: SQLite serializes writers (no row locks to
    deadlock on), and threads cannot share its in-memory test database."""
    import threading

    from django.db import connection as conn

    if conn.vendor != "postgresql":
        pytest.skip("row-lock deadlocks need PostgreSQL; SQLite serializes writers")

    key = make_token(collector=True, groups=(GROUP,)).key
    devices = [d.pk for d in many.devices]
    errors: list[str] = []
    start = threading.Barrier(2, timeout=60)

    def member(name: str, order: list[int]) -> None:
        client = client_for(None)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        try:
            start.wait()
            for i in range(8):
                stamp = f"2026-11-29T06:{i:02d}:00Z"
                rows = [
                    {"device_id": pk, "polled_at": stamp, "up": True, "facts": {"sysName": name}}
                    for pk in order
                ]
                response = client.post(
                    "/api/collector/observations/", {"collector": name, "observations": rows}, format="json"
                )
                if response.status_code != 200:
                    errors.append(f"{name}: {response.status_code} {response.content[:200]!r}")
        finally:
            conn.close()

    threads = [
        threading.Thread(target=member, args=("col-a", devices)),
        threading.Thread(target=member, args=("col-b", devices[::-1])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert m.DeviceObservation.objects.count() == len(devices)
