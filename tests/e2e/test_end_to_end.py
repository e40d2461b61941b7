"""Issue 5 "done when": inventory + snmpsim agents + collector + Debian's Prometheus from deploy/.

The inventory (dev server, SQLite in a temp dir) loads the demo inventory; its SNMP profiles and
collector group are re-pointed through the API at free loopback ports; one simulated agent per demo
device answers there; the collector polls the demo group and serves the exporter; Prometheus runs
``deploy/prometheus/prometheus.yml`` with only addresses (and, for speed, intervals) changed.
Everything is asserted through Prometheus's HTTP API.
"""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from collectors.sim.agents import SimAgents
from collectors.sim.fixtures import port_rate
from deploy import prometheus_config
from tests.e2e.stack import (
    Inventory,
    Service,
    demo_agent_specs,
    free_tcp_port,
    free_udp_port_on,
    start_collector,
)
from tests.exporters.prometheus import Prometheus

pytestmark = pytest.mark.slow

GROUP = "demo"
POLL_INTERVAL = 5
INVENTORY_LABELS = ("site", "region", "country", "tenant", "role", "strands")
DOWN_DEVICE = "rabat-ups01"


@dataclass
class Stack:
    inventory: Inventory
    agents: SimAgents
    collector: Service
    prometheus: Prometheus
    targets: list[dict]
    exporter: str

    def logs(self) -> str:
        return f"--- collector\n{self.collector.logs()}\n--- prometheus\n{self.prometheus.logs()}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("e2e")
    inventory = Inventory(work / "var", f"127.0.0.1:{free_tcp_port()}")
    inventory.prepare()
    started: list = []
    try:
        inventory.start(work)
        started.append(inventory)
        addresses = sorted({t["address"] for t in inventory.targets(GROUP)})
        exporter = f"127.0.0.1:{free_tcp_port()}"
        inventory.repoint_demo(
            snmp_port=free_udp_port_on(addresses), exporter=exporter, poll_interval=POLL_INTERVAL
        )
        targets = inventory.targets(GROUP)
        assert {t["interval"] for t in targets} == {POLL_INTERVAL}
        agents = SimAgents(demo_agent_specs(targets), work / "agents")
        agents.start()
        started.append(agents)
        collector = start_collector(inventory, GROUP, exporter, work)
        started.append(collector)
        config = prometheus_config.repoint(
            inventory=inventory.address,
            collectors=[exporter],
            alertmanager=f"127.0.0.1:{free_tcp_port()}",  # nobody listens: alerts are not under test here
            token_file=inventory.token_file("read"),
            scrape_interval="2s",
        )
        prometheus = Prometheus(config, work)
        started.append(prometheus)
        yield Stack(inventory, agents, collector, prometheus, targets, exporter)
    finally:
        for part in reversed(started):
            part.stop()


def test_every_device_is_up_with_inventory_labels(stack: Stack) -> None:
    prometheus = stack.prometheus
    names = {t["name"] for t in stack.targets}
    assert len(names) >= 10
    up = prometheus.wait_for(
        'infrastrand_device_up{job="infrastrand-devices"} == 1',
        lambda r: {s["metric"]["device"] for s in r} >= names,
        timeout=120,
    )
    for series in up:
        target = next(t for t in stack.targets if t["name"] == series["metric"]["device"])
        assert series["metric"]["instance"] == target["name"]
        for label in INVENTORY_LABELS:
            assert series["metric"].get(label, "") == target["labels"][label], (label, series)
    # MIB series carry the same labels, under snmp_exporter's names
    for target in stack.targets:
        if "if_mib" not in target["modules"]:
            continue
        series = prometheus.wait_for(f'ifHCInOctets{{device="{target["name"]}"}}', bool, timeout=30)
        for s in series:
            assert {"ifIndex", "ifName", "ifDescr"} <= set(s["metric"]), s
            assert all(s["metric"].get(label, "") == target["labels"][label] for label in INVENTORY_LABELS)
    assert prometheus.query('{__name__=~"ifHC.*_total"}') == []


def test_rate_matches_the_simulated_rate(stack: Stack) -> None:
    prometheus = stack.prometheus
    switch = next(t["name"] for t in stack.targets if "lldp" in t["modules"])
    query = f'rate(ifHCInOctets{{device="{switch}", ifIndex=~"1|2|3"}}[40s])'
    # 40 s of samples, polled every 5 s: the step between polls bounds the error to ~1/8
    prometheus.wait_for(
        f'count_over_time(ifHCInOctets{{device="{switch}", ifIndex="1"}}[40s]) >= 18', bool, 120
    )
    rates = prometheus.query(query)
    assert len(rates) == 3, rates
    for s in rates:
        expected = port_rate(int(s["metric"]["ifIndex"]))
        assert float(s["value"][1]) == pytest.approx(expected, rel=0.15), (s, expected)


def test_collector_metrics_are_promtool_clean(stack: Stack) -> None:
    with urllib.request.urlopen(f"http://{stack.exporter}/metrics", timeout=10) as response:
        body = response.read()
    assert b"infrastrand_collector_polls_total" in body
    proc = subprocess.run(
        ["/usr/bin/promtool", "check", "metrics"], input=body, capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode()
    collectors = stack.prometheus.wait_for('up{job="infrastrand-collectors"} == 1', bool, 60)
    assert collectors


def test_device_taken_down_goes_to_up_zero(stack: Stack) -> None:
    prometheus = stack.prometheus
    prometheus.wait_for(f'infrastrand_device_up{{device="{DOWN_DEVICE}"}} == 1', bool, 120)
    index = next(i for i, spec in enumerate(stack.agents.specs) if spec.name == DOWN_DEVICE)
    process = stack.agents.processes[index]
    process.terminate()
    process.wait(10)
    down = prometheus.wait_for(f'infrastrand_device_up{{device="{DOWN_DEVICE}"}} == 0', bool, 60)
    assert (
        down[0]["metric"]["site"]
        == next(t for t in stack.targets if t["name"] == DOWN_DEVICE)["labels"]["site"]
    )
    # no stale values presented as fresh: its MIB series are gone, the others still answer
    prometheus.wait_for(f'upsBatteryStatus{{device="{DOWN_DEVICE}"}}', lambda r: r == [], 30)
    assert prometheus.query('count(infrastrand_device_up{job="infrastrand-devices"} == 1)')[0]["value"][
        1
    ] == str(len(stack.targets) - 1)
