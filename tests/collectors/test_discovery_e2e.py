"""Discovery end to end (issue 15.1): a job created through the inventory's API is swept by a real
``python -m collectors`` process holding a group-bound collector token, against the simulated /28 of
``test_discovery.py``, and its answers arrive in the live inventory as proposals; the device that is
already documented is matched, not proposed as new."""

from __future__ import annotations

import time

import httpx
import pytest

from collectors.sim.ports import CHASSIS_MODELS, chassis_serial

from .discovery_inventory import GROUP, PREFIX, Lab
from .test_runner import Runner

pytestmark = pytest.mark.slow


def seed(lab: Lab) -> dict:
    """The group, two v2c profiles (first, second), and the documented switch ``disc-sw2``."""
    from inventory import models as m
    from inventory.services.tokens import token_create

    group = m.CollectorGroup.objects.create(name="MA Casablanca", slug=GROUP, exporter_address="127.0.0.1:1")
    profiles = [
        m.SnmpProfile.objects.create(
            name=f"disc-{which}",
            version="2c",
            community=f"disc-{which}",
            port=lab.port,
            timeout=1.0,
            retries=0,
            modules=["system", "if_mib"],
        )
        for which in ("first", "second")
    ]
    site = m.Site.objects.create(name="Casablanca DC1", slug="casablanca-dc1", country="MA")
    vendor = m.Manufacturer.objects.create(name="NetCo", slug="netco")
    dtype = m.DeviceType.objects.create(manufacturer=vendor, model="NX-4800", slug="nx-4800")
    role = m.DeviceRole.objects.create(name="Access switch", slug="access-switch")
    documented = m.Device.objects.create(
        name="disc-sw2", site=site, device_type=dtype, role=role, status="active",
        serial=chassis_serial("disc-sw2"),
    )  # fmt: skip
    admin, admin_key, _ = token_create(username="disc-admin", write_enabled=True)
    admin.user.is_superuser = True
    admin.user.save()
    _, collector_key, _ = token_create(username="disc-collector", collector=True, groups=(GROUP,))
    return {
        "group": group, "profiles": profiles, "documented": documented, "devices": m.Device.objects.count(),
        "admin": admin_key, "collector": collector_key,
    }  # fmt: skip


def wait_for(predicate, runner: Runner, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert runner.proc.poll() is None, runner.log.read_text()
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} not reached in {timeout} s\n{runner.log.read_text()[-3000:]}")


@pytest.mark.django_db(transaction=True)
def test_a_sweep_becomes_proposals_and_the_documented_device_is_matched(live_server, lab, tmp_path):
    from inventory import models as m

    data = seed(lab)
    url = live_server.url.replace("localhost", "127.0.0.1")
    api = httpx.Client(base_url=url, headers={"Authorization": f"Token {data['admin']}"}, timeout=30)
    first, second = data["profiles"]
    created = api.post(
        "/api/discovery/jobs/",
        json={"prefix": PREFIX, "group": data["group"].pk, "profiles": [first.pk, second.pk],
              "port": lab.port, "timeout": 0.5, "rate": 100},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    runner = Runner(["--inventory-url", url, "--group", GROUP, "--token", data["collector"]], tmp_path)
    try:

        def completed() -> dict | None:
            job = api.get(f"/api/discovery/jobs/{job_id}/").json()
            return job if job["status"]["value"] in ("completed", "failed") else None

        job = wait_for(completed, runner, 120, "the job completed")
        assert job["status"]["value"] == "completed" and job["error"] == "", job
        assert job["done"] == 14 and job["answered"] == 4 and job["claimed_by"] == "test-collector"
        proposals = api.get("/api/discovery/proposals/", params={"job_id": job_id, "limit": 100}).json()
    finally:
        assert runner.terminate() == 0
        api.close()
    rows = {p["address"]: p for p in proposals["results"]}
    assert sorted(rows) == sorted(f"127.91.0.{o}" for o in (2, 5, 9, 12)), rows
    new = {a: p for a, p in rows.items() if p["status"]["value"] == "open"}
    assert {p["name"] for p in new.values()} == {"disc-sw1", "disc-rtr", "disc-ups"}
    assert {p["name"]: p["profile"]["id"] for p in new.values()} == {
        "disc-sw1": first.pk, "disc-rtr": second.pk, "disc-ups": first.pk,
    }  # fmt: skip
    sw1 = new["127.91.0.2"]
    assert sw1["serial"] == chassis_serial("disc-sw1") and sw1["facts"]["model"] == CHASSIS_MODELS["switch"]
    assert len(sw1["interfaces"]) == 48
    duplicate = rows["127.91.0.12"]  # the documented switch: matched by its serial, not a new device
    assert duplicate["status"]["value"] != "open", duplicate
    assert duplicate["matched_device"]["id"] == data["documented"].pk
    assert m.Device.objects.count() == data["devices"]  # proposals only: nothing created
    assert m.CredentialFetch.objects.filter(group_slug=GROUP).exists()  # the job's credentials were fetched
