"""Import benchmark: 100,000 devices from one CSV file, on SQLite and on PostgreSQL, all or nothing.

    python -m tests.bench.import_bench [--rows 100000] [--anchor-rows 500] [--only sqlite|postgres]

Each database runs in its own process on a fresh database (SQLite: a temporary file; PostgreSQL:
``infrastrand_bench_import``, dropped and created). The import is the production path
(``importer.parse`` + ``importer.run``: every row checked, bulk writes, one change record per object),
timed wall and CPU. The **anchor**, measured in the same run, is the way objects are written one by one
(``services.create_object``: validate, save, change-log signals), per row, on ``--anchor-rows`` rows.
Target: 100,000 devices in at most 120 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.benchdb import fresh_postgres, setup_django

PG_URL = "postgres://postgres@127.0.0.1:5432/infrastrand_bench_import"
TARGET_SECONDS = 120.0


def _base_objects() -> None:
    """The sites, roles, types and tags the device rows name (10 sites, 2 tenants)."""
    from inventory import models as m
    from inventory import services

    def make(model_class, **data):
        return services.create_object(model=model_class, data=data)

    maker = make(m.Manufacturer, name="Cisco", slug="cisco")
    make(m.DeviceType, manufacturer=maker, model="C8300", slug="c8300")
    make(m.DeviceRole, name="Access switch", slug="access-switch")
    make(m.Platform, name="IOS-XE", slug="ios-xe")
    for slug in ("add", "ctie"):
        make(m.Tenant, name=slug.upper(), slug=slug)
    for slug in ("core", "edge"):
        make(m.Tag, name=slug.title(), slug=slug)
    for index in range(10):
        make(m.Site, name=f"Site {index}", slug=f"site-{index}", country="MA")


def _csv(rows: int, prefix: str) -> str:
    lines = ["name,site,role,device_type,platform,tenant,status,serial,tags"]
    for index in range(rows):
        tenant = ("add", "ctie", "")[index % 3]
        tags = ('"core,edge"', "core", "")[index % 3]
        lines.append(
            f"{prefix}-{index:06d},site-{index % 10},access-switch,C8300,ios-xe,{tenant},active,"
            f"SN{index:08d},{tags}"
        )
    return "\n".join(lines) + "\n"


def _anchor(rows: int) -> dict:
    """Per-row writes through the services (what every import did before): CPU and wall per row."""
    from django.db import transaction

    from inventory import models as m
    from inventory import services

    site = m.Site.objects.get(slug="site-0")
    role, device_type = m.DeviceRole.objects.get(), m.DeviceType.objects.get()
    wall, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        for index in range(rows):
            services.create_object(
                model=m.Device,
                data={"name": f"anchor-{index}", "site": site, "role": role, "device_type": device_type},
            )
        transaction.set_rollback(True)
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "rows": rows}


def run_one(url: str, rows: int, anchor_rows: int) -> dict:
    """In this process: a fresh database, the base objects, the anchor, then the timed import."""
    setup_django(url)
    from inventory import importer
    from inventory import models as m

    _base_objects()
    anchor = _anchor(anchor_rows)
    text = _csv(rows, "dev")
    server = _server_cpu()
    wall, cpu = time.perf_counter(), time.process_time()
    stages: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        stages.setdefault(stage, time.perf_counter() - wall)

    parsed = importer.parse(text, format="csv", model="devices")
    parse_phase = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    result = importer.run(parsed, model="devices", progress=progress)
    elapsed, used = time.perf_counter() - wall, time.process_time() - cpu
    server_used = _server_cpu() - server
    created = m.Device.objects.filter(name__startswith="dev-").count()
    changes = m.ObjectChange.objects.filter(changed_object_type__model="device", action="create").count()
    if created != rows or len(result.created) != rows or changes < rows:
        raise RuntimeError(f"imported {created} devices, {changes} change records; expected {rows}")
    return {
        "rows": rows,
        "wall": elapsed,
        "cpu": used,
        "writing_started": stages.get("writing", elapsed),
        "phases": {"parse": parse_phase, **result.phases},
        "server_cpu": server_used,
        "load": os.getloadavg()[0],
        "anchor": anchor,
    }


def _server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend process (0 on SQLite: it is in-process)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # a server on another host: its CPU is not visible here
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _report(name: str, row: dict) -> list[str]:
    anchor = row["anchor"]
    anchor_cpu = anchor["cpu"] / anchor["rows"] * 1e6
    ours_cpu = row["cpu"] / row["rows"] * 1e6
    projected = anchor["wall"] / anchor["rows"] * row["rows"]
    verdict = "OK" if row["wall"] <= TARGET_SECONDS else "OVER TARGET"
    cpu_verdict = "OK" if row["cpu"] + row["server_cpu"] <= TARGET_SECONDS else "OVER TARGET"
    phases = ", ".join(
        f"{phase} {row['rows'] / max(spent['wall'], 1e-9):.0f} rows/s ({spent['wall']:.1f} s wall, "
        f"{spent['cpu']:.1f} s CPU)"
        for phase, spent in row["phases"].items()
    )
    server = f" + {row['server_cpu']:.1f} s database server CPU" if row["server_cpu"] else ""
    return [
        f"{name}: {row['rows']} devices imported in {row['wall']:.1f} s wall "
        f"({row['cpu']:.1f} s CPU{server}), {row['rows'] / row['wall']:.0f} rows/s, "
        f"{ours_cpu:.0f} µs CPU/row, load {row['load']:.1f} "
        f"[target ≤ {TARGET_SECONDS:.0f} s: wall {verdict}, CPU {cpu_verdict}]",
        f"{'':{len(name)}}  phases: {phases}",
        f"{'':{len(name)}}  anchor (per-row services.create_object, {anchor['rows']} rows): "
        f"{anchor_cpu:.0f} µs CPU/row, {projected:.0f} s projected for {row['rows']} rows; "
        f"import is {anchor_cpu / ours_cpu:.1f}x less CPU per row",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--anchor-rows", type=int, default=500)
    ap.add_argument("--only", choices=("sqlite", "postgres"))
    ap.add_argument("--child", help=argparse.SUPPRESS)  # internal: run one database in this process
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child, args.rows, args.anchor_rows)))
        return 0
    failed = False
    with tempfile.TemporaryDirectory(prefix="infrastrand-import-bench-") as tmp:
        databases = {"SQLite": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "PostgreSQL": PG_URL}
        for name, url in databases.items():
            if args.only and not name.lower().startswith(args.only[:4]):
                continue
            if name == "PostgreSQL":
                fresh_postgres(url)
            cmd = [sys.executable, "-m", "tests.bench.import_bench", "--child", url,
                   "--rows", str(args.rows), "--anchor-rows", str(args.anchor_rows)]  # fmt: skip
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
            if out.returncode:
                print(f"{name}: FAILED\n{out.stderr[-3000:]}", flush=True)
                failed = True
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            for line in _report(name, row):
                print(line, flush=True)
            failed = failed or row["wall"] > TARGET_SECONDS
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
