"""The shipped runner in steady state against snmp_exporter, scraped the same way (issue 10, "Cost in
steady state").

``python -m tests.bench.runner_bench [--quick]`` starts the replay agent (its own process, its CPU not
counted), then:

1. **steady state**: ``python -m collectors --targets-file F`` (the real process, its own event loop:
   uvloop when installed, as shipped) polls N 48-port switches (system + if_mib) every ``interval``
   seconds while a scraper asks ``/snmp?target=<device>`` once per device per interval (gzip, keep-alive,
   as Prometheus does).  After a warm-up of ``warmup`` intervals, the collector's process CPU (from
   /proc) over ``window`` seconds is divided by the varbinds its ok polls returned.  Then Debian's
   snmp_exporter is scraped the same way (N targets, one scrape each per interval, each scrape a walk)
   over the same window.  Prints µs CPU per varbind for both and the ratio (goal ≤ 0.3).
2. **saturation**: the runner with many more devices than it can poll at a short interval, scrapes on;
   prints ok polls per minute = 48-port devices per minute (goal ≥ 5,000 on 2 cores).

Every loop is bounded in count and time; every process started is stopped.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.snmp_exporter import MODULE, SnmpExporter, free_tcp_port, proc_cpu_seconds, proc_rss_kib

ROOT = Path(__file__).parents[2]
OK_POLLS = re.compile(r'^infrastrand_collector_polls_total\{result="ok"\} (\S+)$', re.M)
POLLS = re.compile(r'^infrastrand_collector_polls_total\{result="(\w+)"\} (\S+)$', re.M)
VARBINDS = re.compile(r"^infrastrand_poll_varbinds (\S+)$", re.M)
PROFILE_ENV = "INFRASTRAND_BENCH_PROFILE"
"""Set to a path prefix to run each collector under :mod:`tests.bench.cpu_profile` (``<prefix>-<port>.prof``,
written at its SIGTERM): to find where the runner's CPU goes; the CPU figures of such a run are not
comparable."""


# ---------------------------------------------------------------------------------------------- scraper


@dataclass
class ScrapeStats:
    scrapes: int = 0
    errors: int = 0
    late: int = 0  # started more than 1 s after their due time (the scraper itself fell behind)
    latencies: list[float] = field(default_factory=list)
    first_error: str = ""


class Scraper:
    """Scrapes each path once per ``interval`` at an even offset, with ``workers`` keep-alive connections.

    Worker ``w`` owns paths ``w, w + workers, …`` and walks their due times in order until ``stop_at``.
    """

    def __init__(self, port: int, paths: list[str], interval: float, workers: int) -> None:
        self.port = port
        self.paths = paths
        self.interval = interval
        self.workers = max(1, min(workers, len(paths)))
        self.stats = ScrapeStats()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def start(self, stop_at: float) -> None:
        t0 = time.monotonic()
        n = len(self.paths)
        for w in range(self.workers):
            mine = [(t0 + i / n * self.interval, self.paths[i]) for i in range(w, n, self.workers)]
            th = threading.Thread(target=self._work, args=(mine, stop_at), daemon=True)
            th.start()
            self._threads.append(th)

    def stop(self) -> None:
        self._stop.set()
        for th in self._threads:
            th.join(30)

    def reset(self) -> None:
        with self._lock:
            self.stats = ScrapeStats()

    def _work(self, schedule: list[tuple[float, str]], stop_at: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        rounds = 0
        while not self._stop.is_set() and rounds < 100_000:
            for due0, path in schedule:
                due = due0 + rounds * self.interval
                if due > stop_at or self._stop.is_set():
                    conn.close()
                    return
                wait = due - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    break
                started = time.monotonic()
                error = ""
                try:
                    conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
                    response = conn.getresponse()
                    body = response.read()
                    if response.status != 200:
                        error = f"HTTP {response.status}"
                    elif not body:
                        error = "empty body"
                except (OSError, http.client.HTTPException) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                with self._lock:
                    s = self.stats
                    s.scrapes += 1
                    s.late += started - due > 1.0
                    s.latencies.append(time.monotonic() - started)
                    if error:
                        s.errors += 1
                        s.first_error = s.first_error or error
            rounds += 1
        conn.close()


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


# ---------------------------------------------------------------------------------------------- runner


def targets_document(devices: int, agent_port: int, interval: float) -> dict:
    return {
        "targets": [
            {
                "name": f"bench-sw{i:05d}",
                "address": "127.0.0.1",
                "port": agent_port,
                "community": "public",
                "interval": interval,
                "timeout": 5,
                "retries": 3,
                "modules": ["system", "if_mib"],
                "labels": {"device": f"bench-sw{i:05d}", "site": "casablanca-dc1", "country": "MA"},
            }
            for i in range(devices)
        ]
    }


class Runner:
    """``python -m collectors --targets-file …`` on a free port; always stopped on exit."""

    def __init__(self, workdir: Path, document: dict, extra: list[str] | None = None) -> None:
        self.workdir = workdir
        self.port = free_tcp_port()
        targets = workdir / f"targets-{self.port}.json"
        targets.write_text(json.dumps(document))
        self.log_path = workdir / f"collector-{self.port}.log"
        self._log = self.log_path.open("wb")
        profile = os.environ.get(PROFILE_ENV)
        launcher = ["-m", "tests.bench.cpu_profile", f"{profile}-{self.port}.prof"] if profile else ["-m"]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                *launcher,
                "collectors",
                "--targets-file",
                str(targets),
                "--listen",
                f"127.0.0.1:{self.port}",
                "--cache-dir",
                str(workdir / "cache"),
                "--refresh",
                "30",
                "--log-level",
                "WARNING",
                *(extra or []),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )

    def get(self, path: str, timeout: float = 30) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def ok_polls(self) -> float:
        status, body = self.get("/metrics")
        match = OK_POLLS.search(body.decode()) if status == 200 else None
        return float(match.group(1)) if match else 0.0

    def polls(self) -> dict[str, float]:
        """Polls so far by result (ok, timeout, error)."""
        status, body = self.get("/metrics")
        return {k: float(v) for k, v in POLLS.findall(body.decode())} if status == 200 else {}

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
            time.sleep(0.5)
        raise RuntimeError(
            f"collector: {what} not reached in {timeout:.0f} s: {self.log_path.read_text()[-2000:]}"
        )

    def cpu(self) -> float:
        return proc_cpu_seconds(self.proc.pid)

    def rss_kib(self) -> int:
        return proc_rss_kib(self.proc.pid)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def varbinds_per_device(runner: Runner, name: str) -> int:
    status, body = runner.get(f"/snmp?target={name}")
    match = VARBINDS.search(body.decode()) if status == 200 else None
    return int(float(match.group(1))) if match else 0


@dataclass
class Row:
    name: str
    devices: int
    scrapes: int
    scrape_errors: int
    varbinds: int
    cpu: float
    window: float
    scrape_p99_ms: float
    rss_mib: float
    polls: float = 0.0

    @property
    def us_per_vb(self) -> float:
        return self.cpu / max(self.varbinds, 1) * 1e6


def steady_runner(
    workdir: Path, agent_port: int, devices: int, interval: float, warmup: float, window: float, workers: int
) -> Row:
    """The runner polling ``devices`` every ``interval`` s, each scraped once per interval."""
    runner = Runner(workdir, targets_document(devices, agent_port, interval))
    try:
        runner.wait(lambda: runner.get("/-/ready", 2)[0] == 200, 120, "ready")
        runner.wait(lambda: runner.ok_polls() >= devices, interval * 3 + 60, "every device polled once")
        per_device = varbinds_per_device(runner, "bench-sw00000")
        paths = [f"/snmp?target=bench-sw{i:05d}" for i in range(devices)]
        scraper = Scraper(runner.port, paths, interval, workers)
        scraper.start(time.monotonic() + warmup * interval + window + 5)
        time.sleep(warmup * interval)
        scraper.reset()
        polls0, cpu0, t0 = runner.ok_polls(), runner.cpu(), time.monotonic()
        time.sleep(window)
        polls1, cpu1, t1 = runner.ok_polls(), runner.cpu(), time.monotonic()
        stats = scraper.stats
        scraper.stop()
        polls = polls1 - polls0
        return Row(
            "runner (python -m collectors)",
            devices,
            stats.scrapes,
            stats.errors,
            int(polls * per_device),
            cpu1 - cpu0,
            t1 - t0,
            p99(stats.latencies) * 1000,
            runner.rss_kib() / 1024,
            polls,
        )
    finally:
        runner.close()


def steady_exporter(
    workdir: Path,
    agent_port: int,
    devices: int,
    interval: float,
    warmup: float,
    window: float,
    workers: int,
    per_device: int,
) -> Row:
    """snmp_exporter scraped for ``devices`` targets once per interval (each scrape walks the agent)."""
    with SnmpExporter(workdir) as exporter:
        target = f"/snmp?module={MODULE}&target=127.0.0.1:{agent_port}"
        exporter.scrape(agent_port)  # warm
        pid = exporter.proc.pid
        scraper = Scraper(exporter.port, [f"{target}&d={i}" for i in range(devices)], interval, workers)
        scraper.start(time.monotonic() + warmup * interval + window + 5)
        time.sleep(warmup * interval)
        scraper.reset()
        cpu0, t0 = proc_cpu_seconds(pid), time.monotonic()
        time.sleep(window)
        cpu1, t1 = proc_cpu_seconds(pid), time.monotonic()
        stats = scraper.stats
        scraper.stop()
        ok = stats.scrapes - stats.errors
        return Row(
            "snmp_exporter 0.21",
            devices,
            stats.scrapes,
            stats.errors,
            ok * per_device,
            cpu1 - cpu0,
            t1 - t0,
            p99(stats.latencies) * 1000,
            proc_rss_kib(pid) / 1024,
            ok,
        )


def saturation(
    workdir: Path,
    agent_port: int,
    devices: int,
    interval: float,
    window: float,
    workers: int,
    shards: int = 1,
) -> dict:
    """More devices than the runner can poll at ``interval``, scrapes on: ok polls per minute.

    With ``shards`` > 1, that many runners share the devices (``--shard I/N``, Prometheus' hashmod, as
    deploy/SCALING.md runs them), each device scraped at its own runner: the figures are their sums."""
    from collectors.targets import shard_of

    document = targets_document(devices, agent_port, interval)
    runners = [
        Runner(workdir, document, ["--shard", f"{i}/{shards}"] if shards > 1 else None) for i in range(shards)
    ]
    scrapers: list[Scraper] = []
    try:
        for runner in runners:
            runner.wait(lambda r=runner: r.get("/-/ready", 2)[0] == 200, 120, "ready")
        for runner in runners:
            runner.wait(lambda r=runner: r.ok_polls() >= min(devices // shards, 500), 120, "first polls")
        for i, runner in enumerate(runners):
            names = [f"bench-sw{d:05d}" for d in range(devices)]
            mine = [n for n in names if shards == 1 or shard_of(n, shards) == i]
            paths = [f"/snmp?target={n}" for n in mine]
            scrapers.append(Scraper(runner.port, paths, interval, max(1, workers // shards)))
        for scraper in scrapers:
            scraper.start(time.monotonic() + interval + window + 5)
        time.sleep(interval)  # settle with the scrapes on
        for scraper in scrapers:
            scraper.reset()
        polls0 = [r.polls() for r in runners]
        cpu0, t0 = sum(r.cpu() for r in runners), time.monotonic()
        time.sleep(window)
        polls1 = [r.polls() for r in runners]
        cpu1, t1 = sum(r.cpu() for r in runners), time.monotonic()
        stats = [scraper.stats for scraper in scrapers]
        minutes = (t1 - t0) / 60
        per_min: dict[str, float] = {}
        for before, after in zip(polls0, polls1, strict=True):
            for k, v in after.items():
                per_min[k] = per_min.get(k, 0.0) + (v - before.get(k, 0.0)) / minutes
        return {
            "devices": devices,
            "interval": interval,
            "shards": shards,
            "demand_per_min": devices * 60 / interval,
            "ok_per_min": per_min.get("ok", 0.0),
            "failed_per_min": per_min.get("timeout", 0.0) + per_min.get("error", 0.0),
            "cpu_cores": (cpu1 - cpu0) / (t1 - t0),
            "scrapes": sum(st.scrapes for st in stats),
            "scrape_errors": sum(st.errors for st in stats),
            "rss_mib": sum(r.rss_kib() for r in runners) / 1024,
        }
    finally:
        for scraper in scrapers:
            scraper.stop()
        for runner in runners:
            runner.close()


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    from tests.bench.__main__ import start_agent, stop_agent

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny counts and windows: proves the harness works")
    ap.add_argument("--devices", type=int, default=300, help="steady state: 48-port devices")
    ap.add_argument("--interval", type=float, default=15.0, help="steady state: poll and scrape interval")
    ap.add_argument("--window", type=float, default=30.0, help="seconds measured after the warm-up")
    ap.add_argument("--saturation-devices", type=int, default=3000)
    ap.add_argument("--saturation-interval", type=float, default=15.0)
    ap.add_argument(
        "--saturation-shards",
        default="1,2",
        help="saturation rows: one per count of runners sharing the devices (--shard I/N), e.g. 1,2",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.devices, args.interval, args.window = 6, 2.0, 4.0
        args.saturation_devices, args.saturation_interval, args.saturation_shards = 20, 2.0, "2"
    workers = min(args.devices, 400)  # like Prometheus: every target scraped on its own, never queued
    agent, port = start_agent()
    failed = False
    try:
        with tempfile.TemporaryDirectory(prefix="infrastrand-runner-bench-") as tmp:
            workdir = Path(tmp)
            print(
                f"== shipped runner vs snmp_exporter, steady state: {args.devices} x 48-port switches, "
                f"every {args.interval:g} s, one scrape per device per interval, {args.window:g} s window "
                f"({load_average()}) ==",
                flush=True,
            )
            rows: list[Row] = []
            try:
                ours = steady_runner(workdir, port, args.devices, args.interval, 1, args.window, workers)
                rows.append(ours)
                per_device = ours.varbinds // max(int(ours.polls), 1)
                rows.append(
                    steady_exporter(
                        workdir, port, args.devices, args.interval, 1, args.window, workers, per_device
                    )
                )
            except (RuntimeError, OSError) as exc:
                print(f"FAILED: {exc}", flush=True)
                failed = True
            head = (
                f"{'process':30s} {'devices':>7s} {'polls':>7s} {'scrapes':>7s} {'errors':>6s} "
                f"{'varbinds':>9s} {'CPU s':>7s} {'µs/vb':>7s} {'scrape p99 ms':>13s} {'RSS MiB':>7s}"
            )
            print(head)
            print("-" * len(head))
            for r in rows:
                print(
                    f"{r.name:30s} {r.devices:7d} {r.polls:7.0f} {r.scrapes:7d} {r.scrape_errors:6d} "
                    f"{r.varbinds:9d} {r.cpu:7.2f} {r.us_per_vb:7.2f} {r.scrape_p99_ms:13.1f} "
                    f"{r.rss_mib:7.1f}"
                )
                failed = failed or r.scrape_errors > 0 or r.varbinds == 0
            if len(rows) == 2 and rows[1].varbinds:
                print(
                    "ratio runner / snmp_exporter (µs CPU per varbind): "
                    f"{rows[0].us_per_vb / rows[1].us_per_vb:.2f}  (goal ≤ 0.3)"
                )
            for shards in (
                [int(x) for x in args.saturation_shards.split(",")] if args.saturation_devices else []
            ):
                runners = "one runner" if shards == 1 else f"{shards} runners, --shard I/{shards}"
                print(
                    f"\n== saturation: {args.saturation_devices} devices every "
                    f"{args.saturation_interval:g} s, scrapes on, {runners} ({load_average()}) ==",
                    flush=True,
                )
                try:
                    sat = saturation(
                        workdir,
                        port,
                        args.saturation_devices,
                        args.saturation_interval,
                        args.window,
                        128,
                        shards,
                    )
                    print(
                        f"ok polls per minute (48-port devices/min): {sat['ok_per_min']:.0f} of "
                        f"{sat['demand_per_min']:.0f} asked, {sat['failed_per_min']:.0f} failed "
                        "(goal ≥ 5,000); collector CPU "
                        f"{sat['cpu_cores']:.2f} cores "
                        f"({sat['ok_per_min'] / max(sat['cpu_cores'], 1e-9):.0f} devices/min per core), "
                        f"RSS {sat['rss_mib']:.0f} MiB; "
                        f"{sat['scrapes']} scrapes, {sat['scrape_errors']} not 200 (404: not polled yet); "
                        f"{load_average()}"
                    )
                except (RuntimeError, OSError) as exc:
                    print(f"FAILED: {exc}", flush=True)
                    failed = True
    finally:
        print(f"replay agent (excluded from the numbers): {stop_agent(agent)}")
    print("CPU of each process read from /proc (all threads); the scrapers and the agent are not counted.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
