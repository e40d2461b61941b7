"""``make bench``: the SNMP polling benchmark, every client against the same replay agent in one run.

Starts the fast replay agent (:mod:`tests.bench.replay_agent`, its own process, its CPU not counted),
measures the wire-path decoder per varbind, then polls the same simulated 48-port switch (system +
if_mib subtrees) with each scenario in :data:`SCENARIOS` and prints them side by side: CPU µs per
varbind, ms per 1000 varbinds, varbinds/s and devices per 60 s per CPU-second of one process, the ratio
to snmp_exporter, and memory; then the other areas' benchmarks (:data:`OTHER_BENCHES`).  ``--quick``
runs tiny counts of the SNMP part only (the pytest smoke test).  Every loop is
bounded in count and time.  Adding a scenario is one entry in ``SCENARIOS``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from collectors.snmp.ber import GET_BULK, oid_to_bytes
from collectors.snmp.messages import encode_request, parse_header, parse_walk_varbinds
from tests.bench import snmp_exporter
from tests.snmp.switchdata import IF_X_TABLE


@dataclass
class Context:
    agent_port: int
    workdir: Path
    quick: bool
    varbinds_per_device: int = 0


Scenario = Callable[[Context], dict]


def _client_process(
    name: str, ctx: Context, devices: int, concurrency: int, budget: float, loop: str
) -> dict:
    cmd = [sys.executable, "-m", "tests.bench.clients", name, "--port", str(ctx.agent_port), "--loop", loop,
           "--devices", str(devices), "--concurrency", str(concurrency), "--budget", str(budget)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=budget + 120)
    if out.returncode:
        raise RuntimeError(f"{name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def wire(ctx: Context) -> dict:
    """(a) our wire path on asyncio's loop: GETBULK walks of system + if_mib to (index, tag, value)."""
    row = _client_process("wire", ctx, 10 if ctx.quick else 3000, 200, 120, "asyncio")
    ctx.varbinds_per_device = row["varbinds"] // max(row["devices"], 1)
    return row


def wire_uvloop(ctx: Context) -> dict:
    """(a') the same on uvloop."""
    return _client_process("wire", ctx, 10 if ctx.quick else 3000, 200, 120, "uvloop")


def pysnmp(ctx: Context) -> dict:
    """(b) pysnmp 7 bulk_walk_cmd, lookupMib=False, lexicographicMode=False, one engine."""
    return _client_process("pysnmp", ctx, 2 if ctx.quick else 40, 10, 120, "asyncio")


def exporter(ctx: Context) -> dict:
    """(c) Debian's prometheus-snmp-exporter, scraped concurrently; its process CPU from /proc."""
    row = snmp_exporter.run(ctx.workdir, ctx.agent_port, 3 if ctx.quick else 400, 8, 120)
    row["varbinds"] = row["devices"] * ctx.varbinds_per_device
    return row


def collector(ctx: Context) -> dict:
    """(d) the infrastrand collector end to end: poll -> modules -> store -> exposition + gzip (a scrape)."""
    return _client_process("collector", ctx, 10 if ctx.quick else 2000, 200, 120, "asyncio")


def collector_uvloop(ctx: Context) -> dict:
    """(d') the same on uvloop."""
    return _client_process("collector", ctx, 10 if ctx.quick else 2000, 200, 120, "uvloop")


def poll_store_uvloop(ctx: Context) -> dict:
    """(d'') the collector on uvloop without exposition: poll -> modules -> store."""
    return _client_process("poll_store", ctx, 10 if ctx.quick else 2000, 200, 120, "uvloop")


SCENARIOS: list[tuple[str, Scenario]] = [
    ("ours wire, asyncio", wire),
    ("ours wire, uvloop", wire_uvloop),
    ("pysnmp bulk_walk_cmd", pysnmp),
    ("snmp_exporter 0.21", exporter),
    ("collector e2e, asyncio", collector),
    ("collector e2e, uvloop", collector_uvloop),
    ("poll+store only, uvloop", poll_store_uvloop),
]
ANCHOR = "snmp_exporter 0.21"
OTHER_BENCHES = (
    "tests.bench.exposition_bench",
    "tests.bench.api_bench",
    "tests.bench.scheduler_bench",  # the collector's scheduler: 5,000 devices, some failing
    "tests.bench.web_bench",  # exporter serving: TLS + basic auth vs plain
    "tests.bench.runner_bench",  # the shipped runner vs snmp_exporter, steady state
    "tests.bench.soak",  # issue 10's soak: fleet through a real inventory, churn, HTTP load
    "tests.bench.memory_bench",  # issue 10's RSS slope: 1,500 refresh+flush cycles on a real inventory
    "tests.bench.usm_bench",  # SNMPv3 on the wire path
    "tests.bench.import_bench",  # 100,000-row import job
    "tests.bench.trap_bench",  # trap receiver: v2c traps per second on one core
    "tests.bench.drift_bench",  # drift: 10,000 devices x 48 interfaces, full and incremental
    "tests.bench.ha_bench",  # issue 16: HA collectors + vmagent + VictoriaMetrics at 3,000 devices
    "tests.bench.discovery_bench",  # issue 15: a /22 sweep by the collector while it polls
    "tests.bench.discovery_inventory_bench",  # issue 15: a /22 sweep's results and approval, inventory side
)
"""Run after the SNMP table by ``make bench`` (``--snmp-only`` skips them)."""


# ---------------------------------------------------------------------------------------------- decoder


def decoder_bench(ctx: Context, budget: float) -> list[str]:
    """µs per varbind of the hot-path decoder on a real 25-varbind ifXTable GETBULK response."""
    from pyasn1.codec.ber import decoder
    from pysnmp.proto.api import v2c

    root = oid_to_bytes(IF_X_TABLE)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(
            encode_request(1, b"public", GET_BULK, 7, [root + b"\x06"], 0, 25), ("127.0.0.1", ctx.agent_port)
        )
        data = s.recv(65535)

    def ours() -> int:
        _, _, _, _, _, _, start, end = parse_header(data)
        out: list = []
        parse_walk_varbinds(data, start, end, root, (), out)
        return len(out)

    n_vb = ours()
    lines = []

    def request() -> bytes:
        return encode_request(1, b"public", GET_BULK, 7, [root], 0, 25)

    def oracle() -> object:
        return decoder.decode(data, asn1Spec=v2c.Message())

    for name, fn, loops in [
        ("ours: parse_header + parse_walk_varbinds", ours, 2000 if ctx.quick else 50000),
        ("ours: encode_request (GETBULK)", request, 2000),
        ("pyasn1 decoder.decode (pysnmp's)", oracle, 20 if ctx.quick else 300),
    ]:
        deadline = time.monotonic() + budget
        t0 = time.process_time()
        done = 0
        while done < loops and time.monotonic() < deadline:
            fn()
            done += 1
        per_call = (time.process_time() - t0) / done * 1e6
        if fn is request:
            lines.append(f"  {name:45s} {per_call:9.1f} µs per request")
        else:
            per_vb = per_call / n_vb
            lines.append(
                f"  {name:45s} {per_call:9.1f} µs per {n_vb}-varbind PDU   {per_vb:7.2f} µs per varbind"
            )
    return lines


# ---------------------------------------------------------------------------------------------- table


def start_agent() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.replay_agent", "--lifetime", "1800"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"replay agent did not start: {line!r}")
    return proc, int(line.split()[1])


def stop_agent(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=10)
    return out.strip()


def table(rows: dict[str, dict]) -> list[str]:
    anchor = rows.get(ANCHOR)
    anchor_us = anchor["cpu"] / anchor["varbinds"] * 1e6 if anchor and anchor.get("varbinds") else None
    head = (f"{'client':24s} {'devices':>7s} {'errors':>6s} {'varbinds':>9s} {'CPU s':>7s} "
            f"{'µs/vb = ms/1000vb':>17s} {'vb/s/core':>10s} {'dev/60s/core':>12s} {'dev/60s wall':>12s} "
            f"{'x exporter':>10s} {'RSS MiB':>7s} {'MiB/1000dev':>11s}")  # fmt: skip
    lines = [head, "-" * len(head)]
    for name, r in rows.items():
        if "failed" in r:
            lines.append(f"{name:24s} FAILED: {r['failed']}")
            continue
        us = r["cpu"] / max(r["varbinds"], 1) * 1e6
        per_dev_cpu = r["cpu"] / max(r["devices"], 1)
        ratio = f"{us / anchor_us:10.2f}" if anchor_us else f"{'-':>10s}"
        growth = r.get("rss_growth_kib")
        mem_1000 = (
            f"{growth / 1024 / max(r['devices'], 1) * 1000:11.1f}" if growth is not None else f"{'-':>11s}"
        )
        per_core = 60 / per_dev_cpu if per_dev_cpu else 0
        wall = 60 * r["devices"] / r["wall"] if r["wall"] else 0
        rss = r.get("rss_kib", 0) / 1024
        lines.append(
            f"{name:24s} {r['devices']:7d} {r['errors']:6d} {r['varbinds']:9d} {r['cpu']:7.2f} "
            f"{us:17.2f} {1e6 / us if us else 0:10.0f} {per_core:12.0f} {wall:12.0f} {ratio} "
            f"{rss:7.1f} {mem_1000}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny counts: proves the harness works")
    ap.add_argument("--only", default="", help="comma-separated scenario functions, e.g. wire,collector")
    ap.add_argument("--snmp-only", action="store_true", help="skip the other areas' benchmarks")
    args = ap.parse_args(argv)
    only = {s for s in args.only.split(",") if s}
    agent, port = start_agent()
    rows: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="infrastrand-bench-") as tmp:
            ctx = Context(agent_port=port, workdir=Path(tmp), quick=args.quick)
            print(
                f"== SNMP polling: 48-port switch, system + if_mib, replay agent on 127.0.0.1:{port} ==",
                flush=True,
            )
            print("decoder (one process, CPU time):")
            for line in decoder_bench(ctx, budget=20):
                print(line, flush=True)
            for name, fn in SCENARIOS:
                if only and fn.__name__ not in only and fn is not wire:
                    continue
                t0 = time.monotonic()
                try:
                    rows[name] = fn(ctx)
                except Exception as exc:  # report the others anyway
                    rows[name] = {"failed": f"{type(exc).__name__}: {exc}"[:300]}
                print(f"  ran {name} in {time.monotonic() - t0:.1f} s", flush=True)
            print(f"varbinds per device: {ctx.varbinds_per_device}")
    finally:
        agent_report = stop_agent(agent)
    print()
    for line in table(rows):
        print(line)
    print(f"replay agent (excluded from the numbers): {agent_report}")
    print("per core = CPU-bound capacity of one process; wall = what this run achieved with the agent on the")
    print("other core. snmp_exporter's CPU is its whole process (all threads) read from /proc.")
    failed = any("failed" in r for r in rows.values())
    for module in [] if args.quick or args.snmp_only else OTHER_BENCHES:
        if importlib.util.find_spec(module):  # the other areas' benchmarks, each in its own process
            print(f"\n== {module} ==", flush=True)
            bench = subprocess.run([sys.executable, "-m", module], timeout=3600)
            failed = failed or bench.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
