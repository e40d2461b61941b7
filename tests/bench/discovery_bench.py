"""Discovery sweep benchmark (issue 15 "Proof"): a /22 swept by the real collector while it polls.

``python -m tests.bench.discovery_bench [--quick] [--rounds 2] [--rate 200]``:

- agents (their own processes, their CPU not counted): the bench replay agent
  (:mod:`tests.bench.replay_agent`) plays ``--devices`` healthy 48-port switches the collector polls
  every ``--interval`` seconds; the simulation replay agent (``collectors.sim.replay --specs``) puts a
  48-port switch on every tenth host of ``--prefix`` (a /22: 1,022 hosts, 102 answering, the rest
  silent: nothing listens there, so each costs a timeout);
- the contract-9 server of the collector tests (:mod:`tests.collectors.discovery_inventory`) hands out
  the targets and, in each sweep round, one job for the prefix (``--rate`` requests/s, timeout 1 s);
- ``python -m collectors`` in inventory mode with ``--discovery-rate`` = ``--rate``.

Rounds alternate a window without a sweep (as long as the last sweep took) and a sweep.  Per round it
prints the sweep's wall time (claim to the last post; goal ≤ 30 s), discovery requests/s, the answers
found, the collector's process CPU per swept address (sweep window CPU minus the polling CPU the
preceding quiet window ran at), and for both windows the healthy polls' schedule lag (the collector's
``infrastrand_collector_scheduler_lag_seconds`` histogram over the window: p99 as the bucket bound,
and the mean; goal: unchanged).  With the load average.  Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from collectors.discovery import host_at, host_count
from tests.bench.runner_bench import targets_document
from tests.bench.snmp_exporter import free_tcp_port, proc_cpu_seconds
from tests.collectors.discovery_inventory import GROUP, TOKEN, DiscoveryInventory, job, port_free_on, v2c

ROOT = Path(__file__).parents[2]
LAG = re.compile(r'^infrastrand_collector_scheduler_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', re.M)
LAG_SUM = re.compile(r"^infrastrand_collector_scheduler_lag_seconds_(sum|count) (\S+)$", re.M)
REQUESTS = re.compile(r'^infrastrand_discovery_requests_total\{result="(\w+)"\} (\S+)$', re.M)
OK_POLLS = re.compile(r'^infrastrand_collector_polls_total\{result="ok"\} (\S+)$', re.M)
COMMUNITY = "bench-discovery"


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def start(cmd: list[str], ready: str) -> tuple[subprocess.Popen, str]:
    """An agent process and the line it printed when ready."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith(ready):
        proc.kill()
        raise RuntimeError(f"{cmd[2]} did not start: {line!r}")
    return proc, line


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class Collector:
    """``python -m collectors`` against the contract-9 server; its /metrics read with urllib."""

    def __init__(self, workdir: Path, inventory_url: str, rate: float) -> None:
        self.port = free_tcp_port()
        self.log_path = workdir / "collector.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collectors", "--inventory-url", inventory_url, "--token", TOKEN,
             "--group", GROUP, "--listen", f"127.0.0.1:{self.port}", "--cache-dir", str(workdir / "cache"),
             "--refresh", "1", "--discovery-rate", str(rate), "--log-level", "INFO"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log_path.open("wb"),
        )  # fmt: skip

    def metrics(self) -> str:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as r:
            return r.read().decode()

    def cpu(self) -> float:
        return proc_cpu_seconds(self.proc.pid)

    def wait(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"collector exited: {self.log_path.read_text()[-2000:]}")
            try:
                if predicate():
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{what} not reached in {timeout:.0f} s: {self.log_path.read_text()[-2000:]}")


def lag(body: str) -> tuple[dict[float, float], float, float]:
    """Cumulative lag buckets, sum and count."""
    buckets = {float(le): float(v) for le, v in LAG.findall(body)}
    totals = dict(LAG_SUM.findall(body))
    return buckets, float(totals.get("sum", 0)), float(totals.get("count", 0))


def lag_window(before: str, after: str) -> tuple[float, float, int]:
    """(p99 as a bucket bound, mean, polls started) of the lags observed between two scrapes."""
    b0, s0, c0 = lag(before)
    b1, s1, c1 = lag(after)
    count = c1 - c0
    if count <= 0:
        return 0.0, 0.0, 0
    p99 = next((le for le in sorted(b1) if b1[le] - b0.get(le, 0) >= 0.99 * count), float("inf"))
    return p99, (s1 - s0) / count, int(count)


def requests(body: str) -> dict[str, float]:
    return {k: float(v) for k, v in REQUESTS.findall(body)}


def run(args: argparse.Namespace, workdir: Path) -> int:
    hosts = host_count(args.prefix)
    answering = [host_at(args.prefix, i) for i in range(0, hosts, 10)]
    port = port_free_on(answering)
    specs = workdir / "specs.json"
    specs.write_text(
        json.dumps([{"name": f"disc-{i:04d}", "kind": "switch", "address": a, "port": port,
                     "community": COMMUNITY} for i, a in enumerate(answering)])
    )  # fmt: skip
    healthy, line = start([sys.executable, "-m", "tests.bench.replay_agent", "--lifetime", "1800"], "PORT ")
    healthy_port = int(line.split()[1])
    swept, _ = start(
        [sys.executable, "-m", "collectors.sim.replay", "--specs", str(specs), "--lifetime", "1800",
         "--exit-with-parent"],
        "READY",
    )  # fmt: skip
    inventory = None
    collector = None
    try:
        document = targets_document(args.devices, healthy_port, args.interval)
        inventory = DiscoveryInventory([], document["targets"])
        collector = Collector(workdir, inventory.url, args.rate)
        ok = lambda: float((OK_POLLS.findall(collector.metrics()) or ["0"])[0])  # noqa: E731
        collector.wait(lambda: ok() >= 2 * args.devices, args.interval * 4 + 60, "every device polled twice")
        print(
            f"{args.devices} healthy 48-port switches polled every {args.interval:g} s; "
            f"sweep of {args.prefix}: {hosts} hosts, {len(answering)} answering (48-port switches), "
            "the rest silent; "
            f"rate {args.rate:g}/s, timeout 1 s, one credential",
            flush=True,
        )
        header = (
            f"{'round':>5s} {'window':8s} {'wall s':>7s} {'req/s':>7s} {'answers':>7s} {'CPU s':>6s} "
            f"{'CPU ms/addr':>11s} {'lag p99 ≤ s':>11s} {'lag mean ms':>11s} {'polls':>6s}  load"
        )
        print(header)
        print("-" * len(header), flush=True)
        quiet_seconds = args.quiet
        for rnd in range(1, args.rounds + 1):
            # quiet window: polls only
            m0, cpu0, t0 = collector.metrics(), collector.cpu(), time.monotonic()
            time.sleep(quiet_seconds)
            m1, cpu1, t1 = collector.metrics(), collector.cpu(), time.monotonic()
            quiet_rate = (cpu1 - cpu0) / (t1 - t0)
            p99, mean, polls = lag_window(m0, m1)
            print(
                f"{rnd:5d} {'polls':8s} {t1 - t0:7.1f} {'-':>7s} {'-':>7s} {cpu1 - cpu0:6.2f} {'-':>11s} "
                f"{p99:11g} {mean * 1000:11.2f} {polls:6d}  {load()}",
                flush=True,
            )
            # sweep window
            job_id = rnd
            m0, cpu0, t0 = collector.metrics(), collector.cpu(), time.monotonic()
            inventory.add(job(job_id, args.prefix, [v2c(1, COMMUNITY, port)], rate=args.rate, timeout=1.0))
            collector.wait(
                lambda j=job_id: inventory.jobs[j]["status"] == "completed", 300, f"job {job_id} completed"
            )
            m1, cpu1, t1 = collector.metrics(), collector.cpu(), time.monotonic()
            claimed = inventory.claimed_at[job_id]
            finished = inventory.posts[-1]["received"]
            wall = finished - claimed
            sent = sum(requests(m1).values()) - sum(requests(m0).values())
            answers = len({r["address"] for p in inventory.posts for r in p["results"]})
            inventory.posts.clear()
            sweep_cpu = (cpu1 - cpu0) - quiet_rate * (t1 - t0)
            p99, mean, polls = lag_window(m0, m1)
            print(
                f"{rnd:5d} {'sweep':8s} {wall:7.1f} {sent / wall:7.1f} {answers:7d} {cpu1 - cpu0:6.2f} "
                f"{sweep_cpu / hosts * 1000:11.3f} {p99:11g} {mean * 1000:11.2f} {polls:6d}  {load()}",
                flush=True,
            )
            quiet_seconds = max(args.quiet, t1 - t0)
        print(
            "wall: the claim to the last post (goal ≤ 30 s); req/s: discovery GETs and column walks\n"
            "(a walk may take several PDUs, all paced by the token bucket); CPU ms/addr: the sweep window's\n"
            "collector CPU above the polling rate of the quiet window, per host of the prefix; lag: healthy\n"
            "polls' start against their schedule in the window (histogram bucket bound)."
        )
        return 0
    finally:
        if collector is not None:
            stop(collector.proc)
        if inventory is not None:
            inventory.close()
        stop(swept)
        stop(healthy)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a /26 and a few devices: proves the harness works")
    ap.add_argument("--prefix", default="127.93.0.0/22")
    ap.add_argument("--rate", type=float, default=200.0, help="the job's and the collector's rate limit")
    ap.add_argument("--devices", type=int, default=300, help="healthy 48-port switches polled meanwhile")
    ap.add_argument("--interval", type=float, default=10.0, help="their poll interval, seconds")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quiet", type=float, default=20.0, help="seconds of the first window without a sweep")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the finally blocks: stop every process
    if args.quick:
        args.prefix, args.devices, args.rounds, args.quiet, args.interval = "127.93.0.0/26", 20, 1, 4.0, 2.0
    with tempfile.TemporaryDirectory(prefix="infrastrand-discovery-bench-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
