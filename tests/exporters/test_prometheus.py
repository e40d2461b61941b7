"""A real Prometheus scrapes the exporter's /snmp?target= and /snmp/all, and sees what contract 4 says."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.store import MetricFamily, PollResult, SampleStore
from tests.exporters.prometheus import Prometheus

pytestmark = pytest.mark.slow

DEVICES = ("lux-core-rtr01", "casa-core-rtr01")
INVENTORY = {"site": "luxembourg-dc1", "country": "LU", "tenant": "ctie", "role": "core-router"}
RATE_PER_IF = 1000.0  # bytes/s per ifIndex unit: ifIndex 2 moves at 2000 B/s
POLL_EVERY = 0.2


def poll(device: str, started: float, t0: float, up: bool = True) -> PollResult:
    rows = [
        (("ifIndex", str(i)), ("ifName", f"eth{i}"), ("ifDescr", f"eth{i}"), ("ifAlias", f"to core {i}"))
        for i in (1, 2)
    ]
    octets = tuple((row, 1e12 + RATE_PER_IF * int(row[0][1]) * (started - t0)) for row in rows)
    status = tuple((row, 1.0) for row in rows)
    families = (
        MetricFamily.from_samples(
            "ifHCInOctets", "counter", "The total number of octets received on the interface.", octets
        ),
        MetricFamily.from_samples(
            "ifOperStatus", "gauge", "The current operational state of the interface.", status
        ),
    )
    return PollResult(
        device, started, 0.01, up, "" if up else "timeout", 2, 4, 0, families if up else (), interval=1.0
    )


class Poller:
    """Puts a fresh poll of every device every POLL_EVERY seconds (bounded to 3 minutes)."""

    def __init__(self, store: SampleStore) -> None:
        self.store = store
        self.t0 = time.time()
        self.down: set[str] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        deadline = time.monotonic() + 180
        while not self.stop.is_set() and time.monotonic() < deadline:
            now = time.time()
            for device in DEVICES:
                self.store.put(
                    poll(device, now, self.t0, up=device not in self.down), {"device": device, **INVENTORY}
                )
            self.stop.wait(POLL_EVERY)


@pytest.fixture
def poller() -> Iterator[Poller]:
    poller = Poller(SampleStore())
    poller.thread.start()
    yield poller
    poller.stop.set()
    poller.thread.join(timeout=10)


def test_prometheus_scrapes_target_and_all(serve, poller: Poller, tmp_path: Path) -> None:
    server = serve(poller.store)
    exporter = f"127.0.0.1:{server.server.port}"
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "devices",
                "metrics_path": "/snmp",
                "static_configs": [{"targets": list(DEVICES), "labels": {"site": INVENTORY["site"]}}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__address__"], "target_label": "instance"},
                    {"source_labels": ["__address__"], "target_label": "device"},
                    {"target_label": "__address__", "replacement": exporter},
                ],
            },
            {"job_name": "all", "metrics_path": "/snmp/all", "static_configs": [{"targets": [exporter]}]},
            {"job_name": "exporter", "static_configs": [{"targets": [exporter]}]},
        ],
    }
    prometheus = Prometheus(config, tmp_path)
    try:
        prometheus.wait_for('up{job=~"devices|all|exporter"} == 1', lambda r: len(r) == 4)

        # per-device endpoint: snmp_exporter's names and labels, no _total, inventory labels from relabeling
        series = prometheus.wait_for('ifHCInOctets{job="devices"}', lambda r: len(r) == 4)
        for s in series:
            assert set(s["metric"]) == {
                "__name__",
                "ifIndex",
                "ifName",
                "ifDescr",
                "ifAlias",
                "instance",
                "job",
                "device",
                "site",
            }
        assert prometheus.query('{__name__=~".+_total", job=~"devices|all"}') == []
        metadata = prometheus.api("metadata", metric="ifHCInOctets")["ifHCInOctets"]
        assert {m["type"] for m in metadata} == {"counter"}

        # all-devices endpoint: device and inventory labels baked in
        series = prometheus.wait_for('ifHCInOctets{job="all"}', lambda r: len(r) == 4)
        assert {s["metric"]["device"] for s in series} == set(DEVICES)
        assert all(s["metric"][k] == v for s in series for k, v in INVENTORY.items())
        up = prometheus.query('infrastrand_device_up{job="all"}')
        assert sorted((s["metric"]["device"], s["value"][1]) for s in up) == sorted((d, "1") for d in DEVICES)

        # the counter moves at the simulated rate
        time.sleep(6)
        rates = prometheus.query('rate(ifHCInOctets{job="devices"}[5s])')
        assert len(rates) == 4
        for s in rates:
            expected = RATE_PER_IF * int(s["metric"]["ifIndex"])
            assert float(s["value"][1]) == pytest.approx(expected, rel=0.1), s

        # a device that stops answering: up 0, its MIB series go stale at once in both jobs
        poller.down.add("casa-core-rtr01")
        prometheus.wait_for(
            'infrastrand_device_up{device="casa-core-rtr01"} == 0',
            lambda r: {s["metric"]["job"] for s in r} == {"devices", "all"},
        )
        prometheus.wait_for('ifHCInOctets{device="casa-core-rtr01"}', lambda r: r == [])
        assert len(prometheus.query('ifHCInOctets{device="lux-core-rtr01"}')) == 4
        assert prometheus.query('infrastrand_device_up{device="lux-core-rtr01"} == 1')

        # the exporter's own metrics count the scrapes
        scrapes = prometheus.wait_for('infrastrand_exporter_requests_total{endpoint="snmp",code="200"}')
        assert float(scrapes[0]["value"][1]) > 4
    finally:
        prometheus.stop()
