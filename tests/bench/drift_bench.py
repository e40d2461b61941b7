"""Drift benchmark: 10,000 devices x 48 interfaces, full recompute and incremental per observation.

    python -m tests.bench.drift_bench [--devices 10000] [--interfaces 48] [--incremental 500]

On PostgreSQL (``infrastrand_bench_drift``, dropped and created). The fleet is written with bulk
inserts: every device documented with its interfaces and observed (facts + the 48 interfaces), about
2% of the interfaces and 5% of the serials disagreeing. Measured:

- **full recompute** (``detect_drift()`` over every device), first run (creates the items) and a second
  (re-detection: last_seen only); goal ≤ 10 s;
- **incremental**: ``detect_drift(devices=[one])`` per device, as after one observation, and the
  collector endpoint's path (a batch of 100 observed devices per call), per device; goal ≤ 2 ms.

Each figure: wall time, this process's CPU (``time.process_time``) and the PostgreSQL backend's CPU
(``/proc/<backend pid>/stat``), with the load average at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from tests.bench.benchdb import fresh_postgres, setup_django

PG_URL = "postgres://postgres@127.0.0.1:5432/infrastrand_bench_drift"
FULL_TARGET_SECONDS = 10.0
INCREMENTAL_TARGET_MS = 2.0


def _build(devices: int, interfaces: int) -> None:
    """The fleet, by bulk inserts (no change log: this measures the engine, not the loading)."""
    from django.db import transaction
    from django.utils import timezone

    from inventory import models as m
    from inventory.models.sortkeys import natural_key

    now = timezone.now()
    maker = m.Manufacturer.objects.create(name="Cisco", slug="cisco")
    device_type = m.DeviceType.objects.create(
        manufacturer=maker, model="C9300-48T", slug="c9300", part_number="C9300-48T"
    )
    role = m.DeviceRole.objects.create(name="Access switch", slug="access-switch")
    sites = [m.Site.objects.create(name=f"Site {i}", slug=f"site-{i}", country="MA") for i in range(20)]
    names = [f"Gi1/0/{port}" for port in range(1, interfaces + 1)]
    for start in range(0, devices, 1000):
        with transaction.atomic():
            batch = m.Device.objects.bulk_create(
                m.Device(
                    name=f"sw{index:05d}",
                    site=sites[index % len(sites)],
                    role=role,
                    device_type=device_type,
                    serial=f"FOC{index:06d}",
                )
                for index in range(start, min(start + 1000, devices))
            )
            documented, observed = [], []
            for device in batch:
                index = int(device.name[2:])
                ports = []
                for port, name in enumerate(names, start=1):
                    mac = f"00:aa:{index >> 8 & 255:02x}:{index & 255:02x}:00:{port:02x}"
                    documented.append(
                        m.Interface(
                            device=device,
                            name=name,
                            _name=natural_key(name),
                            type="1000base-t",
                            speed=1_000_000,
                            mac_address=mac.upper(),
                            description=f"port {port}",
                            enabled=True,
                        )
                    )
                    drifting = (index * interfaces + port) % 50 == 0  # 2% of the interfaces
                    ports.append(
                        {
                            "ifIndex": port,
                            "ifName": name,
                            "ifDescr": f"GigabitEthernet1/0/{port}",
                            "ifAlias": f"port {port}" if not drifting else "moved",
                            "ifAdminStatus": "up",
                            "ifOperStatus": "up" if port % 3 else "down",
                            "speed_bps": 1_000_000_000,
                            "mac": mac,
                        }
                    )
                facts = {
                    "sysName": f"sw{index:05d}.example.net",
                    "sysDescr": "Cisco IOS Software",
                    "sysObjectID": "1.3.6.1.4.1.9.1.2494",
                    "uptime_seconds": 1000.0,
                    "serial": f"FOC{index:06d}" if index % 20 else f"NEW{index:06d}",
                    "model": "C9300-48T",
                }
                observed.append(
                    m.DeviceObservation(
                        device=device,
                        collector="bench",
                        polled_at=now,
                        answered_at=now,
                        up=True,
                        facts=facts,
                        interfaces=ports,
                    )
                )
            m.Interface.objects.bulk_create(documented, batch_size=5000)
            m.DeviceObservation.objects.bulk_create(observed, batch_size=500)


def _backend_cpu() -> float:
    """CPU seconds the PostgreSQL backend serving this connection has used (same machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(label: str, fn) -> dict:
    wall0, cpu0, db0 = time.perf_counter(), time.process_time(), _backend_cpu()
    result = fn()
    wall, cpu, db = time.perf_counter() - wall0, time.process_time() - cpu0, _backend_cpu() - db0
    return {"label": label, "wall_s": wall, "cpu_s": cpu, "db_cpu_s": db, "result": result}


def run(devices: int, interfaces: int, incremental: int, reuse: bool = False) -> dict:
    if not reuse:
        fresh_postgres(PG_URL)
    setup_django(PG_URL)
    from django.db import connection

    from inventory.models import Device, DriftItem
    from inventory.services.drift import detect_drift

    load = os.getloadavg()
    t0 = time.perf_counter()
    if reuse:  # the fleet of an earlier run, its drift items cleared
        DriftItem.objects.all().delete()
        devices = Device.objects.count()
        interfaces = Device.objects.first().interfaces.count()
    else:
        _build(devices, interfaces)
    build_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    first = _measure("full recompute, first run", lambda: vars(detect_drift()))
    second = _measure("full recompute, re-detection", lambda: vars(detect_drift()))
    ids = list(Device.objects.order_by("pk").values_list("pk", flat=True)[:incremental])
    one = _measure(
        "incremental, 1 device per run", lambda: [detect_drift(devices=[pk]) for pk in ids] and None
    )
    batched = _measure(
        "incremental, 100 per run (endpoint)",
        lambda: [detect_drift(devices=ids[i : i + 100]) for i in range(0, len(ids), 100)] and None,
    )
    return {
        "devices": devices,
        "interfaces_per_device": interfaces,
        "build_s": build_s,
        "open_items": DriftItem.objects.active().count(),
        "loadavg_start": load,
        "loadavg_end": os.getloadavg(),
        "full": [first, second],
        "incremental_devices": len(ids),
        "incremental": [one, batched],
    }


def report(row: dict) -> None:
    """The figures, with the goal judged on wall time and on CPU (this process + the PostgreSQL backend)."""
    print(
        f"\nDrift benchmark: {row['devices']:,} devices x {row['interfaces_per_device']} interfaces "
        f"(fleet built in {row['build_s']:.0f} s; {row['open_items']:,} open items; load average "
        f"{row['loadavg_start'][0]:.1f} -> {row['loadavg_end'][0]:.1f})"
    )
    print(f"{'':40} {'wall':>9} {'CPU':>9} {'PG CPU':>9}   goal (wall / CPU+PG CPU)")
    for item in row["full"]:
        total = item["cpu_s"] + item["db_cpu_s"]
        print(
            f"{item['label']:40} {item['wall_s']:8.2f}s {item['cpu_s']:8.2f}s {item['db_cpu_s']:8.2f}s"
            f"   <= {FULL_TARGET_SECONDS:.0f} s: {_met(item['wall_s'], FULL_TARGET_SECONDS)}"
            f" / {_met(total, FULL_TARGET_SECONDS)}"
        )
    n = row["incremental_devices"]
    for item in row["incremental"]:
        per = {key: item[key] * 1000 / n for key in ("wall_s", "cpu_s", "db_cpu_s")}
        total = per["cpu_s"] + per["db_cpu_s"]
        print(
            f"{item['label'][:40]:40} {per['wall_s']:7.3f}ms {per['cpu_s']:7.3f}ms {per['db_cpu_s']:7.3f}ms"
            f"   <= {INCREMENTAL_TARGET_MS:.0f} ms/device: {_met(per['wall_s'], INCREMENTAL_TARGET_MS)}"
            f" / {_met(total, INCREMENTAL_TARGET_MS)}"
        )


def _met(value: float, goal: float) -> str:
    return "met" if value <= goal else "NOT met"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--interfaces", type=int, default=48)
    ap.add_argument("--incremental", type=int, default=500)
    ap.add_argument("--json", action="store_true", help="Print the figures as JSON too")
    ap.add_argument("--reuse", action="store_true", help="Measure on the fleet an earlier run built")
    args = ap.parse_args(argv)
    row = run(args.devices, args.interfaces, args.incremental, reuse=args.reuse)
    report(row)
    if args.json:
        print(json.dumps(row, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
