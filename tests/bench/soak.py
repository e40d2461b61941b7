"""The collector soak (issue 10 "Proof"): a mixed fleet through a real inventory, churn, HTTP load, SIGTERM.

``python -m tests.bench.soak [--quick]`` (its own process, a few minutes, accelerated intervals):

- a real inventory dev server (``manage.py runserver`` on SQLite, the demo data, as ``make demo``) with a
  collector group ``soak`` (poll interval 5 s) holding healthy devices (the replay agent), devices where
  nothing listens, black holes, slow agents and hostile agents (:mod:`tests.bench.soak_agents`);
- ``python -m collectors`` against it with targets refreshed and observations flushed every
  ``--cycle`` seconds (accelerated from 30 s / 10 s);
- healthy and slow devices removed and others added through the API while the collector runs;
- for part of the run, 200 concurrent keep-alive scrapers and 1,100 idle connections on the collector (one
  load process), and a ``/-/healthy`` probe (another);
- SIGTERM at the end with polls in flight.

It prints the RSS slope after warm-up (MiB per 1,000 refresh+flush cycles, counted from the inventory's
request log; goal ≤ 1) in each phase (quiet, churn, after the HTTP load) and the step across the load,
the healthy devices' poll-interval p99 deviation (goal ≤ 1 s), ``/-/healthy`` p99 under the HTTP load
(goal ≤ 50 ms), ghosts after removal (goal 0), and polls in flight vs cancelled on SIGTERM.  Figures
are printed, not asserted; the exit status is non-zero only if the harness broke.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.demo.stack import PYTHON, Inventory, Service, wait_http
from tests.bench.runner_bench import p99
from tests.bench.snmp_exporter import free_tcp_port, proc_rss_kib

GROUP = "soak"
INTERVAL = 5  # the inventory's smallest poll interval
STAMP = re.compile(r"^infrastrand_last_poll_timestamp_seconds (\S+)$", re.M)
IN_FLIGHT = re.compile(r"^infrastrand_collector_in_flight (\S+)$", re.M)
TARGETS = re.compile(r'^infrastrand_collector_targets\{state="\w+"\} (\S+)$', re.M)
SERIES = re.compile(r"^infrastrand_collector_store_series (\S+)$", re.M)
POLLS = re.compile(r'^infrastrand_collector_polls_total\{result="(\w+)"\} (\S+)$', re.M)


@dataclass
class Fleet:
    """Device names by kind and the SNMP port of each kind."""

    ports: dict[str, int]
    names: dict[str, list[str]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- inventory


def call(inv: Inventory, method: str, path: str, body: Any = None) -> Any:
    """An API call with the write token; an empty answer (204) is None."""
    data = None if body is None else json.dumps(body).encode()
    headers = {
        "Authorization": f"Token {inv.tokens['write']}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    request = urllib.request.Request(f"{inv.url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:800]!r}") from None
    return json.loads(raw) if raw else None


def setup_group(inv: Inventory, ports: dict[str, int], exporter: str) -> dict[str, str]:
    """The collector group and one SNMP profile per kind; returns the demo slugs new devices use."""
    first = {
        k: call(inv, "GET", f"/api/dcim/{k}/?limit=1")["results"][0]
        for k in ("sites", "device-roles", "device-types")
    }
    call(
        inv,
        "POST",
        "/api/monitoring/collector-groups/",
        {"name": GROUP, "slug": GROUP, "poll_interval": INTERVAL, "exporter_address": exporter},
    )
    # collector tokens read only the groups they are bound to: one for this group
    inv.tokens["collector"] = inv.manage(
        "createtoken", "soak-collector", "--collector", f"--group={GROUP}", "--description=soak collector"
    ).strip()
    inv.token_file("collector").write_text(inv.tokens["collector"] + "\n")
    for kind, port in ports.items():
        timeout = 2.5 if kind == "slow" else 1.0
        modules = ["system", "if_mib"] if kind in ("healthy", "slow") else ["system"]
        call(
            inv,
            "POST",
            "/api/monitoring/snmp-profiles/",
            {
                "name": f"soak-{kind}",
                "version": "2c",
                "community": "public",
                "port": port,
                "timeout": timeout,
                "retries": 1,
                "max_repetitions": 25,
                "modules": modules,
            },
        )
    return {
        "site": first["sites"]["slug"],
        "role": first["device-roles"]["slug"],
        "device_type": first["device-types"]["slug"],
    }


def add_devices(inv: Inventory, slugs: dict[str, str], fleet: Fleet, kind: str, names: list[str]) -> None:
    """Devices, their management interface and primary address in three bulk imports.

    Every device polls 127.0.0.1 (its agent is told apart by the profile's port), so the addresses
    carry a role that may repeat (anycast).
    """
    devices = [
        {
            "name": n,
            "site": slugs["site"],
            "role": slugs["role"],
            "device_type": slugs["device_type"],
            "status": "active",
            "snmp_profile": f"soak-{kind}",
            "collector_group": GROUP,
            "monitored": True,
        }
        for n in names
    ]
    interfaces = [{"device": n, "site": slugs["site"], "name": "mgmt0", "type": "virtual"} for n in names]
    addresses = [
        {"address": "127.0.0.1/8", "role": "anycast", "device": n, "interface": "mgmt0", "is_primary": True}
        for n in names
    ]
    created = None
    for model, rows in (("devices", devices), ("interfaces", interfaces), ("ip-addresses", addresses)):
        answer = call(
            inv, "POST", "/api/import/", {"model": model, "format": "json", "data": json.dumps(rows)}
        )
        created = created or answer
    for name, pk in zip(names, created["ids"], strict=True):
        fleet.ids[name] = pk
    fleet.names.setdefault(kind, []).extend(names)


def remove_devices(inv: Inventory, fleet: Fleet, names: list[str]) -> None:
    call(inv, "DELETE", "/api/dcim/devices/", [{"id": fleet.ids[n]} for n in names])
    for kind_names in fleet.names.values():
        for n in names:
            if n in kind_names:
                kind_names.remove(n)


# ---------------------------------------------------------------------------------------------- probes


def get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


class Sampler(threading.Thread):
    """Every ``period`` s: RSS of the collector, inventory request counts, healthy devices' poll stamps."""

    def __init__(
        self, pid: int, port: int, inventory_log: Path, watch: list[str], period: float = 0.5
    ) -> None:
        super().__init__(daemon=True)
        self.pid, self.port, self.inventory_log, self.watch, self.period = (
            pid,
            port,
            inventory_log,
            watch,
            period,
        )
        self.rss: list[tuple[float, float, int]] = []  # (time, cycles, RSS KiB)
        self.deviations: list[tuple[float, float]] = []  # (time, |poll gap - interval|)
        self.unobserved = 0  # gaps the sampler could not see whole (its own requests failed or lagged)
        self._stamps: dict[str, tuple[float, float]] = {}  # device -> (poll stamp, when the sampler read it)
        self.stop_event = threading.Event()

    def cycles(self) -> float:
        """(targets GETs + observation POSTs) / 2 that reached the inventory, from its request log."""
        text = self.inventory_log.read_text(errors="replace")
        return (
            text.count("GET /api/collector/targets/") + text.count("POST /api/collector/observations/")
        ) / 2

    def run(self) -> None:
        tick = 0
        deadline = time.monotonic() + 3600
        while not self.stop_event.wait(self.period) and time.monotonic() < deadline:
            now = time.monotonic()
            tick += 1
            if tick % 4 == 0:
                with contextlib.suppress(OSError, ValueError):
                    self.rss.append((now, self.cycles(), proc_rss_kib(self.pid)))
            for name in self.watch:
                status, body = get(self.port, f"/snmp?target={name}")
                match = STAMP.search(body.decode(errors="replace")) if status == 200 else None
                if not match:
                    continue
                stamp, seen = float(match.group(1)), time.monotonic()
                last = self._stamps.get(name)
                if last is not None and stamp != last[0]:
                    # a gap is only measured if the sampler looked at the device at least every 2 s
                    # through it; otherwise a poll it never saw would read as a late one
                    if seen - last[1] <= 2.0 + self.period:
                        self.deviations.append((now, abs(stamp - last[0] - INTERVAL)))
                    else:
                        self.unobserved += 1
                self._stamps[name] = (stamp, seen)


class HttpLoad:
    """``scrapers`` keep-alive connections scraping healthy devices back to back and ``idle`` open
    connections (``web_bench --scrape-load``), and a ``/-/healthy`` probe every 50 ms on a new
    connection (what a health checker does, ``web_bench --health-probe``), for ``seconds``.

    Both run in processes of their own, as Prometheus and a health checker do: 200 scraper threads in
    this process would make the probe wait for this process's GIL, and keep the sampler that times the
    healthy devices' polls from running on time; neither wait is the collector's.
    """

    def __init__(self, port: int, targets: list[str], scrapers: int, idle: int, seconds: float,
                 workdir: Path) -> None:  # fmt: skip
        self.port, self.targets, self.scrapers, self.idle = port, targets, scrapers, idle
        self.seconds = seconds
        self.names = workdir / "scraped-devices.txt"
        self.load: subprocess.Popen | None = None
        self.probe: subprocess.Popen | None = None
        self.load_average = ""
        self.healthy_ms: list[float] = []
        self.healthy_failures = 0
        self.scrapes = 0
        self.scrape_errors = 0

    def start(self) -> None:
        self.names.write_text("\n".join(self.targets) + "\n")
        self.load = subprocess.Popen(
            [PYTHON, "-m", "tests.bench.web_bench", "--scrape-load", "127.0.0.1", str(self.port),
             str(self.scrapers), str(self.idle), f"@{self.names}", str(self.seconds + 120)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        if self.load.stdout.readline().strip() != "loaded":
            self.load.kill()
            raise RuntimeError("the scrape load process did not start")
        self.probe = subprocess.Popen(
            [PYTHON, "-m", "tests.bench.web_bench", "--health-probe", "127.0.0.1", str(self.port),
             str(self.seconds)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def close(self) -> None:
        if self.probe is not None:
            try:
                out, _ = self.probe.communicate(timeout=self.seconds + 120)
            except subprocess.TimeoutExpired:
                self.probe.kill()
                out, _ = self.probe.communicate(timeout=30)
            self.healthy_ms = [float(x) for x in out.split()]  # a failed probe reads as its 5 s timeout
            self.healthy_failures = sum(x >= 5000.0 for x in self.healthy_ms)
        self.load_average = " ".join(f"{x:.2f}" for x in os.getloadavg())
        if self.load is not None:
            try:
                out, _ = self.load.communicate("", timeout=120)  # stdin EOF ends the load
            except subprocess.TimeoutExpired:
                self.load.kill()
                out, _ = self.load.communicate(timeout=30)
            summary = out.split()  # scrapes <n> errors <n>
            if len(summary) == 4:
                self.scrapes, self.scrape_errors = int(summary[1]), int(summary[3])
            else:
                self.scrape_errors = -1


def store_series(port: int) -> float:
    """``infrastrand_collector_store_series`` of the collector on ``port``."""
    _, body = get(port, "/metrics")
    found = SERIES.search(body.decode(errors="replace"))
    return float(found.group(1)) if found else float("nan")


def slope_per_1000(samples: list[tuple[float, float, int]]) -> float:
    """Least-squares slope of RSS (MiB) against refresh+flush cycles, per 1,000 cycles."""
    if len(samples) < 3:
        return float("nan")
    xs = [c for _, c, _ in samples]
    ys = [r / 1024 for _, _, r in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if not var:
        return float("nan")
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 1000


# ---------------------------------------------------------------------------------------------- the run


@dataclass
class Plan:
    healthy: int = 100
    closed: int = 20
    black_hole: int = 20
    slow: int = 20
    hostile_each: int = 4
    churn: int = 10  # healthy and slow devices removed (and as many added) at each churn
    churns: int = 3
    warmup: float = 40.0
    quiet: float = 60.0  # no churn, no HTTP load: the RSS slope of refresh+flush cycles alone
    churn_phase: float = 30.0
    load: float = 50.0
    after: float = 90.0  # long enough for a slope after the load's step
    cycle: float = 0.25
    scrapers: int = 200
    idle: int = 1100


def run(plan: Plan, workdir: Path) -> int:
    from tests.bench.__main__ import start_agent, stop_agent

    with contextlib.suppress(ValueError, OSError):  # the idle connections and scrapers need fds
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    agent, healthy_port = start_agent()
    agents = subprocess.Popen(
        [PYTHON, "-m", "tests.bench.soak_agents", "--lifetime", "1800"], stdout=subprocess.PIPE, text=True
    )
    inventory: Inventory | None = None
    collector: Service | None = None
    try:
        line = agents.stdout.readline()
        if not line.startswith("PORTS "):
            raise RuntimeError(f"soak agents did not start: {line!r}")
        ports = {"healthy": healthy_port, **json.loads(line[6:])}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # a port where nothing listens
            probe.bind(("127.0.0.1", 0))
            ports["closed"] = probe.getsockname()[1]
        t_setup = time.monotonic()
        inventory = Inventory(workdir / "var", f"127.0.0.1:{free_tcp_port()}")
        inventory.prepare()
        inventory.start(workdir)
        listen_port = free_tcp_port()
        slugs = setup_group(inventory, ports, f"127.0.0.1:{listen_port}")
        fleet = Fleet(ports)
        counts = {
            "healthy": plan.healthy,
            "closed": plan.closed,
            "black_hole": plan.black_hole,
            "slow": plan.slow,
            **{k: plan.hostile_each for k in ("garbage", "oid_bomb", "wrong_rid", "flood")},
        }
        for kind, n in counts.items():
            if n:
                add_devices(
                    inventory,
                    slugs,
                    fleet,
                    kind,
                    [f"soak-{kind.replace('_', '-')}-{i:04d}" for i in range(n)],
                )
        expected = sum(counts.values())
        if len(inventory.targets(GROUP)) != expected:
            raise RuntimeError("the inventory does not list every soak device as a target")
        print(f"inventory ready with {expected} targets in {time.monotonic() - t_setup:.0f} s", flush=True)

        collector = Service(
            "collector",
            [
                PYTHON,
                "-m",
                "collectors",
                f"--inventory-url={inventory.url}",
                f"--token-file={inventory.token_file('collector')}",
                f"--group={GROUP}",
                f"--listen=127.0.0.1:{listen_port}",
                f"--cache-dir={workdir / 'cache'}",
                "--name=soak-collector",
                f"--refresh={plan.cycle}",
                f"--observations-interval={plan.cycle}",
            ],
            workdir,
        )
        wait_http(f"http://127.0.0.1:{listen_port}/-/ready", 120, collector.process)
        t0 = time.monotonic()
        stable = fleet.names["healthy"][: plan.healthy - plan.churn * plan.churns][:8]
        sampler = Sampler(collector.process.pid, listen_port, inventory.server.log_path, stable)
        sampler.start()

        removed: list[str] = []
        quiet_end = plan.warmup + plan.quiet
        churn_at = [quiet_end + i * plan.churn_phase / plan.churns for i in range(plan.churns)]
        time.sleep(max(0.0, t0 + quiet_end - 1 - time.monotonic()))
        series = [store_series(listen_port)]  # before the churn and before the HTTP load
        for i, at in enumerate(churn_at):
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            gone = (
                fleet.names["healthy"][-plan.churn // 2 or -1 :]
                + fleet.names["slow"][-(plan.churn - plan.churn // 2) :]
            )
            remove_devices(inventory, fleet, gone)
            removed += gone
            add_devices(
                inventory, slugs, fleet, "healthy", [f"soak-new-{i}-{j:03d}" for j in range(plan.churn)]
            )
            print(f"  t={time.monotonic() - t0:5.0f} s: removed {len(gone)}, added {plan.churn}", flush=True)

        time.sleep(max(0.0, t0 + quiet_end + plan.churn_phase - time.monotonic()))
        series.append(store_series(listen_port))
        present = [n for n in fleet.names["healthy"] if n not in set(removed)]
        load = HttpLoad(listen_port, present, plan.scrapers, plan.idle, plan.load, workdir)
        t_load = time.monotonic()
        load.start()
        print(
            f"  t={t_load - t0:5.0f} s: HTTP load on: {plan.scrapers} scrapers, {plan.idle} idle connections",
            flush=True,
        )
        time.sleep(max(0.0, t_load + plan.load - time.monotonic()))
        load.close()
        t_load_end = time.monotonic()
        time.sleep(plan.after)

        # ghosts: removed devices still served after several refreshes and poll intervals
        ghosts = [n for n in removed if get(listen_port, f"/snmp?target={n}")[0] == 200]
        _, everything = get(listen_port, "/snmp/all", timeout=120)
        text = everything.decode(errors="replace")
        in_all = [n for n in removed if f'device="{n}"' in text]

        _, metrics = get(listen_port, "/metrics")
        metrics_text = metrics.decode(errors="replace")
        in_flight = IN_FLIGHT.search(metrics_text)
        polls = {k: float(v) for k, v in POLLS.findall(metrics_text)}
        known = sum(float(v) for v in TARGETS.findall(metrics_text))
        listed = len(inventory.targets(GROUP))
        sampler.stop_event.set()
        sampler.join(30)
        t_term = time.monotonic()
        collector.process.send_signal(signal.SIGTERM)
        try:
            rc = collector.process.wait(60)
        except subprocess.TimeoutExpired:
            rc = None
        stop_seconds = time.monotonic() - t_term
        log = collector.logs(10_000_000)
        tail = log[log.find("collector stopping") :] if "collector stopping" in log else ""

        # ---- report
        after_warmup = [
            s for s in sampler.rss if s[0] >= t0 + plan.warmup and not t_load <= s[0] <= t_load_end + 5
        ]
        quiet = [s for s in sampler.rss if t0 + plan.warmup <= s[0] < t0 + quiet_end]
        churning = [s for s in after_warmup if t0 + quiet_end <= s[0] < t_load]
        after_load = [s for s in after_warmup if s[0] > t_load_end + 5]
        all_dev = [d for _, d in sampler.deviations]
        load_dev = [d for t, d in sampler.deviations if t_load <= t <= t_load_end]
        print()
        print(f"fleet: {counts}; poll interval {INTERVAL} s; refresh and flush every {plan.cycle:g} s")
        if after_warmup:
            first, last = after_warmup[0], after_warmup[-1]

            def phase(samples: list[tuple[float, float, int]]) -> str:
                cycles = samples[-1][1] - samples[0][1] if samples else 0
                return f"{slope_per_1000(samples):.2f} over {cycles:.0f} cycles"

            step = (after_load[0][2] - churning[-1][2]) / 1024 if churning and after_load else float("nan")
            print(
                f"RSS after warm-up: {first[2] / 1024:.1f} -> {last[2] / 1024:.1f} MiB over "
                f"{last[1] - first[1]:.0f} refresh+flush cycles; slope in MiB per 1,000 cycles (goal ≤ 1): "
                f"quiet {phase(quiet)}, with churn {phase(churning)}, after the HTTP load "
                f"{phase(after_load)}; across the HTTP load a step of {step:+.1f} MiB (its connections' "
                f"buffers, kept by the allocator, not a slope); whole run with the step "
                f"{slope_per_1000(after_warmup):.2f}"
            )
            print(
                f"  the store held {series[0]:.0f} series before the churn and {series[1]:.0f} after it "
                "(the churn replaces slow devices with healthy 48-port ones: RSS follows the store)"
            )
        print(
            f"healthy poll-interval deviation p99: {p99(all_dev):.3f} s over {len(all_dev)} intervals "
            f"({sampler.unobserved} not observed whole); "
            f"under the HTTP load {p99(load_dev):.3f} s over {len(load_dev)} (goal ≤ 1 s)"
        )
        print(
            f"/-/healthy under the HTTP load: p99 {p99(load.healthy_ms):.1f} ms over {len(load.healthy_ms)} "
            f"probes, {load.healthy_failures} failed (goal ≤ 50 ms); scrapes {load.scrapes}, "
            f"{load.scrape_errors} errors; load average {load.load_average}"
        )
        print(
            f"ghosts after removal: {len(ghosts)} of {len(removed)} removed answer /snmp?target=, "
            f"{len(in_all)} in /snmp/all (goal 0); the collector holds {known:.0f} targets, the inventory "
            f"lists {listed}"
        )
        cancel_lines = [ln for ln in tail.splitlines() if "cancel" in ln.lower()]
        print(
            f"SIGTERM: {in_flight.group(1) if in_flight else '?'} polls in flight, exit {rc} after "
            f"{stop_seconds:.1f} s; {tail.count('Traceback')} tracebacks, "
            f"{sum(' ERROR ' in ln for ln in tail.splitlines())} ERROR lines after 'collector stopping'"
        )
        for ln in cancel_lines[:3]:
            print(f"  {ln[:200]}")
        print(f"polls before SIGTERM: {polls}")
        return 0
    finally:
        if collector is not None:
            collector.stop()
        if inventory is not None:
            inventory.stop()
        agents.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            agents.wait(10)
        if agents.poll() is None:
            agents.kill()
            agents.wait(10)
        stop_agent(agent)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small fleet and short phases: proves the harness")
    ap.add_argument("--cycle", type=float, default=Plan.cycle, help="seconds between refreshes and flushes")
    ap.add_argument("--after", type=float, default=Plan.after, help="seconds measured after the HTTP load")
    ap.add_argument("--churns", type=int, default=Plan.churns, help="device removals and additions")
    args = ap.parse_args(argv)
    plan = Plan(cycle=args.cycle, after=args.after, churns=args.churns)
    if args.quick:
        plan = Plan(
            healthy=12,
            closed=2,
            black_hole=2,
            slow=4,
            hostile_each=1,
            churn=2,
            churns=1,
            warmup=8,
            quiet=8,
            churn_phase=4,
            load=6,
            after=min(args.after, 12),
            cycle=args.cycle,
            scrapers=20,
            idle=50,
        )
    print(
        f"== soak: collector through a real inventory, {'quick' if args.quick else 'full'} plan ==",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="infrastrand-soak-") as tmp:
        try:
            return run(plan, Path(tmp))
        except (RuntimeError, OSError, TimeoutError) as exc:
            print(f"FAILED: {exc}", flush=True)
            return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
