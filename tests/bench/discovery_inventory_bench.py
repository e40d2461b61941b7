"""Discovery, inventory side: what a /22 sweep's results and their approval cost the inventory.

    python -m tests.bench.discovery_inventory_bench [--devices 1000] [--prefix-length 22] [--answering 0.1] \
        [--rounds 3]
    python -m tests.bench.discovery_inventory_bench --sqlite

On PostgreSQL (``infrastrand_bench_discovery``, dropped and created) or SQLite (temporary file). The inventory
holds ``--devices`` documented devices (each with an interface and an IP, so de-duplication has something to
search); each round starts a sweep of a fresh /22, claims it and posts the answering addresses' results (10 %,
each with 48 interfaces) through the real collector endpoint in batches of 50 (as the collector does), then
approves every proposal in one bulk API call. Printed per round: wall, this process's CPU
(``time.process_time``) and the PostgreSQL backend's CPU (``/proc/<pid>/stat``), per result and per approved
device, with the load average. Bounded: ``--rounds`` rounds of one sweep each.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import time

from tests.bench.benchdb import fresh_postgres, setup_django

PG_URL = "postgres://postgres@127.0.0.1:5432/infrastrand_bench_discovery"
BATCH = 50
CISCO_C9300 = "1.3.6.1.4.1.9.1.2494"


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (0 on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _build(devices: int):
    from inventory import models as m
    from inventory.services.tokens import token_create

    manufacturer = m.Manufacturer.objects.create(name="Cisco", slug="cisco")
    device_type = m.DeviceType.objects.create(manufacturer=manufacturer, model="C9300", slug="c9300")
    role = m.DeviceRole.objects.create(name="Access", slug="access")
    site = m.Site.objects.create(name="Bench", slug="bench", country="MA")
    group = m.CollectorGroup.objects.create(name="Bench", slug="bench", exporter_address="127.0.0.1:9781")
    profile = m.SnmpProfile.objects.create(name="bench-v2c", community="bench-community-1")
    built = m.Device.objects.bulk_create(
        m.Device(name=f"doc-{i:05d}", site=site, role=role, device_type=device_type, serial=f"DOC{i:06d}")
        for i in range(devices)
    )
    interfaces = [m.Interface(device=device, name="mgmt0", type="virtual") for device in built]
    for interface in interfaces:
        interface.set_stored_values()
    m.Interface.objects.bulk_create(interfaces)
    addresses = []
    for i, interface in enumerate(interfaces):
        ip = m.IPAddress(address=f"{ipaddress.ip_address(int(ipaddress.ip_address('10.200.0.0')) + i)}/16",
                         assigned_object=interface)  # fmt: skip
        ip.set_stored_values()
        addresses.append(ip)
    m.IPAddress.objects.bulk_create(addresses)
    _, collector_key, _ = token_create(username="bench-collector", collector=True, groups=["bench"])
    _, admin_key, _ = token_create(username="bench-admin", write_enabled=True)
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="bench-admin").update(is_superuser=True)
    return {"group": group, "profile": profile, "site": site, "role": role}, collector_key, admin_key


def _result(address: str, profile_id: int, n: int) -> dict:
    return {
        "address": address,
        "profile_id": profile_id,
        "facts": {"sysName": f"found-{n:05d}", "sysDescr": "Cisco IOS XE", "sysObjectID": CISCO_C9300,
                  "uptime_seconds": 1000.0 + n, "serial": f"NEW{n:06d}", "model": "C9300-48P"},
        "interfaces": [
            {"ifIndex": k, "ifName": f"Gi1/0/{k}", "ifDescr": f"GigabitEthernet1/0/{k}", "ifAlias": "",
             "ifAdminStatus": "up", "ifOperStatus": "up" if k % 3 else "down", "speed_bps": 10**9,
             "mac": f"00:11:22:{n >> 8 & 255:02x}:{n & 255:02x}:{k:02x}"}
            for k in range(1, 49)
        ],
    }  # fmt: skip


def _round(
    number: int, objects: dict, collector, admin, prefix_length: int, answering: float, approve: bool = True
) -> dict:
    from inventory import models as m
    from inventory.services.discovery import discovery_job_create, job_hosts

    prefix = f"10.{100 + number}.0.0/{prefix_length}"
    job = discovery_job_create(
        data={"prefix": prefix, "group": objects["group"], "profiles": [objects["profile"]],
              "site": objects["site"], "role": objects["role"]}
    )  # fmt: skip
    hosts = list(job_hosts(prefix))
    step = max(1, round(1 / answering))
    answered = hosts[::step]
    assert (
        collector.post(
            f"/api/collector/discovery/{job.pk}/claim/", {"collector": "c1"}, format="json"
        ).status_code
        == 200
    )
    cpu0, db0, wall0 = time.process_time(), _backend_cpu(), time.perf_counter()
    for start in range(0, len(answered), BATCH):
        batch = [
            _result(a, objects["profile"].pk, number * 10_000 + start + i)
            for i, a in enumerate(answered[start : start + BATCH])
        ]
        last = start + BATCH >= len(answered)
        response = collector.post(
            f"/api/collector/discovery/{job.pk}/results/",
            {"collector": "c1", "done": hosts.index(answered[min(start + BATCH, len(answered)) - 1]) + 1,
             "finished": last, "results": batch},
            format="json",
        )  # fmt: skip
        assert response.status_code == 200 and response.json()["rejected"] == [], response.content[:300]
    ingest = (time.process_time() - cpu0, _backend_cpu() - db0, time.perf_counter() - wall0)
    ids = list(m.DiscoveryProposal.objects.filter(job=job, status="open").values_list("pk", flat=True))
    results = len(answered)
    figures = {
        "round": number,
        "addresses": len(hosts),
        "results": results,
        "ingest_wall_s": round(ingest[2], 3),
        "ingest_cpu_ms_per_result": round(ingest[0] * 1000 / results, 2),
        "ingest_db_cpu_ms_per_result": round(ingest[1] * 1000 / results, 2),
    }
    if not approve:
        return {**figures, "load_average": os.getloadavg()}
    cpu0, db0, wall0 = time.process_time(), _backend_cpu(), time.perf_counter()
    response = admin.post("/api/discovery/proposals/approve/", {"ids": ids}, format="json")
    approve = (time.process_time() - cpu0, _backend_cpu() - db0, time.perf_counter() - wall0)
    assert response.status_code == 200, response.content[:500]
    return {
        **figures,
        "approve_wall_s": round(approve[2], 3),
        "approve_cpu_ms_per_device": round(approve[0] * 1000 / len(ids), 2),
        "approve_db_cpu_ms_per_device": round(approve[1] * 1000 / len(ids), 2),
        "load_average": os.getloadavg(),
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--prefix-length", type=int, default=22)
    ap.add_argument("--answering", type=float, default=0.1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-approve", action="store_true", help="Measure the results endpoint only")
    ap.add_argument(
        "--sqlite", action="store_true", help="SQLite in a temporary directory instead of PostgreSQL"
    )
    args = ap.parse_args(argv)
    if args.sqlite:
        setup_django("")
    else:
        fresh_postgres(PG_URL)
        setup_django(PG_URL)
    from rest_framework.test import APIClient

    objects, collector_key, admin_key = _build(args.devices)
    collector, admin = APIClient(), APIClient()
    collector.credentials(HTTP_AUTHORIZATION=f"Token {collector_key}")
    admin.credentials(HTTP_AUTHORIZATION=f"Token {admin_key}")
    print(json.dumps({"load_average_start": os.getloadavg(), "devices": args.devices}))
    for number in range(args.rounds):
        print(
            json.dumps(
                _round(
                    number,
                    objects,
                    collector,
                    admin,
                    args.prefix_length,
                    args.answering,
                    not args.skip_approve,
                )
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
