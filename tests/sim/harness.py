"""The HA simulation (issue 16.3): replay agent, collectors, vmagents, VictoriaMetrics, the inventory.

:func:`seed` writes the simulated inventory (two collector groups, ``devices`` 48-port switches on
loopback addresses) straight into the database; :class:`Simulation` starts the processes next to a
running inventory and answers what the test and the bench ask: who polls which device (http_sd),
VictoriaMetrics queries and exports, the vmagents' and collectors' own metrics, process CPU and memory.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from collectors.sim.ports import ports_of
from collectors.sim.replay import FIRST_ADDRESS, addresses
from deploy import prometheus_config
from deploy.victoriametrics.config import vmagent_config, write
from tests.deploy.servers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
GROUP_A, GROUP_B = "sim-a", "sim-b"
COMMUNITY = "sim-public"
SIM_SWITCH = "sim-switch"
"""The data set every switch of ``replay --devices`` answers (collectors.sim.replay.agent_for_switches)."""


@dataclass(frozen=True)
class Timing:
    """The simulation's intervals: the shipped poll interval, a scrape twice as often (so a failover
    shows as a gap in samples), a 5 s heartbeat and the shipped lease of 3 refreshes (15 s)."""

    poll: int = 60  # seconds between polls of a device (the shipped default)
    scrape: int = 30  # vmagent scrape interval (and timeout)
    refresh: float = 5.0  # collectors' targets refresh = heartbeat
    lease_refreshes: int = 3  # COLLECTOR_LEASE_REFRESHES (the shipped default)
    sd_check: int = 5  # vmagent http_sd refresh

    @classmethod
    def from_env(cls) -> Timing:
        """``INFRASTRAND_SIM_POLL`` / ``_SCRAPE`` / ``_REFRESH`` / ``_LEASE_REFRESHES`` / ``_SD_CHECK``
        override the defaults."""
        env = os.environ.get
        return cls(
            poll=int(env("INFRASTRAND_SIM_POLL", cls.poll)),
            scrape=int(env("INFRASTRAND_SIM_SCRAPE", cls.scrape)),
            refresh=float(env("INFRASTRAND_SIM_REFRESH", cls.refresh)),
            lease_refreshes=int(env("INFRASTRAND_SIM_LEASE_REFRESHES", cls.lease_refreshes)),
            sd_check=int(env("INFRASTRAND_SIM_SD_CHECK", cls.sd_check)),
        )

    @property
    def lease(self) -> float:
        return self.lease_refreshes * self.refresh

    @property
    def handover_grace(self) -> float:
        """The collectors' ``--handover-grace``: a device handed back is polled by its old member until
        the new one has polled it (first poll within one interval) and vmagent has followed."""
        return self.poll + 3.0 * self.sd_check


KEEP_SERIES = r"infrastrand_.*|ifHCInOctets|ifHCOutOctets|ifOperStatus"
"""What the simulation's vmagents forward to VictoriaMetrics (``metric_relabel_configs``): every
``infrastrand_*`` series (device_up, pending, poll figures) and the dashboards' traffic and status
columns, ~150 of a 48-port switch's ~1,270 series.  The collectors still walk and expose all 48 ports'
26 columns and vmagent still scrapes and parses them; only the central store is spared 3.8 M series
(3,000 devices), which on this 2-core host starved every other process of the simulation."""


def seed(*, devices: int, agent_port: int, poll: int) -> dict[str, list[str]]:
    """Two groups (A: 2/3 of the devices, B: the rest) of switches on 127.64.x.y; names by group."""
    from inventory import models as m

    site = m.Site.objects.create(name="Sim DC", slug="sim-dc", country="MA", strands=["infrastructure"])
    vendor = m.Manufacturer.objects.create(name="Sim", slug="sim")
    dtype = m.DeviceType.objects.create(manufacturer=vendor, model="SW-48", slug="sw-48")
    role = m.DeviceRole.objects.create(name="Access switch", slug="access-switch")
    profile = m.SnmpProfile.objects.create(
        name="sim", version="2c", community=COMMUNITY, port=agent_port, timeout=5.0, retries=2,
        modules=["system", "if_mib"],
    )  # fmt: skip
    groups = {
        slug: m.CollectorGroup.objects.create(
            name=slug, slug=slug, exporter_address="127.0.0.1:1", poll_interval=poll
        )
        for slug in (GROUP_A, GROUP_B)
    }
    names = {GROUP_A: [], GROUP_B: []}
    rows = []
    for i, _ in enumerate(addresses(FIRST_ADDRESS, devices)):
        slug = GROUP_B if i % 3 == 2 else GROUP_A
        name = f"sim-sw{i:05d}"
        names[slug].append(name)
        rows.append(
            m.Device(
                name=name, site=site, device_type=dtype, role=role, status="active",
                snmp_profile=profile, collector_group=groups[slug], monitored=True,
            )
        )  # fmt: skip
    created = m.Device.objects.bulk_create(rows, batch_size=1000)
    ips = []
    for address in addresses(FIRST_ADDRESS, devices):
        ip = m.IPAddress(address=f"{address}/32", status="active")
        ip.set_value_keys()
        ips.append(ip)
    ips = m.IPAddress.objects.bulk_create(ips, batch_size=1000)
    for device, ip in zip(created, ips, strict=True):
        device.primary_ip4 = ip
    m.Device.objects.bulk_update(created, ["primary_ip4"], batch_size=1000)
    # Documented like a real inventory: each switch's 48 ports as its agent answers them (name, admin
    # state, description), so the first polls do not open ~50 drift items per device (150,000 here).
    ports = ports_of("switch", SIM_SWITCH)
    interfaces = []
    for device in created:
        for port in ports:
            interface = m.Interface(device=device, name=port.name, type="1000base-t")
            interface.enabled, interface.description = port.admin_up, port.alias
            interface.set_stored_values()
            interfaces.append(interface)
    m.Interface.objects.bulk_create(interfaces, batch_size=5000)
    return names


def tokens() -> tuple[str, str]:
    """(collector token bound to both groups, http_sd token)."""
    from inventory.services.tokens import token_create

    _, collector, _ = token_create(username="sim-collector", collector=True, groups=(GROUP_A, GROUP_B))
    _, sd, _ = token_create(username="sim-prometheus", prometheus=True)
    return collector, sd


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc), load-independent."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class Proc:
    name: str
    args: list[str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(self.args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            assert self.popen is not None
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""


@dataclass
class Simulation:
    """The processes around an inventory at ``inventory_url``; use as a context manager."""

    workdir: Path
    inventory_url: str
    collector_token: str
    sd_token: str
    devices: int
    timing: Timing = field(default_factory=Timing)
    procs: dict[str, Proc] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    agent_port: int = 0
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    # --- processes -------------------------------------------------------------------------------

    def start_agent(self) -> int:
        """The replay agent first: its port goes into the SNMP profile."""
        log = self.workdir / "agent.log"
        proc = Proc("agent", [sys.executable, "-m", "collectors.sim.replay", "--devices", str(self.devices),
                              "--lifetime", "3600"], log).start()  # fmt: skip
        self.procs["agent"] = proc
        wait_until(lambda: "PORT " in log.read_text() or not proc.alive(), seconds=120, what="replay agent")
        assert proc.alive(), proc.tail()
        self.agent_port = int(log.read_text().split("PORT ", 1)[1].split()[0])
        return self.agent_port

    def collector_args(self, name: str, group: str) -> list[str]:
        port = self.ports.setdefault(name, free_port())
        token = self.workdir / "collector.token"
        token.write_text(self.collector_token)
        return [
            sys.executable, "-m", "collectors", "--inventory-url", self.inventory_url,
            "--token-file", str(token),
            "--group", group, "--name", name, "--listen", f"127.0.0.1:{port}",
            "--member-address", f"127.0.0.1:{port}", "--refresh", str(self.timing.refresh),
            "--handover-grace", str(self.timing.handover_grace),
            # loopback answers in microseconds: ~20 walks in flight keep up with 1,000 devices a minute,
            # and the default 500 only lengthens every walk's round trips on a CPU-starved host
            "--max-in-flight", "100",
            "--cache-dir", str(self.workdir / f"cache-{name}"), "--log-level", "WARNING",
        ]  # fmt: skip

    def start_collector(self, name: str, group: str) -> Proc:
        proc = Proc(name, self.collector_args(name, group), self.workdir / f"{name}.log").start()
        self.procs[name] = proc
        url = f"http://127.0.0.1:{self.ports[name]}/-/ready"
        wait_until(lambda: self._ok(proc, url), seconds=180, what=f"collector {name} ready")
        return proc

    def _ok(self, proc: Proc, url: str) -> bool:
        assert proc.alive(), f"{proc.name} exited:\n{proc.tail()}"
        return self.http.get(url, timeout=5).status_code == 200

    def warm_up(self) -> None:
        """One request to the inventory before the collectors' first ones: the live server imports its
        URLconf (every API module, ~4 s CPU) on its first request, which on a loaded host outlasted the
        collectors' 10 s targets timeout (a production server does this once per worker, too)."""
        auth = {"Authorization": f"Token {self.sd_token}"}
        self.http.get(f"{self.inventory_url}/api/status/", headers=auth, timeout=300).raise_for_status()

    def start_vm(self) -> None:
        port = self.ports["vm"] = free_port()
        args = [
            "victoria-metrics", f"-storageDataPath={self.workdir / 'vm-data'}",
            f"-httpListenAddr=127.0.0.1:{port}",
            "-retentionPeriod=1d", "-search.latencyOffset=0s", "-loggerLevel=WARN",
            "-search.maxQueryDuration=300s",  # a loaded host: a slow answer, not a failed query
            f"-search.maxStalenessInterval={2 * self.timing.scrape}s",
            # VictoriaMetrics closes every connection after 2 min by default (to spread load behind a
            # balancer); a vmagent block written as it closes is retried ("broken pipe"), which the test
            # counts as a remote-write error.  A single node behind no balancer keeps them.
            "-http.connTimeout=24h",
        ]  # fmt: skip
        proc = self.procs["vm"] = Proc("vm", args, self.workdir / "vm.log").start()
        wait_until(lambda: self._ok(proc, f"{self.vm}/health"), seconds=120, what="VictoriaMetrics")

    @property
    def vm(self) -> str:
        return f"http://127.0.0.1:{self.ports['vm']}"

    def start_vmagent(self, name: str, group: str, collectors: list[str]) -> None:
        token = self.workdir / "sd.token"
        token.write_text(self.sd_token)
        config = prometheus_config.repoint(
            token_file=token,
            inventory=urlsplit(self.inventory_url).netloc,
            collectors=[f"127.0.0.1:{self.ports[c]}" for c in collectors],
            scrape_interval=f"{self.timing.scrape}s",
        )
        scrape = vmagent_config(config, collector_groups=[group], jobs=prometheus_config.COLLECTOR_JOBS)
        for job in scrape["scrape_configs"]:
            if job["job_name"] == "infrastrand-devices":
                keep = {"source_labels": ["__name__"], "regex": KEEP_SERIES, "action": "keep"}
                job["metric_relabel_configs"] = [*job.get("metric_relabel_configs", []), keep]
        path = write(scrape, self.workdir / f"{name}.yml")
        port = self.ports[name] = free_port()
        args = [
            "vmagent", f"-promscrape.config={path}", f"-httpListenAddr=127.0.0.1:{port}",
            f"-remoteWrite.url={self.vm}/api/v1/write", f"-remoteWrite.tmpDataPath={self.workdir / name}",
            f"-promscrape.httpSDCheckInterval={self.timing.sd_check}s", "-remoteWrite.flushInterval=1s",
            "-loggerLevel=WARN",
        ]  # fmt: skip
        proc = self.procs[name] = Proc(name, args, self.workdir / f"{name}.log").start()
        wait_until(lambda: self._ok(proc, f"http://127.0.0.1:{port}/health"), seconds=120, what=name)

    def close(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()
        self.http.close()

    def __enter__(self) -> Simulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what the test asks ----------------------------------------------------------------------

    def assignment(self) -> dict[str, str]:
        """device name -> collector name that http_sd points Prometheus at now."""
        response = self.http.get(
            f"{self.inventory_url}/api/prometheus/sd/devices/",
            headers={"Authorization": f"Token {self.sd_token}"},
        )
        response.raise_for_status()
        by_port = {f"127.0.0.1:{port}": name for name, port in self.ports.items()}
        return {
            g["targets"][0]: by_port.get(g["labels"]["__meta_infrastrand_collector_address"], "?")
            for g in response.json()
        }

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        data = {"query": expr, **({"time": f"{at:.3f}"} if at else {})}
        body = self.http.post(f"{self.vm}/api/v1/query", data=data).json()
        assert body["status"] == "success", body
        return body["data"]["result"]

    def scalar(self, expr: str) -> float:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else 0.0

    def query_range(self, expr: str, start: float, end: float, step: int) -> list[dict]:
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step}s"}
        body = self.http.post(f"{self.vm}/api/v1/query_range", data=params).json()
        assert body["status"] == "success", body
        return body["data"]["result"]

    def export(self, match: str, start: float, end: float) -> dict[str, list[tuple[int, float]]]:
        """Raw samples per series (device label) from VictoriaMetrics' export API."""
        params = {"match[]": match, "start": f"{start:.3f}", "end": f"{end:.3f}"}
        self.http.get(f"{self.vm}/internal/force_flush")
        out: dict[str, list[tuple[int, float]]] = {}
        with self.http.stream("GET", f"{self.vm}/api/v1/export", params=params) as response:
            for line in response.iter_lines():
                if line.strip():
                    row = json.loads(line)
                    samples = [(t, v) for t, v in zip(row["timestamps"], row["values"], strict=True)
                               if v is not None and v == v]  # fmt: skip
                    out.setdefault(row["metric"].get("device", "?"), []).extend(samples)
        return out

    def metric(self, name: str, text_url: str) -> float:
        """The sum of one metric's samples on a /metrics page."""
        total = 0.0
        for line in self.http.get(text_url).text.splitlines():
            if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def vmagent_metric(self, vmagent: str, name: str) -> float:
        return self.metric(name, f"http://127.0.0.1:{self.ports[vmagent]}/metrics")


def max_gap(samples: list[tuple[int, float]]) -> float:
    """The longest time between consecutive samples, in seconds."""
    stamps = sorted(t for t, _ in samples)
    return max((b - a for a, b in itertools.pairwise(stamps)), default=0) / 1000


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    started = [time.monotonic()]
    yield started
    started.append(time.monotonic() - started[0])
