"""A healthy, contract-4-shaped stand-in for the inventory and a collector, for config tests.

It serves what DEVELOPERS.md contract 4 promises (http_sd with ``__meta_infrastrand_*`` labels,
``/snmp?target=`` device expositions with snmp_exporter names, the collector's ``/metrics``, the
inventory's ``/metrics`` with ``infrastrand_site_info``), with counters moving with the clock. The
real components replace it in the end-to-end test; this one lets deploy/ be proven on its own.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.servers import Route, StaticServer, free_port, instant_query, prometheus, wait_until

TOKEN = "sd-token-for-tests"
BOOT = time.time() - 10 * 86400  # the simulated devices booted ten days ago
POLL_EVERY = 2.0  # seconds between simulated polls

SITES = {
    "casablanca-dc1": {
        "country": "MA",
        "region": "grand-casablanca",
        "tenant": "ma-dda-demo",
        "lat": "33.5731",
        "lon": "-7.5898",
    },
    "luxembourg-dc1": {
        "country": "LU",
        "region": "luxembourg",
        "tenant": "lu-gitc-demo",
        "lat": "49.6116",
        "lon": "6.1319",
    },
}
# name -> (site, tenant, role, strands as http_sd gives them, modules)
DEVICES = {
    "casa-core-rtr01": (
        "casablanca-dc1",
        "ma-dda-demo",
        "core-router",
        ",e-government,infrastructure,",
        ("if_mib", "entity_sensor", "lldp"),
    ),
    "lux-srv01": (
        "luxembourg-dc1",
        "lu-gitc-demo",
        "server",
        ",infrastructure,",
        ("if_mib", "host_resources", "ucd"),
    ),
    "lux-ups01": ("luxembourg-dc1", "lu-gitc-demo", "ups", ",infrastructure,", ("ups_mib",)),
}
UNPOLLED = "rabat-sw09"  # in the inventory but without a collector group: Prometheus must drop it


def sd_targets(collector: str) -> list[dict]:
    """The inventory's http_sd answer."""
    groups = []
    for index, (name, (site, tenant, role, strands, _)) in enumerate(DEVICES.items(), start=1):
        groups.append(_sd_group(index, name, site, tenant, role, strands, collector))
    groups.append(_sd_group(99, UNPOLLED, "casablanca-dc1", "ma-dda-demo", "access-switch", "", ""))
    return groups


def _sd_group(index: int, name: str, site: str, tenant: str, role: str, strands: str, collector: str) -> dict:
    info = SITES[site]
    labels = {
        "device": name,
        "device_id": str(index),
        "site": site,
        "region": info["region"],
        "country": info["country"],
        "tenant": tenant,
        "tenant_group": "agencies",
        "role": role,
        "platform": "sim",
        "device_type": "sim",
        "status": "active",
        "strands": strands,
        "tags": "",
        "collector_group": "main" if collector else "",
        "collector_address": collector,
        "primary_ip": "127.0.0.1",
        "location": "",
        "rack": "",
    }
    return {"targets": [name], "labels": {f"__meta_infrastrand_{k}": v for k, v in labels.items()}}


def _line(name: str, value: float, /, **labels: str) -> str:
    if not labels:
        return f"{name} {value!r}"
    body = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{name}{{{body}}} {value!r}"


INTERFACES = (("Gi0/1", 1, 1), ("Gi0/2", 1, 1), ("Gi0/3", 2, 2))
"""(ifName, ifOperStatus, ifAdminStatus) of every device with if_mib; the inventory documents Gi0/1 and
Gi0/2 as enabled and connected, Gi0/3 (admin down) as disabled."""


def device_exposition(
    name: str,
    now: float,
    faults: dict[str, float] | None = None,
    *,
    answering: bool = True,
    ports_down: frozenset[str] = frozenset(),
) -> str:
    """What ``/snmp?target=<name>`` answers: MIB series with MIB labels only, plus infrastrand_*.

    ``faults`` overrides the value of unlabelled series by metric name (e.g. a UPS's runtime). A device
    not ``answering`` has only ``infrastrand_device_up 0`` and its poll series, as the collector gives
    it; ``ports_down`` are interfaces (by ifName) operationally down.
    """
    modules = DEVICES[name][4]
    last_poll = math.floor(now / POLL_EVERY) * POLL_EVERY
    if not answering:
        lines = [
            _line("infrastrand_device_up", 0),
            _line("infrastrand_poll_duration_seconds", 2.0),
            _line("infrastrand_last_poll_timestamp_seconds", last_poll),
        ]
        return "\n".join(lines) + "\n"
    lines = [
        _line("infrastrand_device_up", 1),
        _line("infrastrand_poll_duration_seconds", 0.05),
        _line("infrastrand_last_poll_timestamp_seconds", last_poll),
        _line("infrastrand_poll_pdus", 4),
        _line("infrastrand_poll_varbinds", 120),
        _line("infrastrand_poll_retries", 0),
        _line("sysUpTime", math.floor((now - BOOT) * 100)),
        _line("sysName", 1, sysName=name),
        _line("sysDescr", 1, sysDescr="simulated device"),
        _line("sysObjectID", 1, sysObjectID="1.3.6.1.4.1.8072.3.2.10"),
        _line("sysLocation", 1, sysLocation=DEVICES[name][0]),
        _line("sysContact", 1, sysContact="noc@example.invalid"),
    ]
    if "if_mib" in modules:
        for index, (if_name, oper, admin) in enumerate(INTERFACES, start=1):
            oper = 2 if if_name in ports_down else oper
            labels = {
                "ifIndex": str(index),
                "ifName": if_name,
                "ifDescr": if_name,
                "ifAlias": f"link {index}",
            }
            moving = 1 if oper == 1 else 0
            lines += [
                _line("ifOperStatus", oper, **labels),
                _line("ifAdminStatus", admin, **labels),
                _line("ifHighSpeed", 1000, **labels),
                _line("ifSpeed", 1e9, **labels),
                _line("ifMtu", 1500, **labels),
                _line("ifHCInOctets", math.floor(now * 2.5e6 * index * moving), **labels),
                _line("ifHCOutOctets", math.floor(now * 1.25e6 * index * moving), **labels),
                _line("ifHCInUcastPkts", math.floor(now * 2000 * moving), **labels),
                _line("ifHCOutUcastPkts", math.floor(now * 1000 * moving), **labels),
                _line("ifInErrors", 0, **labels),
                _line("ifOutErrors", 0, **labels),
                _line("ifInDiscards", 0, **labels),
                _line("ifOutDiscards", 0, **labels),
            ]
    if "host_resources" in modules:
        for index, descr, size, used in (("1", "Physical memory", 8e6, 7.9e6), ("31", "/", 5e6, 2e6)):
            labels = {"hrStorageIndex": index, "hrStorageDescr": descr}
            lines += [
                _line("hrStorageSize", size, **labels),
                _line("hrStorageUsed", used, **labels),
                _line("hrStorageAllocationUnits", 4096, **labels),
            ]
        lines += [_line("hrProcessorLoad", 12 + cpu, hrDeviceIndex=str(196608 + cpu)) for cpu in range(2)]
    if "ucd" in modules:
        lines += [
            _line("laLoad", 0.5, laIndex="1", laNames="Load-1"),
            _line("laLoad", 0.4, laIndex="2", laNames="Load-5"),
        ]
        lines += [
            _line("memTotalReal", 8e6),
            _line("memAvailReal", 5e6),
            _line("memBuffer", 2e5),
            _line("memCached", 1e6),
            _line("memTotalSwap", 2e6),
            _line("memAvailSwap", 2e6),
        ]
    if "entity_sensor" in modules:
        labels = {"entPhysicalIndex": "10", "entPhysicalName": "Inlet"}
        lines += [
            _line("entPhySensorType", 8, **labels),
            _line("entPhySensorScale", 9, **labels),
            _line("entPhySensorPrecision", 1, **labels),
            _line("entPhySensorValue", 245, **labels),
            _line("entPhySensorOperStatus", 1, **labels),
        ]
    if "lldp" in modules:
        labels = {"lldpRemTimeMark": "0", "lldpRemLocalPortNum": "1", "lldpRemIndex": "1"}
        lines += [_line("lldpRemSysName", 1, lldpRemSysName="rabat-core-rtr01", **labels)]
    if "ups_mib" in modules:
        lines += [
            _line("upsBatteryStatus", 2),
            _line("upsSecondsOnBattery", 0),
            _line("upsEstimatedMinutesRemaining", 45),
            _line("upsEstimatedChargeRemaining", 100),
            _line("upsBatteryTemperature", 25),
            _line("upsInputVoltage", 230, upsInputLineIndex="1"),
            _line("upsOutputSource", 3),
            _line("upsOutputPercentLoad", 35, upsOutputLineIndex="1"),
        ]
    for metric, value in (faults or {}).items():
        lines = [_line(metric, value) if line.startswith(f"{metric} ") else line for line in lines]
    return "\n".join(lines) + "\n"


def _histogram(name: str, now: float, buckets: tuple[tuple[str, float], ...]) -> list[str]:
    polls = math.floor(now)
    lines = [_line(f"{name}_bucket", math.floor(polls * share), le=le) for le, share in buckets]
    return [*lines, _line(f"{name}_count", polls), _line(f"{name}_sum", polls * 0.05)]


def collector_exposition(now: float) -> str:
    """The collector's own ``/metrics``."""
    lines = [
        _line("infrastrand_collector_polls_total", math.floor(now), result="ok"),
        _line("infrastrand_collector_polls_total", 0, result="timeout"),
        _line("infrastrand_collector_polls_total", 0, result="error"),
        *_histogram(
            "infrastrand_collector_poll_duration_seconds",
            now,
            (("0.05", 0.5), ("0.1", 0.9), ("1.0", 1), ("+Inf", 1)),
        ),
        *_histogram(
            "infrastrand_collector_scheduler_lag_seconds", now, (("0.01", 0.9), ("0.1", 1), ("+Inf", 1))
        ),
        _line("infrastrand_collector_poll_overruns_total", 0),
        _line("infrastrand_collector_targets", len(DEVICES), state="up"),
        _line("infrastrand_collector_targets", 0, state="down"),
        _line("infrastrand_collector_targets", 0, state="backoff"),
        _line("infrastrand_collector_in_flight", 1),
        _line("infrastrand_collector_inventory_up", 1),
        _line("infrastrand_collector_inventory_last_success_timestamp_seconds", now - 5),
        _line("infrastrand_collector_targets_from_cache", 0),
        _line("infrastrand_collector_store_series", 240),
        _line("infrastrand_snmp_requests_total", math.floor(now * 4)),
        _line("infrastrand_snmp_retries_total", 0),
        _line("infrastrand_snmp_timeouts_total", 0),
        _line("process_cpu_seconds_total", now / 100),
        _line("process_resident_memory_bytes", 5e7),
    ]
    return "\n".join(lines) + "\n"


def inventory_exposition() -> str:
    """The inventory's ``/metrics``: one ``infrastrand_site_info`` per site, and the documented interfaces
    (``infrastrand_interface_documented``) of the devices with if_mib."""
    lines = [
        _line(
            "infrastrand_site_info",
            1,
            site=site,
            name=site,
            country=info["country"],
            region=info["region"],
            tenant=info["tenant"],
            strands="infrastructure",
            latitude=info["lat"],
            longitude=info["lon"],
            status="active",
        )
        for site, info in SITES.items()
    ]
    lines += [
        _line(
            "infrastrand_interface_documented",
            1,
            device=device,
            ifName=if_name,
            enabled="true" if admin == 1 else "false",
            mark_connected="true" if admin == 1 else "false",
            connected="true" if admin == 1 else "false",
        )
        for device, spec in DEVICES.items()
        if "if_mib" in spec[4]
        for if_name, _oper, admin in INTERFACES
    ]
    return "\n".join(lines) + "\n"


TEXT = "text/plain; version=0.0.4"


def collector_server(
    faults: dict[str, dict[str, float]] | None = None,
    *,
    silent: set[str] | None = None,
    ports_down: dict[str, set[str]] | None = None,
) -> StaticServer:
    """The collector's endpoints; ``faults`` maps a device to metric values that break it. ``silent``
    (devices that do not answer) and ``ports_down`` (device -> ifNames down) are read on every scrape,
    so a test changes a device by changing them."""

    def snmp(query: dict[str, list[str]], _headers: dict[str, str]) -> tuple[int, str, str]:
        target = query.get("target", [""])[0]
        if target not in DEVICES:
            return 404, "text/plain", f"unknown target {target!r}\n"
        exposition = device_exposition(
            target,
            time.time(),
            (faults or {}).get(target),
            answering=target not in (silent or set()),
            ports_down=frozenset((ports_down or {}).get(target, ())),
        )
        return 200, TEXT, exposition

    routes: dict[str, Route] = {
        "/snmp": snmp,
        "/metrics": lambda _q, _h: (200, TEXT, collector_exposition(time.time())),
    }
    return StaticServer(routes)


def inventory_server(collector: str) -> StaticServer:
    denied = (401, "application/json", '{"detail": "Authentication credentials were not provided."}')

    def sd(_query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, str, str]:
        if headers.get("authorization") != f"Token {TOKEN}":
            return denied
        return 200, "application/json", json.dumps(sd_targets(collector))

    def metrics(_query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, str, str]:
        if headers.get("authorization") != f"Token {TOKEN}":
            return denied
        return 200, TEXT, inventory_exposition()

    routes: dict[str, Route] = {"/api/prometheus/sd/devices/": sd, "/metrics": metrics}
    return StaticServer(routes)


@dataclass
class PrometheusStack:
    """A real Prometheus with the shipped config and rules, scraping the synthetic collector and inventory."""

    prometheus: str
    inventory: StaticServer
    collector: StaticServer


@contextlib.contextmanager
def prometheus_stack(workdir: Path, ready: Iterable[str]) -> Iterator[PrometheusStack]:
    """Start it in ``workdir`` and yield once every query of ``ready`` has data (bounded waits)."""
    from deploy import prometheus_config

    collector = collector_server()
    inventory = inventory_server(collector.address)
    token = workdir / "sd.token"
    token.write_text(TOKEN + "\n")
    config = prometheus_config.repoint(
        inventory=inventory.address,
        collectors=[collector.address],
        alertmanager=f"127.0.0.1:{free_port()}",
        token_file=token,
        scrape_interval="1s",
    )
    try:
        with prometheus(prometheus_config.write(config, workdir / "prometheus.yml"), workdir) as base:
            for query in ready:
                wait_until(lambda q=query: bool(instant_query(base, q)), seconds=60, what=query, step=0.5)
            yield PrometheusStack(base, inventory, collector)
    finally:
        inventory.close()
        collector.close()
