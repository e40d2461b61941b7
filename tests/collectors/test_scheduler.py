"""The poll loop in real time against real snmpsim agents: intervals, backoff, changes, metrics.

The scheduling rules themselves are driven by a fake clock in ``test_scheduling.py``."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import subprocess
import time

from prometheus_client import generate_latest

from collectors.metrics import CollectorMetrics
from collectors.mibmodules import load_modules
from collectors.poller import Poller
from collectors.scheduler import Scheduler, backoff_delay, phase
from collectors.snmp import SnmpClient
from collectors.store import SampleStore
from collectors.v3 import PysnmpClient

from .conftest import sim_target


class CountingPoller(Poller):
    """The real poller, recording when each device's polls start and how many overlap."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.starts: dict[str, list[float]] = {}
        self.running: dict[str, int] = {}
        self.max_overlap: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.results: dict[str, list] = {}

    async def poll(self, target, **kw):
        name = target.name
        self.starts.setdefault(name, []).append(time.monotonic())
        self.running[name] = self.running.get(name, 0) + 1
        self.max_overlap[name] = max(self.max_overlap.get(name, 0), self.running[name])
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            result = await super().poll(target, **kw)
            self.results.setdefault(name, []).append(result)
            return result
        finally:
            self.running[name] -= 1
            self.in_flight -= 1


async def run_scheduler(
    targets,
    seconds: float,
    *,
    changes=None,
    max_in_flight: int = 10,
    max_in_flight_failing: int | None = None,
):
    store = SampleStore()
    wire = SnmpClient()
    await wire.start()
    pysnmp = PysnmpClient()
    poller = CountingPoller(modules=load_modules(), store=store, wire=wire, pysnmp=pysnmp)
    metrics = CollectorMetrics()
    scheduler = Scheduler(
        poller, metrics, max_in_flight=max_in_flight, max_in_flight_failing=max_in_flight_failing
    )
    metrics.bind_state(lambda: {"targets": scheduler.target_states(), "store_series": store.series_count()})
    scheduler.start()
    scheduler.apply(targets)
    try:
        await asyncio.sleep(seconds)
        if changes:
            scheduler.apply(changes)
            await asyncio.sleep(seconds)
    finally:
        await scheduler.shutdown(grace=5)
        await wire.close()
        pysnmp.close()
    return scheduler, poller, store, metrics


def test_backoff_grows_and_is_capped_at_one_interval():
    assert [backoff_delay(60, n) for n in range(1, 7)] == [15, 30, 60, 60, 60, 60]
    assert backoff_delay(1, 1) == 0.5 and backoff_delay(1, 10) == 1
    assert 0 <= phase("a", 60) < 60 and phase("a", 60) == phase("a", 60) != phase("b", 60)


def test_devices_poll_on_interval_and_failing_ones_back_off(sim):
    ok = sim_target(sim["switch"], interval=1.0, modules=["system"])
    failing = sim_target(sim["failing"], interval=4.0)
    scheduler, poller, store, metrics = asyncio.run(run_scheduler([ok, failing], 9.0))
    ok_starts = poller.starts[ok.name]
    assert len(ok_starts) >= 7  # ~ every second, not slowed by the failing device
    gaps = [b - a for a, b in itertools.pairwise(ok_starts)]
    assert max(gaps) < 1.6
    # failing: retried after ~1 s (a quarter of its interval), then ~2 s, each with jitter (75-100 %
    # of the nominal delay), never more than its interval
    f_starts = poller.starts[failing.name]
    f_gaps = [round(b - a, 1) for a, b in itertools.pairwise(f_starts)]
    assert len(f_starts) >= 3, f_gaps
    assert 0.7 <= f_gaps[0] <= 1.5 and 1.4 <= f_gaps[1] <= 2.6, f_gaps
    assert store.get(failing.name).result.up is False and store.get(failing.name).result.error == "genErr"
    assert store.get(ok.name).result.up is True
    assert scheduler.target_states() == {"up": 1, "down": 0, "backoff": 1, "pending": 0}
    text = generate_latest(metrics.registry).decode()
    assert 'infrastrand_collector_polls_total{result="error"}' in text
    assert 'infrastrand_collector_targets{state="backoff"} 1.0' in text


def test_target_changes_apply_without_restart(sim):
    a = sim_target(sim["switch"], interval=1.0, modules=["system"])
    b = sim_target(sim["router"], interval=1.0, modules=["system"])
    c = sim_target(sim["ups"], interval=1.0, modules=["system"])
    b_changed = sim_target(sim["router"], interval=1.0, modules=["system", "entity_sensor"])
    scheduler, poller, store, _ = asyncio.run(run_scheduler([a, b], 3.0, changes=[b_changed, c]))
    assert set(scheduler.targets) == {b.name, c.name}
    assert store.get(a.name) is None  # removed device: its series are gone
    assert a.name not in scheduler.devices
    assert any(f.name == "entPhySensorValue" for f in store.get(b.name).result.families)  # new modules used
    assert len(poller.starts[c.name]) >= 2  # added device polled


def test_self_metrics_pass_promtool(sim, tmp_path):
    ok = sim_target(sim["switch"], interval=1.0, modules=["system"])
    *_, metrics = asyncio.run(run_scheduler([ok], 2.5))
    standalone = generate_latest(metrics.registry)  # the state has no inventory: no inventory metrics
    assert b"infrastrand_collector_inventory" not in standalone
    assert b"infrastrand_collector_targets_from_cache" not in standalone
    with_inventory = {
        "targets": {"up": 1},
        "inventory_up": True,
        "inventory_last_success": 1e9,
        "from_cache": False,
    }
    metrics.bind_state(lambda: with_inventory)
    text = generate_latest(metrics.registry)
    assert b"infrastrand_collector_inventory_up 1.0" in text
    for name in (
        "infrastrand_collector_polls_total",
        "infrastrand_collector_poll_duration_seconds_bucket",
        "infrastrand_collector_scheduler_lag_seconds_count",
        "infrastrand_collector_poll_overruns_total",
        "infrastrand_collector_targets",
        "infrastrand_collector_in_flight",
        "infrastrand_collector_behind_seconds",
        "infrastrand_collector_duplicate_samples_total",
        "infrastrand_collector_inventory_up",
        "infrastrand_collector_inventory_last_success_timestamp_seconds",
        "infrastrand_collector_targets_from_cache",
        "infrastrand_collector_store_series",
        "infrastrand_snmp_requests_total",
        "infrastrand_snmp_retries_total",
        "infrastrand_snmp_timeouts_total",
        "infrastrand_snmp_unexpected_responses_total",
        "process_cpu_seconds_total",
    ):
        assert name.encode() in text, name
    lag_count = [
        ln
        for ln in text.decode().splitlines()
        if ln.startswith("infrastrand_collector_scheduler_lag_seconds_count")
    ]
    assert float(lag_count[0].split()[-1]) >= 2  # every poll observed its lag
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is required"
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_global_in_flight_limit(sim):
    """One slot for devices that answered and one for devices that failed their last poll."""
    targets = [sim_target(sim[kind], interval=5.0) for kind in ("switch", "router", "ups", "server")]
    _, poller, _store, _ = asyncio.run(run_scheduler(targets, 8.0, max_in_flight=1, max_in_flight_failing=1))
    assert poller.max_in_flight <= 2
    assert all(any(r.up for r in poller.results[t.name]) for t in targets), poller.results  # all polled
