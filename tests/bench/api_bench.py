"""API latency benchmark on PostgreSQL: 10,000 devices x 48 interfaces, median of several runs.

    python -m tests.bench.api_bench [--devices 10000] [--interfaces 48] [--runs 7] [--database-url URL]

Uses its own database (default ``postgres://postgres@127.0.0.1:5432/infrastrand_bench``, created and
migrated when missing; the data is bulk-loaded once and reused while its size matches). Requests go
through Django's full stack in-process (middleware, token auth, DRF, JSON rendering; no socket), with
``DEBUG`` off. Prints the median and p90 latency per endpoint; the target is the 1,000-device page under
0.5 s. Every loop is bounded by ``--runs``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from urllib.parse import urlparse

from tests.bench.benchdb import setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/infrastrand_bench"
TARGET_SECONDS = 0.5
GROUP_SIZE = 1000


def _ensure_database(url: str) -> None:
    """CREATE DATABASE if it does not exist (connecting to the server's ``postgres`` database)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # a concurrent run made it meanwhile
                conn.execute(f'CREATE DATABASE "{name}"')


def _reusable(devices: int, interfaces: int) -> bool:
    """The database already holds this size of data, readable with the benchmark's key."""
    from inventory import models as m
    from inventory.crypto import SecretDecryptionError

    try:
        list(m.SnmpProfile.objects.all())
    except SecretDecryptionError:
        return False
    return m.Device.objects.count() == devices and m.Interface.objects.count() == devices * interfaces


def _load(devices: int, interfaces: int) -> None:
    """Bulk-load the inventory (no change log: this is benchmark data, not a write path)."""
    from django.db import connection, transaction

    from inventory import models as m
    from inventory.models.sortkeys import natural_key

    if _reusable(devices, interfaces):
        print(f"reusing {devices} devices x {interfaces} interfaces", file=sys.stderr)
        return
    started = time.perf_counter()
    with transaction.atomic():
        tables = [
            model._meta.db_table
            for model in (
                m.DeviceObservation,
                m.IPAddress,
                m.Interface,
                m.Device,
                m.Site,
                m.Region,
                m.Tenant,
                m.TenantGroup,
                m.DeviceType,
                m.Manufacturer,
                m.DeviceRole,
                m.Platform,
                m.SnmpProfile,
                m.CollectorGroup,
                m.Tag,
                m.ObjectChange,
            )
        ]
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        group = m.TenantGroup.objects.create(name="Agencies", slug="agencies")
        tenants = m.Tenant.objects.bulk_create(
            [m.Tenant(name=f"Agency {i}", slug=f"agency-{i}", group=group) for i in range(8)]
        )
        regions = m.Region.objects.bulk_create(
            [m.Region(name=f"Region {i}", slug=f"region-{i}") for i in range(6)]
        )
        sites = m.Site.objects.bulk_create(
            [
                m.Site(
                    name=f"Site {i}",
                    slug=f"site-{i}",
                    country=("MA", "LU")[i % 2],
                    region=regions[i % 6],
                    tenant=tenants[i % 8],
                    strands=["infrastructure", "e-government"][: 1 + i % 2],
                    latitude=30 + i / 10,
                    longitude=-7 + i / 10,
                )
                for i in range(40)
            ]
        )
        maker = m.Manufacturer.objects.create(name="Vendor", slug="vendor")
        types = m.DeviceType.objects.bulk_create(
            [m.DeviceType(manufacturer=maker, model=f"Model {i}", slug=f"model-{i}") for i in range(5)]
        )
        roles = m.DeviceRole.objects.bulk_create(
            [m.DeviceRole(name=f"Role {i}", slug=f"role-{i}") for i in range(4)]
        )
        platform = m.Platform.objects.create(name="OS", slug="os", manufacturer=maker)
        profile = m.SnmpProfile(name="v2c", version="2c", community="bench-community")
        profile.save()
        groups = m.CollectorGroup.objects.bulk_create(
            [
                m.CollectorGroup(name=f"Group {i}", slug=f"group-{i}", exporter_address="127.0.0.1:9781")
                for i in range((devices + GROUP_SIZE - 1) // GROUP_SIZE)
            ]
        )
        tags = m.Tag.objects.bulk_create([m.Tag(name=f"Tag {i}", slug=f"tag-{i}") for i in range(3)])
        batch = 2000
        for start in range(0, devices, batch):
            chunk = m.Device.objects.bulk_create(
                [
                    m.Device(
                        name=f"dev-{i:05d}",
                        site=sites[i % 40],
                        tenant=sites[i % 40].tenant,
                        device_type=types[i % 5],
                        role=roles[i % 4],
                        platform=platform,
                        status="active",
                        serial=f"SN{i:06d}",
                        snmp_profile=profile,
                        collector_group=groups[i // GROUP_SIZE],
                        monitored=True,
                    )
                    for i in range(start, min(devices, start + batch))
                ]
            )
            through = m.Device.tags.through
            through.objects.bulk_create([through(device_id=d.pk, tag_id=tags[d.pk % 3].pk) for d in chunk])
            ifaces = m.Interface.objects.bulk_create(
                [
                    m.Interface(
                        device=d,
                        name=f"Gi0/{j}",
                        _name=natural_key(f"Gi0/{j}"),
                        type="1000base-t",
                        speed=1_000_000,
                    )
                    for d in chunk
                    for j in range(interfaces)
                ],
                batch_size=5000,
            )
            if interfaces:
                first = {iface.device_id: iface for iface in ifaces if iface.name == "Gi0/0"}
                new_ips = [
                    m.IPAddress(
                        address=f"10.{d.pk // 65536}.{d.pk // 256 % 256}.{d.pk % 256}/16",
                        assigned_object=first[d.pk],
                    )
                    for d in chunk
                ]
                for ip in new_ips:
                    ip.set_value_keys()  # bulk_create skips save(), which fills the sort keys
                ips = m.IPAddress.objects.bulk_create(new_ips)
                for device, ip in zip(chunk, ips, strict=True):
                    device.primary_ip4 = ip
                m.Device.objects.bulk_update(chunk, ["primary_ip4"], batch_size=1000)
            print(f"  loaded {min(devices, start + batch)} devices", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def _tokens() -> tuple[str, str]:
    from inventory.services.tokens import token_create

    admin, key, _ = token_create(username="bench-admin", write_enabled=False)
    admin.user.is_superuser = True
    admin.user.save()
    _, collector_key, _ = token_create(username="bench-collector", collector=True, groups=["group-0"])
    return key, collector_key


def _measure(client, url: str, header: str, runs: int, expect: int = 200, **extra) -> dict:
    client.get(url, HTTP_AUTHORIZATION=header, **extra)  # warm-up (connection, caches)
    times, cpu = [], []
    size = 0
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url, HTTP_AUTHORIZATION=header, **extra)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        assert response.status_code == expect, (url, response.status_code, response.content[:300])
        size = len(response.content)
    times.sort()
    return {
        "url": url,
        "median_s": statistics.median(times),
        "p90_s": times[min(len(times) - 1, int(len(times) * 0.9))],
        "cpu_s": statistics.median(cpu),
        "bytes": size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--interfaces", type=int, default=48)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--database-url", default=os.environ.get("INFRASTRAND_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    args = parser.parse_args(argv)
    _ensure_database(args.database_url)
    setup_django(args.database_url)
    _load(args.devices, args.interfaces)
    from django.test import Client

    from inventory.models import Device

    key, collector_key = _tokens()
    token, collector = f"Token {key}", f"Token {collector_key}"
    client = Client()
    device_id = Device.objects.order_by("pk").values_list("pk", flat=True)[args.devices // 2]
    results = [
        _measure(client, "/api/dcim/devices/?limit=1000", token, args.runs),
        _measure(client, "/api/dcim/devices/?limit=1000&brief=1", token, args.runs),
        _measure(client, f"/api/dcim/interfaces/?device_id={device_id}", token, args.runs),
        _measure(client, "/api/dcim/interfaces/?limit=1000", token, args.runs),
        _measure(client, "/api/ipam/ip-addresses/?limit=1000", token, args.runs),
        # anchor: the same page ordered as text (the old default ordering, not index-backed)
        _measure(client, "/api/ipam/ip-addresses/?limit=1000&ordering=address", token, args.runs),
        _measure(client, "/api/ipam/ip-addresses/?parent=10.0.1.0/24", token, args.runs),
        _measure(client, "/api/prometheus/sd/devices/?monitored=true", token, args.runs),
        _measure(client, "/api/collector/targets/?group=group-0", collector, args.runs),
    ]
    etag = client.get("/api/collector/targets/?group=group-0", HTTP_AUTHORIZATION=collector)["ETag"]
    results.append(
        _measure(
            client,
            "/api/collector/targets/?group=group-0",
            collector,
            args.runs,
            304,
            HTTP_IF_NONE_MATCH=etag,
        )
    )
    print(
        f"\ninfrastrand API on PostgreSQL: {args.devices} devices x {args.interfaces} interfaces, "
        f"median of {args.runs} runs (in-process, full Django stack)"
    )
    print(f"{'endpoint':<58} {'median':>9} {'p90':>9} {'CPU':>9} {'bytes':>10}")
    for row in results:
        label = row["url"] + (" (304)" if row is results[-1] else "")
        print(
            f"{label:<58} {row['median_s'] * 1000:>7.1f}ms {row['p90_s'] * 1000:>7.1f}ms "
            f"{row['cpu_s'] * 1000:>7.1f}ms {row['bytes']:>10}"
        )
    print("(median, p90: wall time; CPU: this process's CPU time, i.e. the server side without PostgreSQL)")
    print(f"machine load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    device_page = results[0]["median_s"]
    verdict = "OK" if device_page < TARGET_SECONDS else "MISSED"
    print(f"target: device list of 1000 < {TARGET_SECONDS} s: {device_page:.3f} s {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
