"""Issue 5 "done when": inventory + snmpsim agents + collector + Debian's Prometheus from deploy/.

The demo launcher (``python -m deploy.demo``, the shared ``demo_stack`` fixture) runs the inventory dev
server on SQLite with the demo inventory, its SNMP profiles and collector group re-pointed through the API
at free loopback ports, one simulated agent per demo device, the collector polling the demo group and
serving the exporter, and Prometheus running ``deploy/prometheus/prometheus.yml`` with only addresses
(and, for speed, intervals) changed.  Everything is asserted through Prometheus's HTTP API.
"""

from __future__ import annotations

import subprocess
import urllib.request

import pytest

from collectors.sim.fixtures import port_rate
from tests.e2e.harness import POLL_INTERVAL, SCRAPE_INTERVAL, DemoStack

pytestmark = pytest.mark.slow

INVENTORY_LABELS = ("site", "region", "country", "tenant", "role", "strands")
DOWN_DEVICE = "rabat-ups01"
SCRAPE_SECONDS = int(SCRAPE_INTERVAL.removesuffix("s"))


def test_every_device_is_up_with_inventory_labels(demo_stack: DemoStack) -> None:
    prometheus = demo_stack.prometheus
    names = {t["name"] for t in demo_stack.targets}
    assert len(names) >= 10
    assert {t["interval"] for t in demo_stack.targets} == {POLL_INTERVAL}
    up = prometheus.wait_for(
        'infrastrand_device_up{job="infrastrand-devices"} == 1',
        lambda r: {s["metric"]["device"] for s in r} >= names,
        timeout=120,
    )
    for series in up:
        target = next(t for t in demo_stack.targets if t["name"] == series["metric"]["device"])
        assert series["metric"]["instance"] == target["name"]
        for label in INVENTORY_LABELS:
            assert series["metric"].get(label, "") == target["labels"][label], (label, series)
    # MIB series carry the same labels, under snmp_exporter's names
    for target in demo_stack.targets:
        if "if_mib" not in target["modules"]:
            continue
        series = prometheus.wait_for(f'ifHCInOctets{{device="{target["name"]}"}}', bool, timeout=30)
        for s in series:
            assert {"ifIndex", "ifName", "ifDescr"} <= set(s["metric"]), s
            assert all(s["metric"].get(label, "") == target["labels"][label] for label in INVENTORY_LABELS)
    assert prometheus.query('{__name__=~"ifHC.*_total"}') == []


def test_rate_matches_the_simulated_rate(demo_stack: DemoStack) -> None:
    prometheus = demo_stack.prometheus
    switch = next(t["name"] for t in demo_stack.targets if "lldp" in t["modules"])
    # Ten polls in the window: the counter moves in steps, one per poll, which bounds the error to ~1/10.
    window = 10 * POLL_INTERVAL
    query = f'rate(ifHCInOctets{{device="{switch}", ifIndex=~"1|2|3"}}[{window}s])'
    # rate() divides by the whole window: wait until the series covers it (all but one scrape)
    full = window // SCRAPE_SECONDS - 1
    prometheus.wait_for(
        f'count_over_time(ifHCInOctets{{device="{switch}", ifIndex="1"}}[{window}s]) >= {full}', bool, 180
    )
    rates = prometheus.query(query)
    assert len(rates) == 3, rates
    for s in rates:
        expected = port_rate(int(s["metric"]["ifIndex"]))
        assert float(s["value"][1]) == pytest.approx(expected, rel=0.15), (s, expected)


def test_collector_metrics_are_promtool_clean(demo_stack: DemoStack) -> None:
    with urllib.request.urlopen(f"http://{demo_stack.exporter}/metrics", timeout=10) as response:
        body = response.read()
    assert b"infrastrand_collector_polls_total" in body
    proc = subprocess.run(
        ["/usr/bin/promtool", "check", "metrics"], input=body, capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode()
    collectors = demo_stack.prometheus.wait_for('up{job="infrastrand-collectors"} == 1', bool, 60)
    assert collectors


@pytest.mark.late(1)
def test_device_taken_down_goes_to_up_zero(demo_stack: DemoStack) -> None:
    prometheus = demo_stack.prometheus
    prometheus.wait_for(f'infrastrand_device_up{{device="{DOWN_DEVICE}"}} == 1', bool, 120)
    demo_stack.take_down(DOWN_DEVICE)
    demo_stack.read_until(f"the simulated agent of {DOWN_DEVICE} was taken down", 30)
    down = prometheus.wait_for(f'infrastrand_device_up{{device="{DOWN_DEVICE}"}} == 0', bool, 60)
    assert (
        down[0]["metric"]["site"]
        == next(t for t in demo_stack.targets if t["name"] == DOWN_DEVICE)["labels"]["site"]
    )
    # no stale values presented as fresh: its MIB series are gone, the others still answer
    prometheus.wait_for(f'upsBatteryStatus{{device="{DOWN_DEVICE}"}}', lambda r: r == [], 30)
    assert prometheus.query('count(infrastrand_device_up{job="infrastrand-devices"} == 1)')[0]["value"][
        1
    ] == str(len(demo_stack.targets) - 1)
