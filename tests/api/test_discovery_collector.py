"""Contract 9 — the collector side of discovery: open jobs with credentials, claims with leases, results."""

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
from inventory.services.discovery import discovery_job_cancel, discovery_job_create, job_hosts
from tests.api.concurrent_claims import make_job, race
from tests.api.data import AUTH_KEY, COMMUNITY, PRIV_KEY, SECRETS

ROOT = Path(__file__).resolve().parents[2]
GROUP_A = "ma-casablanca"
GROUP_B = "lu-betzdorf"
PREFIX = "127.77.0.0/28"
CISCO_OID = "1.3.6.1.4.1.9.1.1208"


@pytest.fixture
def group_b(inv) -> m.CollectorGroup:
    return m.CollectorGroup.objects.create(
        name="LU Betzdorf", slug=GROUP_B, exporter_address="127.0.0.1:9782"
    )


@pytest.fixture
def job(inv) -> m.DiscoveryJob:
    """A /28 sweep by group A trying the v3 profile, then the v2c one, on port 11161."""
    return discovery_job_create(
        data={
            "prefix": PREFIX,
            "group": inv.group,
            "profiles": [inv.profiles[1], inv.profiles[0]],
            "port": 11161,
            "site": inv.sites[0],
            "role": inv.roles[1],
        }
    )


@pytest.fixture
def collector_a(inv, group_b, make_token, client_for):
    return client_for(make_token(collector=True, groups=(GROUP_A,)))


@pytest.fixture
def collector_b(inv, group_b, make_token, client_for):
    return client_for(make_token(collector=True, groups=(GROUP_B,)))


def claim(client, job_id: int, collector: str = "collector-01"):
    return client.post(f"/api/collector/discovery/{job_id}/claim/", {"collector": collector}, format="json")


def post_results(client, job_id: int, results: list, *, collector="collector-01", done=0, **extra):
    body = {"collector": collector, "done": done, "results": results, **extra}
    return client.post(f"/api/collector/discovery/{job_id}/results/", body, format="json")


def result(address: str, profile_id: int, **facts) -> dict:
    return {
        "address": address,
        "profile_id": profile_id,
        "facts": {"sysName": f"sw-{address.rsplit('.', 1)[1]}", "sysObjectID": CISCO_OID, **facts},
        "interfaces": [
            {"ifIndex": 1, "ifName": "Gi1/0/1", "ifDescr": "GigabitEthernet1/0/1", "ifAlias": "uplink",
             "ifAdminStatus": "up", "ifOperStatus": "up", "speed_bps": 1_000_000_000,
             "mac": "00:11:22:33:44:01"},
        ],
    }  # fmt: skip


def test_hosts_of_a_prefix_follow_the_contract():
    assert list(job_hosts("127.77.0.0/29")) == [f"127.77.0.{i}" for i in range(1, 7)]
    assert list(job_hosts("127.77.0.4/31")) == ["127.77.0.4", "127.77.0.5"]
    assert list(job_hosts("127.77.0.9/32")) == ["127.77.0.9"]
    assert list(job_hosts("fd00::/126")) == ["fd00::", "fd00::1", "fd00::2", "fd00::3"]


def test_open_jobs_carry_the_credentials_in_order_and_each_fetch_is_recorded(collector_a, job, inv):
    response = collector_a.get("/api/collector/discovery/", {"group": GROUP_A})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    document = response.json()
    assert document["group"] == GROUP_A
    (row,) = document["jobs"]
    assert row == {
        "id": job.pk,
        "prefix": PREFIX,
        "done": 0,
        "rate": 50.0,
        "timeout": 1.0,
        "retries": 0,
        "claimed_by": None,
        "lease_expires": None,
        "credentials": row["credentials"],
    }
    v3, v2c = row["credentials"]
    assert v2c == {"profile_id": inv.profiles[0].pk, "version": "2c", "port": 11161, "community": COMMUNITY,
                   "v3": None}  # fmt: skip
    assert v3["profile_id"] == inv.profiles[1].pk and v3["version"] == "3" and v3["community"] is None
    assert v3["port"] == 11161
    assert v3["v3"]["auth_key"] == AUTH_KEY and v3["v3"]["priv_key"] == PRIV_KEY
    assert v3["v3"]["auth_protocol"] == "SHA-256" and v3["v3"]["priv_protocol"] == "AES-128"
    assert len(v3["v3"]["auth_master_key"]) == 64
    fetch = m.CredentialFetch.objects.get()
    assert (fetch.group_slug, fetch.status, fetch.targets) == (GROUP_A, 200, 2)


def test_profile_port_is_used_without_a_job_port(collector_a, inv):
    discovery_job_create(data={"prefix": PREFIX, "group": inv.group, "profiles": [inv.profiles[0]]})
    (row,) = collector_a.get("/api/collector/discovery/", {"group": GROUP_A}).json()["jobs"]
    assert row["credentials"][0]["port"] == 161


def test_other_group_is_403_unknown_404_and_both_are_recorded(collector_a, collector_b, job):
    other = collector_b.get("/api/collector/discovery/", {"group": GROUP_A})
    assert other.status_code == 403
    assert COMMUNITY not in other.content.decode()
    unknown = collector_a.get("/api/collector/discovery/", {"group": "nowhere"})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "unknown collector group 'nowhere'"
    assert sorted(m.CredentialFetch.objects.values_list("status", flat=True)) == [403, 404]
    assert claim(collector_b, job.pk).status_code == 403
    assert post_results(collector_b, job.pk, []).status_code == 403
    assert claim(collector_a, 999_999).status_code == 404
    assert collector_a.get("/api/collector/discovery/").status_code == 400


def test_finished_and_cancelled_jobs_are_not_listed(collector_a, job, inv):
    discovery_job_cancel(job=job)
    assert collector_a.get("/api/collector/discovery/", {"group": GROUP_A}).json()["jobs"] == []


def test_claim_gives_a_lease_and_a_second_collector_gets_409(collector_a, job, settings):
    settings.DISCOVERY_LEASE = 60
    first = claim(collector_a, job.pk, "collector-01")
    assert first.status_code == 200
    body = first.json()
    assert body["id"] == job.pk and body["done"] == 0
    job.refresh_from_db()
    assert job.status == "running" and job.claimed_by == "collector-01" and job.started is not None
    assert 50 < (job.lease_expires - timezone.now()).total_seconds() <= 60
    assert claim(collector_a, job.pk, "collector-01").status_code == 200  # its own claim: renewed
    second = claim(collector_a, job.pk, "collector-02")
    assert second.status_code == 409
    assert second.json()["detail"] == "claimed by collector-01"
    listed = collector_a.get("/api/collector/discovery/", {"group": GROUP_A}).json()["jobs"][0]
    assert listed["claimed_by"] == "collector-01" and listed["lease_expires"].endswith("Z")


def test_an_expired_lease_lets_another_collector_resume_from_done(collector_a, job, inv):
    assert claim(collector_a, job.pk, "collector-01").status_code == 200
    hosts = list(job_hosts(PREFIX))
    answer = post_results(collector_a, job.pk, [result(hosts[2], inv.profiles[0].pk)], done=5)
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 1, "rejected": [], "status": "running"}
    # collector-01 dies: its lease runs out
    m.DiscoveryJob.objects.filter(pk=job.pk).update(lease_expires=timezone.now() - timedelta(seconds=1))
    taken = claim(collector_a, job.pk, "collector-02")
    assert taken.status_code == 200
    assert taken.json()["done"] == 5
    late = post_results(collector_a, job.pk, [], collector="collector-01", done=7)
    assert late.status_code == 409
    assert late.json()["detail"] == "claimed by collector-02"
    # a smaller done is ignored; finishing completes the job
    assert post_results(collector_a, job.pk, [], collector="collector-02", done=3).status_code == 200
    job.refresh_from_db()
    assert job.done == 5
    done = post_results(
        collector_a, job.pk, [result(hosts[9], inv.profiles[1].pk)], collector="collector-02", done=14,
        finished=True,
    )  # fmt: skip
    assert done.json() == {"accepted": 1, "rejected": [], "status": "completed"}
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.answered) == ("completed", 14, 14, 2)
    assert job.finished is not None
    assert claim(collector_a, job.pk, "collector-03").json()["detail"] == "job completed"


def test_finished_with_error_fails_the_job(collector_a, job):
    claim(collector_a, job.pk)
    response = post_results(collector_a, job.pk, [], done=3, finished=True, error="no route to 127.77.0.0/28")
    assert response.json()["status"] == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "no route to 127.77.0.0/28"


def test_cancelled_job_answers_409_to_claim_and_results(collector_a, job):
    assert claim(collector_a, job.pk).status_code == 200
    discovery_job_cancel(job=job)
    assert claim(collector_a, job.pk).json() == {"detail": "job cancelled"}
    response = post_results(collector_a, job.pk, [], done=1)
    assert response.status_code == 409
    assert response.json()["detail"] == "job cancelled"


def test_invalid_results_are_rejected_by_index_and_the_others_kept(collector_a, job, inv):
    claim(collector_a, job.pk)
    good = result("127.77.0.3", inv.profiles[0].pk)
    outside = result("127.78.0.3", inv.profiles[0].pk)
    broadcast = result("127.77.0.15", inv.profiles[0].pk)
    foreign_profile = result("127.77.0.4", 999_999)
    bad_types = {**result("127.77.0.5", inv.profiles[0].pk), "interfaces": [{"ifIndex": "one"}]}
    with_nul = result("127.77.0.6", inv.profiles[0].pk, sysDescr="bad\u0000descr")
    bad_oid = result("127.77.0.7", inv.profiles[0].pk, sysObjectID="iso.3.6")
    second_good = result("127.77.0.8", inv.profiles[1].pk)
    response = post_results(
        collector_a, job.pk,
        [good, outside, broadcast, foreign_profile, bad_types, with_nul, bad_oid, "no object", second_good],
        done=8,
    )  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 2
    rejected = {row["index"]: row for row in body["rejected"]}
    assert sorted(rejected) == [1, 2, 3, 4, 5, 6, 7]
    assert "address" in rejected[1]["errors"] and "address" in rejected[2]["errors"]
    assert "profile_id" in rejected[3]["errors"]
    assert "interfaces" in rejected[4]["errors"]
    assert "facts" in rejected[5]["errors"] and "facts" in rejected[6]["errors"]
    assert rejected[1]["address"] == "127.78.0.3"
    assert sorted(m.DiscoveryProposal.objects.values_list("address", flat=True)) == [
        "127.77.0.3",
        "127.77.0.8",
    ]
    job.refresh_from_db()
    assert job.answered == 2 and job.done == 8


def test_a_batch_that_is_not_a_batch_is_400(collector_a, job):
    claim(collector_a, job.pk)
    response = collector_a.post(f"/api/collector/discovery/{job.pk}/results/", {"results": []}, format="json")
    assert response.status_code == 400
    assert "collector" in response.json() and "done" in response.json()


def test_repeated_results_update_one_proposal_and_count_once(collector_a, job, inv):
    claim(collector_a, job.pk)
    for _ in range(2):
        assert (
            post_results(collector_a, job.pk, [result("127.77.0.3", inv.profiles[0].pk)]).status_code == 200
        )
    assert m.DiscoveryProposal.objects.count() == 1
    job.refresh_from_db()
    assert job.answered == 1


def test_secrets_appear_only_in_the_collector_listing(collector_a, job, inv, api):
    claim(collector_a, job.pk)
    post_results(collector_a, job.pk, [result("127.77.0.3", inv.profiles[0].pk)], done=3)
    answers = [
        claim(collector_a, job.pk).content,
        post_results(collector_a, job.pk, [], done=4).content,
        collector_a.get("/api/collector/credential-fetches/").content,
        api.get("/api/collector/credential-fetches/").content,
        api.get("/api/core/object-changes/").content,
    ]
    for answer in answers:
        text = answer.decode()
        assert not any(secret in text for secret in SECRETS), text[:300]


@pytest.mark.django_db(transaction=True)
def test_collectors_racing_to_claim_get_one_200():
    """Four collectors claim one job at once, each thread with its own connection: exactly one 200, the
    others 409. In this process on PostgreSQL; on SQLite in a helper process on a file database (the
    in-memory test database has no file locking), with the production ``transaction_mode=IMMEDIATE``."""
    if connection.vendor == "postgresql":
        report = race(*make_job())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'claims.sqlite3'}"
            out = subprocess.run(
                [sys.executable, "-m", "tests.api.concurrent_claims", url],
                capture_output=True, text=True, timeout=600, cwd=ROOT,
                env={**os.environ, "INFRASTRAND_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": ""},
            )  # fmt: skip
            assert out.returncode == 0, out.stderr[-3000:]
            report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["errors"] == [] and report["alive"] == 0
    codes = sorted(report["answers"].values())
    assert codes == [200, 409, 409, 409], report
    winner = next(name for name, code in report["answers"].items() if code == 200)
    assert report["holder"] == winner


@pytest.mark.parametrize(
    ("interface", "field"),
    [
        ({"ifName": "Gi1"}, "ifIndex"),
        ({"ifIndex": True}, "ifIndex"),
        ({"ifIndex": -1}, "ifIndex"),
        ({"ifIndex": 1, "ifName": 7}, "ifName"),
        ({"ifIndex": 1, "ifAlias": "x" * 256}, "ifAlias"),
        ({"ifIndex": 1, "speed_bps": True}, "speed_bps"),
        ({"ifIndex": 1, "speed_bps": -5}, "speed_bps"),
    ],
)
def test_each_interface_is_checked_and_named(collector_a, job, inv, interface, field):
    claim(collector_a, job.pk)
    row = {**result("127.77.0.3", inv.profiles[0].pk), "interfaces": [{"ifIndex": 0}, interface]}
    (rejected,) = post_results(collector_a, job.pk, [row]).json()["rejected"]
    assert field in rejected["errors"]["interfaces"]["1"]
