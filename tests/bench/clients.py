"""Benchmark clients, each run in its own process so CPU and memory are its own.

``python -m tests.bench.clients <scenario> --port P --devices N --concurrency C`` polls N copies of the
replay agent's switch (system + if_mib subtrees) and prints one JSON line: CPU seconds of the measured
section (after a warm-up poll), wall seconds, devices, varbinds, errors and memory.  Scenarios:
``wire`` (our wire path), ``pysnmp`` (``bulk_walk_cmd``, lookupMib=False) and ``collector`` (the
end-to-end collector: poll -> MIB modules -> store -> exposition + gzip, as a Prometheus scrape),
``poll_store`` (the same without exposition); ``--loop uvloop`` runs it on uvloop.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable

from tests.snmp.switchdata import IF_MIB_ROOTS

ROOTS = list(IF_MIB_ROOTS)
COMMUNITY = "public"


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(
    poll: Callable[[int], Awaitable[tuple[int, str]]], devices: int, concurrency: int, budget: float
) -> dict:
    """Warm up with one poll, then poll ``devices`` times with at most ``concurrency`` in flight."""
    await poll(-1)
    gc.collect()
    sem = asyncio.Semaphore(concurrency)
    deadline = time.monotonic() + budget
    counts = {"varbinds": 0, "errors": 0, "devices": 0}
    first_error = ""

    async def one(i: int) -> None:
        nonlocal first_error
        async with sem:
            if time.monotonic() > deadline:
                return
            varbinds, error = await poll(i)
            counts["devices"] += 1
            counts["varbinds"] += varbinds
            if error:
                counts["errors"] += 1
                first_error = first_error or error

    rss0 = rss_kib()
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(devices)))
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    return dict(
        counts, cpu=cpu, wall=wall, rss_kib=rss_kib(), rss_growth_kib=rss_kib() - rss0, error=first_error
    )


# ---------------------------------------------------------------------------------------------- scenarios


async def run_wire(port: int, devices: int, concurrency: int, budget: float) -> dict:
    from collectors.snmp import SnmpClient, SnmpTarget

    async with SnmpClient(bind6=None) as client:
        target = SnmpTarget("127.0.0.1", port, community=COMMUNITY.encode(), max_repetitions=25)

        async def poll(_i: int) -> tuple[int, str]:
            res = await client.walk(target, ROOTS)
            return res.varbinds_count, res.error

        out = await measure(poll, devices, concurrency, budget)
        out["pdus_sent"] = client.stats.requests
        return out


async def run_pysnmp(port: int, devices: int, concurrency: int, budget: float) -> dict:
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        bulk_walk_cmd,
    )

    engine = SnmpEngine()
    auth = CommunityData(COMMUNITY, mpModel=1)
    target = await UdpTransportTarget.create(("127.0.0.1", port), timeout=5, retries=3)

    async def poll(_i: int) -> tuple[int, str]:
        n = 0
        for root in ROOTS:
            async for err_ind, err_stat, _idx, vbs in bulk_walk_cmd(
                engine, auth, target, ContextData(), 0, 25, ObjectType(ObjectIdentity(root)),
                lookupMib=False, lexicographicMode=False,
            ):  # fmt: skip
                if err_ind or err_stat:
                    return n, str(err_ind or err_stat)
                n += len(vbs)
        return n, ""

    out = await measure(poll, devices, concurrency, budget)
    engine.close_dispatcher()
    return out


async def run_collector(
    port: int, devices: int, concurrency: int, budget: float, render: bool = True
) -> dict:
    """End to end: the collector's Poller (walk, MIB modules, store) plus the exporter's rendering.

    Runs as ``python -m collectors`` does: modules loaded, then :func:`collectors.runtime.tune_gc`.
    """
    from collectors.mibmodules import load_modules
    from collectors.poller import Poller
    from collectors.runtime import tune_gc
    from collectors.snmp import SnmpClient
    from collectors.store import SampleStore
    from collectors.targets import Target
    from exporters.exposition import TEXT, target_body

    modules = load_modules()
    store = SampleStore()
    labels = (("country", "MA"), ("device", ""), ("role", "access-switch"), ("site", "casablanca-dc1"))
    targets = [
        Target(name=f"sw{i:05d}", address="127.0.0.1", port=port, community=COMMUNITY,
               modules=("system", "if_mib"), labels=labels)
        for i in range(-1, devices)
    ]  # fmt: skip
    tune_gc()  # the runner's GC settings: the measured numbers are the real process's
    async with SnmpClient(bind6=None) as client:
        poller = Poller(modules=modules, store=store, wire=client, pysnmp=None)
        rendered_bytes = 0

        async def poll(i: int) -> tuple[int, str]:
            nonlocal rendered_bytes
            target = targets[i + 1]
            result = await poller.poll(target)
            if render:  # one scrape per poll, as Prometheus does at the same interval (it asks for gzip)
                body, _ = target_body(store.get(target.name), TEXT, time.time(), gzip_ok=True)
                rendered_bytes += len(body)
            return result.varbinds, result.error

        out = await measure(poll, devices, concurrency, budget)
        out["series"] = store.series_count()
        out["exposition_bytes"] = rendered_bytes
        return out


async def run_poll_store(port: int, devices: int, concurrency: int, budget: float) -> dict:
    """The collector without exposition: poll, MIB modules, store (to split CPU and memory)."""
    return await run_collector(port, devices, concurrency, budget, render=False)


SCENARIOS = {"wire": run_wire, "pysnmp": run_pysnmp, "collector": run_collector, "poll_store": run_poll_store}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--devices", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--budget", type=float, default=120.0, help="stop starting polls after this many seconds")
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio", help="event loop")
    args = ap.parse_args(argv)
    coro = SCENARIOS[args.scenario](args.port, args.devices, args.concurrency, args.budget)
    if args.loop == "uvloop":
        import uvloop

        out = uvloop.run(coro)
    else:
        out = asyncio.run(coro)
    out["scenario"] = args.scenario
    out["loop"] = args.loop
    out["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
