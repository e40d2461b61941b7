"""Synthetic poll results shaped like snmp_exporter's if_mib output, for exposition tests and benchmarks."""

from __future__ import annotations

import random

from collectors.store import MetricFamily, PollResult, SampleStore

IF_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ifHCInOctets", "counter"),
    ("ifHCOutOctets", "counter"),
    ("ifHCInUcastPkts", "counter"),
    ("ifHCOutUcastPkts", "counter"),
    ("ifHCInMulticastPkts", "counter"),
    ("ifHCOutMulticastPkts", "counter"),
    ("ifHCInBroadcastPkts", "counter"),
    ("ifHCOutBroadcastPkts", "counter"),
    ("ifInErrors", "counter"),
    ("ifOutErrors", "counter"),
    ("ifInDiscards", "counter"),
    ("ifOutDiscards", "counter"),
    ("ifInUnknownProtos", "counter"),
    ("ifOperStatus", "gauge"),
    ("ifAdminStatus", "gauge"),
    ("ifHighSpeed", "gauge"),
    ("ifSpeed", "gauge"),
    ("ifMtu", "gauge"),
    ("ifLastChange", "gauge"),
    ("ifConnectorPresent", "gauge"),
)
"""Twenty ifTable/ifXTable columns: 10 interfaces give a device 200 series."""

INVENTORY = {
    "site": "casablanca-dc1",
    "region": "grand-casablanca",
    "country": "MA",
    "tenant": "add",
    "role": "core-router",
    "strands": "e-government,infrastructure",
    "platform": "ios-xe",
    "device_type": "c8300",
}


def device_result(
    device: str,
    interfaces: int = 10,
    *,
    started: float,
    interval: float = 60.0,
    up: bool = True,
    seed: int = 0,
) -> PollResult:
    """One device's poll: ``interfaces`` rows x 20 if_mib columns, large counters included."""
    rng = random.Random(seed)
    rows = [
        (
            ("ifIndex", str(i)),
            ("ifName", f"Gi0/{i}"),
            ("ifDescr", f"GigabitEthernet0/{i}"),
            ("ifAlias", f"uplink to {device} port {i}"),
        )
        for i in range(1, interfaces + 1)
    ]
    families = []
    for name, type_ in IF_COLUMNS if up else ():
        if type_ == "counter":
            samples = tuple((row, float(rng.randrange(0, 2**53))) for row in rows)
        else:
            samples = tuple((row, float(rng.randrange(0, 10_000))) for row in rows)
        families.append(
            MetricFamily.from_samples(name=name, type=type_, help=f"MIB object {name}.", samples=samples)
        )
    return PollResult(
        device=device,
        started=started,
        duration=0.084,
        up=up,
        error="" if up else "timeout",
        pdus=12,
        varbinds=interfaces * len(IF_COLUMNS),
        retries=0,
        families=tuple(families),
        interval=interval,
    )


def filled_store(
    devices: int, interfaces: int = 10, *, started: float, interval: float = 60.0
) -> SampleStore:
    """A store of ``devices`` devices of ``interfaces * 20`` series each, with inventory labels; they
    read as up until two ``interval`` s after ``started``."""
    store = SampleStore()
    for n in range(devices):
        name = f"dev{n:05d}"
        result = device_result(name, interfaces, started=started, interval=interval, seed=n)
        store.put(result, {"device": name, **INVENTORY})
    return store
