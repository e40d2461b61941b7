"""The collector's memory per targets-refresh + observations-flush cycle, against a real inventory.

``python -m tests.bench.memory_bench [--quick] [--cycles N] [--devices D]`` starts the inventory's dev
server (``manage.py runserver`` on SQLite with the demo data, as ``make demo``), a collector group of
``D`` devices and the replay agent, polls each device once with the collector's own Poller (real walks:
the observations carry real facts and interfaces), then runs the runner's two inventory cycles ``N``
times in this process, exactly as ``python -m collectors`` does with one long-lived
:class:`~collectors.inventory_client.InventoryClient`:

- ``InventorySource.refresh()`` (the targets endpoint, ETag; every ``--change-every`` cycles a device's
  label changes in the inventory so a full 200 answer is parsed too);
- one observation per device ``put`` into the ``ObservationSender`` (a new poll time each cycle; every
  ``--resend-every`` cycles a full one with facts and interfaces) and ``flush()``.

After ``--warmup`` cycles it samples Python's traced memory (``tracemalloc``) and the RSS every
``--sample-every`` cycles and prints both least-squares slopes in MiB per 1,000 cycles (issue 10's goal:
RSS ≤ 1 MiB per 1,000 refresh+flush cycles).  The soak measures the same slope over a mixed fleet but
with far fewer cycles; this bench runs enough of them for the slope to mean something.  Figures are
printed, not asserted; the exit status is non-zero only if the harness broke.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from deploy.demo.stack import Inventory
from tests.bench.snmp_exporter import free_tcp_port, proc_rss_kib
from tests.bench.soak import GROUP, Fleet, add_devices, call, setup_group

MIB = 1024 * 1024


def slope_per_1000(samples: list[tuple[int, float]]) -> float:
    """Least-squares slope of ``(cycle, MiB)`` samples, in MiB per 1,000 cycles."""
    n = len(samples)
    if n < 2:
        return 0.0
    mx = sum(c for c, _ in samples) / n
    my = sum(m for _, m in samples) / n
    var = sum((c - mx) ** 2 for c, _ in samples)
    return sum((c - mx) * (m - my) for c, m in samples) / var * 1000 if var else 0.0


async def cycles(inventory: Inventory, fleet: Fleet, args: argparse.Namespace) -> dict:
    """The refresh + flush cycles; returns the samples and counts."""
    from collectors.inventory_client import InventoryClient, TokenSource
    from collectors.mibmodules import load_modules
    from collectors.observations import ObservationSender, observation_from
    from collectors.poller import Poller, build_result
    from collectors.snmp import SnmpClient
    from collectors.store import SampleStore
    from collectors.targets import InventorySource

    client = InventoryClient(inventory.url, TokenSource(path=inventory.token_file("collector")))
    source = InventorySource(client, GROUP, Path(args.workdir) / "cache")
    sender = ObservationSender(client, "memory-bench", resend_interval=0.0)
    modules = load_modules()
    targets = await source.refresh()
    if not targets or len(targets) != args.devices:
        raise RuntimeError(f"the inventory lists {len(targets or [])} targets, not {args.devices}")
    columns: dict[str, dict] = {}
    async with SnmpClient(bind6=None) as snmp:
        poller = Poller(modules=modules, store=SampleStore(), wire=snmp, pysnmp=None)
        for target in targets:
            mods, roots, client_target = poller.plan(target)
            walk = await snmp.walk(client_target, roots)
            if walk.error:
                raise RuntimeError(f"{target.name}: walk failed: {walk.error}")
            _result, columns[target.name], _bad, _dup = build_result(target, mods, walk, time.time())
    ids = {t.name: t.id for t in targets}
    samples_traced: list[tuple[int, float]] = []
    samples_rss: list[tuple[int, float]] = []
    full = light = changed = 0
    changing = fleet.names["healthy"][0]
    t0 = time.monotonic()
    for cycle in range(args.cycles):
        if args.change_every and cycle % args.change_every == args.change_every - 1:
            call(inventory, "PATCH", f"/api/dcim/devices/{fleet.ids[changing]}/", {"comments": f"c{cycle}"})
            changed += 1
        targets = await source.refresh()
        if targets is None:
            raise RuntimeError("targets refresh failed")
        sender.resend_interval = 0.0 if cycle % args.resend_every == 0 else 1e9
        for name, device_id in ids.items():
            sender.put(
                observation_from(
                    device=name,
                    device_id=device_id,
                    started=time.time(),
                    duration=0.01,
                    up=True,
                    error="",
                    columns=columns[name],
                )
            )
        before = sender.sent
        await sender.flush()
        if sender.sent - before != len(ids) or sender.failures or sender.rejected:
            raise RuntimeError(f"flush sent {sender.sent - before} of {len(ids)} ({sender.failures} failed)")
        full += cycle % args.resend_every == 0
        light += cycle % args.resend_every != 0
        if cycle >= args.warmup and (cycle - args.warmup) % args.sample_every == 0:
            gc.collect()
            samples_traced.append((cycle, tracemalloc.get_traced_memory()[0] / MIB))
            samples_rss.append((cycle, proc_rss_kib(os.getpid()) / 1024))
    wall = time.monotonic() - t0
    await client.aclose()
    return {
        "traced": samples_traced,
        "rss": samples_rss,
        "wall": wall,
        "full": full,
        "light": light,
        "changed": changed,
        "inventory_up": source.state.inventory_up,
    }


def main(argv: list[str] | None = None) -> int:
    from tests.bench.__main__ import start_agent, stop_agent

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny counts: proves the harness works")
    ap.add_argument("--cycles", type=int, default=1500, help="refresh + flush cycles")
    ap.add_argument("--warmup", type=int, default=300, help="cycles before the slope is sampled")
    ap.add_argument("--sample-every", type=int, default=25)
    ap.add_argument("--devices", type=int, default=10, help="48-port devices in the collector group")
    ap.add_argument("--change-every", type=int, default=25, help="cycles between inventory changes")
    ap.add_argument("--resend-every", type=int, default=10, help="cycles between full observations")
    args = ap.parse_args(argv)
    if args.quick:
        args.cycles, args.warmup, args.sample_every, args.devices = 40, 10, 5, 3
        args.change_every, args.resend_every = 10, 5
    agent, port = start_agent()
    try:
        with tempfile.TemporaryDirectory(prefix="infrastrand-memory-bench-") as tmp:
            args.workdir = tmp
            inventory = Inventory(Path(tmp) / "var", f"127.0.0.1:{free_tcp_port()}")
            inventory.prepare()
            inventory.start(Path(tmp))
            try:
                slugs = setup_group(inventory, {"healthy": port}, f"127.0.0.1:{free_tcp_port()}")
                fleet = Fleet({"healthy": port})
                add_devices(
                    inventory, slugs, fleet, "healthy", [f"mem-sw{i:04d}" for i in range(args.devices)]
                )
                print(
                    f"== memory per refresh + flush cycle: {args.cycles} cycles, {args.devices} x 48-port "
                    f"devices, real inventory dev server, slope after {args.warmup} cycles ==",
                    flush=True,
                )
                tracemalloc.start()
                out = asyncio.run(cycles(inventory, fleet, args))
                tracemalloc.stop()
            finally:
                inventory.stop()
    finally:
        stop_agent(agent)
    print(
        f"{args.cycles} cycles in {out['wall']:.0f} s, the last {args.cycles - args.warmup} sampled "
        f"({out['full']} with full observations, {out['light']} light, {out['changed']} inventory changes "
        "re-read)"
    )
    print(
        f"traced Python memory slope: {slope_per_1000(out['traced']):+.3f} MiB per 1,000 cycles "
        f"({out['traced'][0][1]:.1f} -> {out['traced'][-1][1]:.1f} MiB)"
    )
    print(
        f"RSS slope: {slope_per_1000(out['rss']):+.3f} MiB per 1,000 cycles "
        f"({out['rss'][0][1]:.1f} -> {out['rss'][-1][1]:.1f} MiB)  (goal ≤ 1)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
