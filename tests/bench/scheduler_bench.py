"""Scheduler benchmark: CPU per scheduled poll and start lateness of ``collectors.scheduler`` at scale,
against an anchor in the same run (one ``call_later`` + one task per poll: the least any asyncio
scheduler does), and a budget-split run where failing devices hold their slots.

The walks answer at once (a null walk client) so the figures are the scheduler's and the poller's own
cost (plan, build, generation-checked store put), not SNMP's.  Run: ``python -m tests.bench.scheduler_bench``
(``--quick`` for a smaller run).  Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Sequence

from collectors.metrics import CollectorMetrics
from collectors.mibmodules import load_modules
from collectors.poller import Poller
from collectors.scheduler import Scheduler
from collectors.snmp import WalkResult
from collectors.store import SampleStore
from collectors.targets import parse_target


class NullWalk:
    """Answers every walk at once, or never (until the deadline) for failing devices."""

    def __init__(self, failing: frozenset[int] = frozenset()) -> None:
        self.failing = failing

    async def walk(self, target, roots, deadline=None) -> WalkResult:
        if target.port in self.failing:
            await asyncio.sleep(min(deadline or 1.0, 1.0))
            return WalkResult(varbinds={r: [] for r in roots}, error="timeout")
        return WalkResult(varbinds={r: [] for r in roots})

    async def get(self, target, oids) -> WalkResult:
        return await self.walk(target, oids)


def targets(devices: int, interval: float) -> list:
    return [
        parse_target(
            {
                "name": f"dev{i:05d}",
                "address": "127.0.0.1",
                "port": 1000 + i,
                "community": "c",
                "interval": interval,
                "timeout": 1.0,
                "retries": 0,
                "modules": ["system"],
            },
            "bench",
        )
        for i in range(devices)
    ]


def _lag_quantile(metrics: CollectorMetrics, q: float) -> float:
    """The upper bucket bound under which a fraction ``q`` of the observed lags fall."""
    samples = [
        s for family in metrics.scheduler_lag.collect() for s in family.samples if s.name.endswith("_bucket")
    ]
    total = samples[-1].value
    for s in samples:
        if s.value >= q * total:
            return float(s.labels["le"])
    return float("inf")


async def scheduler_run(devices: int, interval: float, seconds: float, failing: int = 0) -> dict:
    failing_ports = frozenset(1000 + i for i in range(failing))
    walk = NullWalk(failing_ports)
    poller = Poller(modules=load_modules(), store=SampleStore(), wire=walk, pysnmp=walk)  # type: ignore[arg-type]
    metrics = CollectorMetrics()
    scheduler = Scheduler(poller, metrics, max_in_flight=200)
    scheduler.start()
    scheduler.apply(targets(devices, interval))
    await asyncio.sleep(interval)  # warm-up: every device's first poll
    ok0 = metrics.polls.labels("ok")._value.get()
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    ok = metrics.polls.labels("ok")._value.get() - ok0
    p99 = _lag_quantile(metrics, 0.99)
    await scheduler.shutdown(grace=2)
    return {"polls": ok, "cpu": cpu, "wall": wall, "lag_p99": p99}


async def anchor_run(devices: int, interval: float, seconds: float) -> dict:
    """Each device re-armed with ``call_later`` every interval, its poll one trivial task."""
    loop = asyncio.get_running_loop()
    count = 0
    stop = False
    tasks: set[asyncio.Task] = set()

    async def poll() -> None:
        nonlocal count
        count += 1

    def fire(i: int) -> None:
        if not stop:
            task = loop.create_task(poll())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            loop.call_later(interval, fire, i)

    for i in range(devices):
        loop.call_later(interval * i / devices, fire, i)
    await asyncio.sleep(interval)
    c0, cpu0 = count, time.process_time()
    await asyncio.sleep(seconds)
    cpu, polls = time.process_time() - cpu0, count - c0
    stop = True
    return {"polls": polls, "cpu": cpu}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    devices, interval, seconds = (500, 1.0, 2.0) if args.quick else (5000, 5.0, 20.0)
    logging.disable(logging.WARNING)  # the failing devices' backoff lines
    print("== scheduler ==")
    anchor = asyncio.run(anchor_run(devices, interval, seconds))
    ours = asyncio.run(scheduler_run(devices, interval, seconds))
    split = asyncio.run(scheduler_run(devices, interval, seconds, failing=devices // 5))
    a_us = anchor["cpu"] / max(anchor["polls"], 1) * 1e6
    runs = (
        ("scheduler + poller", ours, devices),
        (f"... with {devices // 5} failing devices", split, devices * 4 // 5),
    )
    for name, row, healthy in runs:
        us = row["cpu"] / max(row["polls"], 1) * 1e6
        rate = row["polls"] / row["wall"] * 60
        print(
            f"{name:<34} {devices} devices / {interval:g} s: {rate:>9,.0f} ok polls/min (healthy devices'"
            f" schedule: {healthy * 60 / interval:,.0f}), {us:6.1f} µs CPU per poll ({us / a_us:4.1f}x the"
            f" anchor), start lateness p99 (all devices) <= {row['lag_p99']:g} s"
        )
    print(f"{'anchor (call_later + task)':<34} {a_us:6.1f} µs CPU per poll")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
