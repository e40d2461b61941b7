"""Debian's prometheus-snmp-exporter (0.21) as the benchmark anchor: a minimal snmp.yml for the same
subtrees (system + if_mib, old config format with ``auth``/``version`` inside the module), the exporter
on a free loopback port, concurrent scrapes, and its process CPU and memory read from /proc."""

from __future__ import annotations

import concurrent.futures
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import yaml

from tests.snmp.switchdata import IF_MIB_ROOTS, IF_TABLE, IF_X_TABLE, SYSTEM

EXPORTER = "/usr/bin/prometheus-snmp-exporter"
MODULE = "infrastrand_bench"

SYSTEM_METRICS = [
    (3, "sysUpTime", "gauge"),
    (1, "sysDescr", "DisplayString"),
    (5, "sysName", "DisplayString"),
    (6, "sysLocation", "DisplayString"),
    (4, "sysContact", "DisplayString"),
]
IF_COLUMNS = {
    IF_TABLE: [(1, "ifIndex", "gauge"), (2, "ifDescr", "DisplayString"), (3, "ifType", "gauge"),
               (4, "ifMtu", "gauge"), (5, "ifSpeed", "gauge"), (6, "ifPhysAddress", "PhysAddress48"),
               (7, "ifAdminStatus", "gauge"), (8, "ifOperStatus", "gauge"), (9, "ifLastChange", "gauge"),
               (10, "ifInOctets", "counter"), (11, "ifInUcastPkts", "counter"),
               (12, "ifInNUcastPkts", "counter"), (13, "ifInDiscards", "counter"),
               (14, "ifInErrors", "counter"), (15, "ifInUnknownProtos", "counter"),
               (16, "ifOutOctets", "counter"), (17, "ifOutUcastPkts", "counter"),
               (18, "ifOutNUcastPkts", "counter"), (19, "ifOutDiscards", "counter"),
               (20, "ifOutErrors", "counter"), (21, "ifOutQLen", "gauge")],
    IF_X_TABLE: [(1, "ifName", "DisplayString"), (2, "ifInMulticastPkts", "counter"),
                 (3, "ifInBroadcastPkts", "counter"), (4, "ifOutMulticastPkts", "counter"),
                 (5, "ifOutBroadcastPkts", "counter"), (6, "ifHCInOctets", "counter"),
                 (7, "ifHCInUcastPkts", "counter"), (8, "ifHCInMulticastPkts", "counter"),
                 (9, "ifHCInBroadcastPkts", "counter"), (10, "ifHCOutOctets", "counter"),
                 (11, "ifHCOutUcastPkts", "counter"), (12, "ifHCOutMulticastPkts", "counter"),
                 (13, "ifHCOutBroadcastPkts", "counter"), (14, "ifLinkUpDownTrapEnable", "gauge"),
                 (15, "ifHighSpeed", "gauge"), (16, "ifPromiscuousMode", "gauge"),
                 (17, "ifConnectorPresent", "gauge"), (18, "ifAlias", "DisplayString"),
                 (19, "ifCounterDiscontinuityTime", "gauge")],
}  # fmt: skip
LOOKUPS = [("ifName", f"{IF_X_TABLE}.1"), ("ifDescr", f"{IF_TABLE}.2"), ("ifAlias", f"{IF_X_TABLE}.18")]


def snmp_yml(community: str = "public") -> dict:
    """The exporter config: one module walking the same subtrees as the other clients."""
    metrics = [{"name": n, "oid": f"{SYSTEM}.{c}", "type": t, "help": n} for c, n, t in SYSTEM_METRICS]
    for table, cols in IF_COLUMNS.items():
        for col, name, typ in cols:
            metrics.append({
                "name": name, "oid": f"{table}.{col}", "type": typ, "help": name,
                "indexes": [{"labelname": "ifIndex", "type": "gauge"}],
                "lookups": [{"labels": ["ifIndex"], "labelname": ln, "oid": oid, "type": "DisplayString"}
                            for ln, oid in LOOKUPS],
            })  # fmt: skip
    return {
        MODULE: {
            "walk": list(IF_MIB_ROOTS),
            "version": 2,
            "max_repetitions": 25,
            "retries": 3,
            "timeout": "5s",
            "auth": {"community": community},
            "metrics": metrics,
        }
    }


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def proc_rss_kib(pid: int, key: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SnmpExporter:
    """The exporter process, started on a free port; always terminated on exit."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_tcp_port()
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> SnmpExporter:
        conf = self.workdir / "snmp.yml"
        conf.write_text(yaml.safe_dump(snmp_yml(), sort_keys=False))
        self.log = open(self.workdir / "snmp_exporter.log", "wb")
        listen = f"--web.listen-address=127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [EXPORTER, f"--config.file={conf}", listen, "--log.level=warn"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=1).read()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError((self.workdir / "snmp_exporter.log").read_text()[-2000:]) from None
                time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()

    def scrape(self, agent_port: int) -> bytes:
        url = f"http://127.0.0.1:{self.port}/snmp?module={MODULE}&target=127.0.0.1:{agent_port}"
        with urllib.request.urlopen(url, timeout=60) as resp:
            return resp.read()


def scrape_stats(body: bytes) -> tuple[int, str]:
    """(samples in a scrape, error text if the scrape reports one)."""
    samples = 0
    error = ""
    for line in body.decode(errors="replace").splitlines():
        if line and not line.startswith("#"):
            samples += 1
            if line.startswith("snmp_scrape_pdus_returned") and line.endswith(" 0"):
                error = "no PDUs"
    return samples, error


def run(workdir: Path, agent_port: int, devices: int, concurrency: int, budget: float) -> dict:
    """Scrape the exporter ``devices`` times, ``concurrency`` at once; its CPU and memory from /proc."""
    with SnmpExporter(workdir) as exporter:
        warm = exporter.scrape(agent_port)
        samples, error = scrape_stats(warm)
        if error or b"ifHCInOctets{" not in warm:
            raise RuntimeError(f"snmp_exporter scrape failed: {warm[:500]!r}")
        pid = exporter.proc.pid
        deadline = time.monotonic() + budget
        counts = {"devices": 0, "errors": 0, "samples": 0}

        def one(_i: int) -> None:
            if time.monotonic() > deadline:
                return
            n, err = scrape_stats(exporter.scrape(agent_port))
            counts["devices"] += 1
            counts["samples"] += n
            counts["errors"] += bool(err)

        cpu0, wall0 = proc_cpu_seconds(pid), time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(devices)))
        cpu, wall = proc_cpu_seconds(pid) - cpu0, time.perf_counter() - wall0
        memory = {"rss_kib": proc_rss_kib(pid), "maxrss_kib": proc_rss_kib(pid, "VmHWM")}
        return dict(counts, cpu=cpu, wall=wall, samples_per_scrape=samples, **memory)
