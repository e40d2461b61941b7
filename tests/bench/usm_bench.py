"""SNMPv3 benchmark: the wire path's v3 walks (several auth/priv combinations, the issue's being
authPriv SHA-256/AES-128) against its v2c walks of the same 48-port switch and against pysnmp's own v3
walk, side by side in one run; start-up with 1,000 distinct credential sets with a cold and a warm key
store; key/engine state per device.

The replay agent (:mod:`tests.bench.replay_agent`, its own process, its CPU not counted) answers v2c and
v3 for any user (one agent per auth/priv combination).  Steady state: each of ``DEVICES`` devices (own
user, so own keys and engine state) is polled once to warm up (discovery, key derivation), then polled
``POLLS`` times in total with 200 in flight; CPU is the process's (all threads, ``getrusage``).  Start-up:
1,000 new devices with distinct users and passwords each GET sysUpTime once, from a new client: cold
with the master keys the inventory ships (contract 1, derived when the credential was saved: no
password hashed), cold with passwords only (older inventories, targets files: every password hashed),
and warm with the :class:`~collectors.snmp.keystore.KeyStore` that cold run wrote (what a restarted
collector has).  It prints the process CPU (the 1 MiB password hashes run in a
thread), the event loop's thread CPU, the loop's worst and p99 lag measured by a 10 ms ticker (what
an HTTP server on the loop would see as a stall, host load included) and the longest loop-thread CPU
time between two ticks (the stall the collector itself causes, whatever the host's load).

Run: ``python -m tests.bench.usm_bench`` (``--quick`` for small counts).  Every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from collectors.snmp import SnmpClient, SnmpTarget
from collectors.snmp.keystore import KeyStore
from collectors.snmp.usm import UsmUser, master_key
from collectors.targets import Target as InventoryTarget
from collectors.targets import V3Credentials
from collectors.v3 import PysnmpClient
from tests.bench.__main__ import stop_agent
from tests.bench.clients import cpu_seconds, measure
from tests.snmp.switchdata import IF_MIB_ROOTS

ROOTS = list(IF_MIB_ROOTS)
GOAL_RATIO = 2.0
GOAL_STARTUP_CPU = 1.0
GOAL_STATE_BYTES = 2048
COMBOS: list[tuple[str | None, str | None]] = [
    ("SHA-256", "AES-128"),
    ("SHA-256", None),
    ("SHA-512", "AES-256"),
    ("SHA", "DES"),
]
"""v3 rows: the issue's authPriv, authNoPriv (HMAC alone), the longest HMAC with the extended AES key,
and the legacy pair still found on old devices."""
V2C = (None, None)


def start_agent(auth: str | None = "SHA-256", priv: str | None = "AES-128") -> tuple[subprocess.Popen, int]:
    """A replay agent whose SNMPv3 users all use ``auth``/``priv``."""
    command = [sys.executable, "-m", "tests.bench.replay_agent", "--lifetime", "1800"]
    proc = subprocess.Popen([*command, "--v3", f"{auth}/{priv or '-'}"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"replay agent did not start: {line!r}")
    return proc, int(line.split()[1])


def v3_user(
    i: int, prefix: str = "dev", auth: str | None = "SHA-256", priv: str | None = "AES-128"
) -> UsmUser:
    name = f"{prefix}{i:05d}".encode()  # the replay agent's users: auth key auth-U, priv key priv-U
    return UsmUser(name, auth, b"auth-" + name, priv, b"priv-" + name if priv else None)


def v3_target(port: int, i: int, prefix: str = "dev", combo=COMBOS[0], shipped: bool = False) -> SnmpTarget:
    """A target of the replay agent's user ``i``; ``shipped``: with the master keys an inventory ships
    (contract 1 ``auth_master_key``/``priv_master_key``) instead of the passwords."""
    user = v3_user(i, prefix, *combo)
    if shipped:
        auth, priv = combo
        user = UsmUser(
            user.username,
            auth,
            priv_protocol=priv,
            auth_master_key=master_key(auth, user.auth_password),
            priv_master_key=master_key(auth, user.priv_password) if priv else None,
        )
    return SnmpTarget("127.0.0.1", port, version="3", usm=user, timeout=5, retries=1, max_repetitions=25)


async def steady(port: int, devices: int, polls: int, combo: tuple[str | None, str | None]) -> dict:
    async with SnmpClient(bind6=None) as client:
        if combo != V2C:
            targets = [v3_target(port, i, combo=combo) for i in range(devices)]
        else:
            targets = [SnmpTarget("127.0.0.1", port, community=f"c{i}".encode()) for i in range(devices)]
        await asyncio.gather(*(client.walk(t, ROOTS) for t in targets))  # warm-up: discovery, keys

        async def poll(i: int) -> tuple[int, str]:
            res = await client.walk(targets[i % devices], ROOTS)
            return res.varbinds_count, res.error

        return await measure(poll, polls, 200, 300)


async def steady_pysnmp(port: int, devices: int, polls: int) -> dict:
    """pysnmp's own v3 walk (the test oracle, not the polling path): one engine per credential set."""
    client = PysnmpClient()
    targets = []
    for i in range(devices):
        u = v3_user(i)
        v3 = V3Credentials(
            u.username.decode(), "SHA-256", u.auth_password.decode(), "AES-128", u.priv_password.decode()
        )
        targets.append(
            InventoryTarget(f"p{i}", "127.0.0.1", port=port, version="3", v3=v3, timeout=5, retries=1)
        )
    try:
        await asyncio.gather(*(client.walk(t, ROOTS) for t in targets))  # warm-up: engines, grammar, keys

        async def poll(i: int) -> tuple[int, str]:
            res = await client.walk(targets[i % devices], ROOTS)
            return sum(len(v) for v in res.varbinds.values()), res.error

        return await measure(poll, polls, 20, 300)
    finally:
        client.close()


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


async def startup(port: int, targets: list[SnmpTarget], store: KeyStore) -> dict:
    """A new client's first GET of ``targets`` (distinct credentials; master keys shipped in them or
    from ``store`` where it has them, written back at close); loop lag alongside."""
    devices = len(targets)
    lags: list[float] = []
    busy: list[float] = []  # loop-thread CPU seconds between ticks: the stall without the host's load
    stop = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        for _ in range(100_000):
            if stop.is_set():
                return
            before, cpu_before = loop.time(), time.thread_time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - before - 0.01)
            busy.append(time.thread_time() - cpu_before)

    async with SnmpClient(bind6=None) as client:
        client.usm.keys.store = store
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
            "busy_max": max(busy, default=0.0),
            "state_bytes_per_device": state / devices,
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts: proves the harness works")
    parser.add_argument("--startup-only", action="store_true", help="only the start-up rows")
    args = parser.parse_args(argv if argv is not None else [])
    devices, polls, boot = (5, 20, 20) if args.quick else (100, 1500, 1000)
    pysnmp_devices, pysnmp_polls = (2, 4) if args.quick else (5, 40)
    print("== SNMPv3 (wire path): 48-port switch, system + if_mib, replay agents on 127.0.0.1 ==", flush=True)
    rows: dict[str, dict] = {}
    base = None
    for combo in [] if args.startup_only else [V2C, *COMBOS, "pysnmp"]:
        agent, port = start_agent(*(COMBOS[0] if combo == "pysnmp" else combo))
        try:
            if combo == "pysnmp":
                name = "pysnmp v3 SHA-256/AES-128"
                r = asyncio.run(steady_pysnmp(port, pysnmp_devices, pysnmp_polls))
            else:
                auth, priv = combo
                name = "v2c wire" if combo == V2C else f"v3 wire {auth}/{priv or 'noPriv'}"
                r = asyncio.run(steady(port, devices, polls, combo))
        finally:
            stop_agent(agent)
        rows[name] = r
        us = r["cpu"] / max(r["varbinds"], 1) * 1e6
        base = base or us
        goal = f" (goal <= {GOAL_RATIO})" if combo == COMBOS[0] else ""
        print(
            f"  {name:30s} polls {r['devices']:5d} errors {r['errors']:3d} varbinds {r['varbinds']:8d} "
            f"CPU {r['cpu']:6.2f} s  {us:6.2f} µs/varbind  x v2c {us / base:5.2f}{goal}",
            flush=True,
        )
    agent, port = start_agent()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = KeyStore(Path(tmp) / "usm-keys.enc", lambda: b"bench-token")
            empty = KeyStore(Path(tmp) / "unused.enc", lambda: b"bench-token")  # shipped keys need none
            passwords = [v3_target(port, i, prefix="boot") for i in range(boot)]
            shipped = [v3_target(port, i, prefix="boot", shipped=True) for i in range(boot)]  # not timed
            # the passwords-only cold run goes first: the replay agent then knows every user's keys (as
            # a real agent does) for the two runs after it, so they measure the collector, not the agent
            runs = [
                ("cold, passwords only (no stored keys)", passwords, store),
                ("cold, master keys shipped by the inventory (no stored keys)", shipped, empty),
                ("warm, passwords only (keys stored by the cold run)", passwords, store),
            ]
            for label, targets, keys in runs:
                r = asyncio.run(startup(port, targets, keys))
                ms = {k: r[k] * 1000 for k in ("lag_max", "lag_p99", "lag_median", "busy_max")}
                print(
                    f"  start-up {label}, {r['devices']} distinct credential sets (first GET each): "
                    f"errors {r['errors']} {r['first_error']}\n"
                    f"    CPU {r['cpu']:.2f} s in total (goal <= {GOAL_STARTUP_CPU}), event-loop thread "
                    f"{r['loop_cpu']:.2f} s, wall {r['wall']:.2f} s\n"
                    f"    max event-loop stall (10 ms ticker): {ms['lag_max']:.1f} ms,"
                    f" p99 {ms['lag_p99']:.1f} ms, median {ms['lag_median']:.1f} ms; longest loop-thread CPU"
                    f" between ticks {ms['busy_max']:.1f} ms\n"
                    f"    key/engine state per device: {r['state_bytes_per_device']:.0f} bytes"
                    f" (goal <= {GOAL_STATE_BYTES})",
                    flush=True,
                )
    finally:
        print(f"  replay agent (excluded): {stop_agent(agent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
