"""SNMPv3 benchmark: the wire path's v3 authPriv (SHA-256/AES-128) against its v2c walks of the same
48-port switch in the same run, start-up with 1,000 distinct credential sets, and key/engine state per
device.

The replay agent (:mod:`tests.bench.replay_agent`, its own process, its CPU not counted) answers v2c and
v3 for any user.  Steady state: each of ``DEVICES`` devices (own user, so own keys and engine state) is
polled once to warm up (discovery, key derivation), then polled ``POLLS`` times in total with 200 in
flight; CPU is the process's (all threads).  Start-up: 1,000 new devices with distinct users and
passwords each GET sysUpTime once, from a cold client; it prints the process CPU (the 1 MiB password
hashes run in threads), the event loop's thread CPU, and the loop's worst and p99 lag measured by a 10 ms
ticker (what an HTTP server on the loop would see as a stall).

Run: ``python -m tests.bench.usm_bench`` (``--quick`` for small counts).  Every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence

from collectors.snmp import SnmpClient, SnmpTarget
from collectors.snmp.usm import UsmUser
from tests.bench.__main__ import start_agent, stop_agent
from tests.bench.clients import cpu_seconds, measure
from tests.snmp.switchdata import IF_MIB_ROOTS

ROOTS = list(IF_MIB_ROOTS)
GOAL_RATIO = 2.0
GOAL_STARTUP_CPU = 1.0
GOAL_STATE_BYTES = 2048


def v3_target(port: int, i: int, prefix: str = "dev") -> SnmpTarget:
    name = f"{prefix}{i:05d}".encode()  # the replay agent's users: auth key auth-U, priv key priv-U
    user = UsmUser(name, "SHA-256", b"auth-" + name, "AES-128", b"priv-" + name)
    return SnmpTarget("127.0.0.1", port, version="3", usm=user, timeout=5, retries=1, max_repetitions=25)


async def steady(port: int, devices: int, polls: int, v3: bool) -> dict:
    async with SnmpClient(bind6=None) as client:
        if v3:
            targets = [v3_target(port, i) for i in range(devices)]
        else:
            targets = [SnmpTarget("127.0.0.1", port, community=f"c{i}".encode()) for i in range(devices)]
        await asyncio.gather(*(client.walk(t, ROOTS) for t in targets))  # warm-up: discovery, keys

        async def poll(i: int) -> tuple[int, str]:
            res = await client.walk(targets[i % devices], ROOTS)
            return res.varbinds_count, res.error

        return await measure(poll, polls, 200, 300)


def deep_size(obj, seen: set[int]) -> int:
    """Bytes of an object graph of containers, slotted objects, bytes and numbers (shared ones once)."""
    if id(obj) in seen or obj is None or isinstance(obj, (bool, str, type)):
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (tuple, list)):
        size += sum(deep_size(x, seen) for x in obj)
    elif hasattr(obj, "__slots__"):
        size += sum(deep_size(getattr(obj, s, None), seen) for s in obj.__slots__)
    return size


async def startup(port: int, devices: int) -> dict:
    """A cold client's first GET of ``devices`` devices with distinct credentials; loop lag alongside."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        for _ in range(100_000):
            if stop.is_set():
                return
            before = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - before - 0.01)

    async with SnmpClient(bind6=None) as client:
        targets = [v3_target(port, i, prefix="boot") for i in range(devices)]
        tick = asyncio.create_task(ticker())
        cpu0, thread0, wall0 = cpu_seconds(), time.thread_time(), time.perf_counter()
        sem = asyncio.Semaphore(200)

        async def first(t: SnmpTarget) -> str:
            async with sem:
                return (await client.get(t, ["1.3.6.1.2.1.1.3.0"])).error

        errors = [e for e in await asyncio.gather(*(first(t) for t in targets)) if e]
        cpu, thread, wall = cpu_seconds() - cpu0, time.thread_time() - thread0, time.perf_counter() - wall0
        stop.set()
        await tick
        seen: set[int] = set()
        state = deep_size(client.usm._peers, seen) + deep_size(client.usm.keys._ku, seen)
        lags.sort()
        return {
            "devices": devices,
            "errors": len(errors),
            "first_error": errors[0] if errors else "",
            "cpu": cpu,
            "loop_cpu": thread,
            "wall": wall,
            "lag_max": lags[-1] if lags else 0.0,
            "lag_p99": lags[int(len(lags) * 0.99)] if lags else 0.0,
            "lag_median": statistics.median(lags) if lags else 0.0,
            "state_bytes_per_device": state / devices,
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts: proves the harness works")
    args = parser.parse_args(argv if argv is not None else [])
    devices, polls, boot = (5, 20, 20) if args.quick else (100, 1500, 1000)
    agent, port = start_agent()
    try:
        print(f"== SNMPv3 (wire path): 48-port switch, system + if_mib, replay agent on 127.0.0.1:{port} ==")
        rows = {}
        for name, v3 in (("v2c wire", False), ("v3 authPriv SHA-256/AES-128", True)):
            rows[name] = asyncio.run(steady(port, devices, polls, v3))
        base = None
        for name, r in rows.items():
            us = r["cpu"] / max(r["varbinds"], 1) * 1e6
            base = base or us
            print(
                f"  {name:30s} polls {r['devices']:5d} errors {r['errors']:3d} varbinds {r['varbinds']:8d} "
                f"CPU {r['cpu']:6.2f} s  {us:6.2f} µs/varbind  x v2c {us / base:4.2f} (goal <= {GOAL_RATIO})",
                flush=True,
            )
        s = asyncio.run(startup(port, boot))
        ms = {k: s[k] * 1000 for k in ("lag_max", "lag_p99", "lag_median")}
        print(
            f"  start-up, {s['devices']} distinct credential sets (first GET each): errors {s['errors']} "
            f"{s['first_error']}\n"
            f"    CPU {s['cpu']:.2f} s in total (goal <= {GOAL_STARTUP_CPU}; two 1 MiB password hashes per"
            f" set, in threads), event-loop thread {s['loop_cpu']:.2f} s, wall {s['wall']:.2f} s\n"
            f"    event-loop lag (10 ms ticker): max {ms['lag_max']:.1f} ms, p99 {ms['lag_p99']:.1f} ms,"
            f" median {ms['lag_median']:.1f} ms\n"
            f"    key/engine state per device: {s['state_bytes_per_device']:.0f} bytes"
            f" (goal <= {GOAL_STATE_BYTES})",
            flush=True,
        )
    finally:
        print(f"  replay agent (excluded): {stop_agent(agent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
