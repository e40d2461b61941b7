"""Multi-process HA simulation (issue 16.3), marker ``simulation``: kill -9 a collector, nothing goes dark.

Three collectors (two in group A, one in group B) poll ``INFRASTRAND_SIM_DEVICES`` simulated 48-port
switches (default 60 in CI; the bench runs 3,000) served by one replay agent; two vmagents (one per
group) scrape them with the shipped relabeling and remote-write to one VictoriaMetrics; the inventory
runs on PostgreSQL (pytest-django's live server).  One collector of group A is killed with SIGKILL:
its devices must be polled by the other within the lease, no ``infrastrand_device_up`` series may have
a gap over two poll intervals, DeviceDown's expression must never hold; restarted, it takes back only its
rendezvous share.  Scrape and remote-write errors are read from the vmagents' own metrics.

The measured figures (CPU, memory, series, bandwidth, ingestion) are printed and, with
``INFRASTRAND_SIM_REPORT=<file>``, written as JSON for ``tests/bench/ha_bench.py`` and deploy/SCALING.md.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from django.db import connection

from deploy import prometheus_config
from tests.deploy.servers import wait_until
from tests.sim.harness import (
    GROUP_A,
    GROUP_B,
    Simulation,
    Timing,
    cpu_seconds,
    max_gap,
    rss_bytes,
    seed,
    tokens,
)

pytestmark = [
    pytest.mark.simulation,
    pytest.mark.timeout(1800),  # bounded waits inside; a loaded CI host needs more than the default 600 s
    pytest.mark.skipif(
        not (shutil.which("victoria-metrics") and shutil.which("vmagent")),
        reason="Debian victoria-metrics not installed",
    ),
]

DEVICES = int(os.environ.get("INFRASTRAND_SIM_DEVICES", "60"))


def device_down_expr() -> str:
    """The shipped InfrastrandDeviceDown expression (read from the rules, not restated)."""
    import yaml

    rules = yaml.safe_load((prometheus_config.RULES_DIR / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "InfrastrandDeviceDown":
                return rule["expr"]
    raise AssertionError("no InfrastrandDeviceDown rule")


@pytest.mark.django_db(transaction=True)
def test_killing_a_collector_keeps_every_device_monitored(live_server, settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the simulation's inventory runs on PostgreSQL (issue 16.3): DATABASE_URL=postgres://…")
    timing = Timing.from_env()
    settings.COLLECTOR_LEASE_REFRESHES = timing.lease_refreshes  # the live server's thread reads it
    report: dict[str, float] = {"devices": DEVICES}
    sim = Simulation(tmp_path, live_server.url, "", "", DEVICES, timing)
    try:
        run(sim, timing, report)
    finally:
        report["lease_seconds"] = timing.lease
        print("\nHA simulation:", json.dumps(report, indent=1, sort_keys=True))
        if os.environ.get("INFRASTRAND_SIM_REPORT"):
            with open(os.environ["INFRASTRAND_SIM_REPORT"], "w") as out:
                json.dump(report, out, indent=1, sort_keys=True)


def run(sim: Simulation, timing: Timing, report: dict[str, float]) -> None:
    """The scenario; fills ``report`` as it goes (printed even when an assertion fails)."""
    with sim:
        names = seed(devices=DEVICES, agent_port=sim.start_agent(), poll=timing.poll)
        sim.collector_token, sim.sd_token = tokens()
        group_a, group_b = set(names[GROUP_A]), set(names[GROUP_B])
        sim.start_vm()
        for name, group in (("col-a1", GROUP_A), ("col-a2", GROUP_A), ("col-b1", GROUP_B)):
            sim.start_collector(name, group)
        sim.start_vmagent("vmagent-a", GROUP_A, ["col-a1", "col-a2"])
        sim.start_vmagent("vmagent-b", GROUP_B, ["col-b1"])

        # steady state: every device up in VictoriaMetrics, group A split between its two members
        started = time.time()
        wait_until(
            lambda: sim.scalar('count(infrastrand_device_up{job="infrastrand-devices"} == 1)') == DEVICES,
            seconds=120 + DEVICES * 0.2, what=f"{DEVICES} devices up in VictoriaMetrics", step=1,
        )  # fmt: skip
        report["startup_seconds"] = time.time() - started
        before = sim.assignment()
        assert {d for d, c in before.items() if c == "col-b1"} == group_b
        a2_devices = {d for d, c in before.items() if c == "col-a2"}
        assert a2_devices and {d for d, c in before.items() if c == "col-a1"} | a2_devices == group_a

        # measure a steady window: collector CPU and memory, ingestion, bandwidth
        report.update(measure(sim, seconds=max(3 * timing.poll, 30), group_a=len(group_a)))
        window_start = time.time()

        # kill -9 one collector of group A
        failed_a = sim.vmagent_metric("vmagent-a", "vm_promscrape_scrapes_failed_total")
        killed_at = time.time()
        sim.procs["col-a2"].kill9()
        wait_until(
            lambda: all(sim.assignment()[d] == "col-a1" for d in a2_devices),
            seconds=timing.lease + 10 * timing.refresh + 30, what="col-a2's devices on col-a1", step=0.5,
        )  # fmt: skip
        report["reassigned_after_seconds"] = time.time() - killed_at
        col_a1 = f"http://127.0.0.1:{sim.ports['col-a1']}/metrics"
        wait_until(
            lambda: sim.metric('infrastrand_collector_targets{state="up"}', col_a1) >= len(group_a),
            seconds=timing.lease + timing.poll * 3 + 30, what="col-a1 polling all of group A", step=0.5,
        )  # fmt: skip
        report["polled_by_survivor_after_seconds"] = time.time() - killed_at
        time.sleep(2 * timing.poll)  # a stretch of the survivor alone, for the gap check

        # restart it: only its rendezvous share comes back
        alone = sim.assignment()
        sim.start_collector("col-a2", GROUP_A)
        wait_until(
            lambda: sum(c == "col-a2" for c in sim.assignment().values()) > 0,
            seconds=timing.lease + 30, what="col-a2 back in group A", step=0.5,
        )  # fmt: skip
        time.sleep(2 * timing.refresh)
        after = sim.assignment()
        moved = [d for d in group_a if alone[d] != after[d]]
        report["moved_back_fraction"] = len(moved) / len(group_a)
        assert all(after[d] == "col-a2" for d in moved)
        assert set(moved) == a2_devices  # exactly its own share: the rendezvous winners, nothing else
        wait_until(
            lambda: sim.scalar('count(infrastrand_device_up{job="infrastrand-devices"} == 1)') == DEVICES,
            seconds=3 * timing.poll + 60, what="every device up again after the restart", step=1,
        )  # fmt: skip
        time.sleep(3 * timing.scrape)
        failed_settled = sim.vmagent_metric("vmagent-a", "vm_promscrape_scrapes_failed_total")
        time.sleep(3 * timing.scrape)
        end = time.time()

        # no gap over two poll intervals in any device's series; DeviceDown never held
        series = sim.export('infrastrand_device_up{job="infrastrand-devices"}', window_start, end)
        assert set(series) == group_a | group_b
        gaps = {device: max_gap(samples) for device, samples in series.items()}
        report["max_gap_seconds"] = max(gaps.values())
        report["max_gap_killed_devices_seconds"] = max(gaps[d] for d in a2_devices)
        assert report["max_gap_seconds"] <= 2 * timing.poll, sorted(gaps.items(), key=lambda kv: -kv[1])[:5]
        down = sim.query_range(device_down_expr(), window_start, end, timing.scrape)
        assert down == [], down[:3]

        # scrape and remote-write errors: none, except the killed collector's own scrapes while dead
        report["scrapes_failed_b"] = sim.vmagent_metric("vmagent-b", "vm_promscrape_scrapes_failed_total")
        report["scrapes_failed_a_before_kill"] = failed_a
        assert report["scrapes_failed_b"] == 0
        assert failed_a == 0
        assert sim.vmagent_metric("vmagent-a", "vm_promscrape_scrapes_failed_total") == failed_settled
        for agent in ("vmagent-a", "vmagent-b"):
            assert sim.vmagent_metric(agent, "vmagent_remotewrite_retries_count_total") == 0
            assert sim.vmagent_metric(agent, "vmagent_remotewrite_packets_dropped_total") == 0
        report["scrapes_failed_while_dead"] = failed_settled - failed_a


def measure(sim: Simulation, *, seconds: float, group_a: int) -> dict[str, float]:
    """CPU (from /proc, load-independent), memory and pipeline rates over a steady window."""
    collectors = ("col-a1", "col-a2", "col-b1")
    pids = {name: sim.procs[name].pid for name in (*collectors, "vm", "vmagent-a", "vmagent-b", "agent")}
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    polls0 = {c: polls(sim, c) for c in collectors}
    sent0 = sum(
        sim.vmagent_metric(a, "vmagent_remotewrite_bytes_sent_total") for a in ("vmagent-a", "vmagent-b")
    )
    rows0 = sim.metric("vm_rows_inserted_total", f"{sim.vm}/metrics")
    t0 = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    cpu = {name: cpu_seconds(pid) - cpu0[name] for name, pid in pids.items()}
    polled = sum(polls(sim, c) - polls0[c] for c in collectors)
    sent = sum(
        sim.vmagent_metric(a, "vmagent_remotewrite_bytes_sent_total") for a in ("vmagent-a", "vmagent-b")
    )
    rows = sim.metric("vm_rows_inserted_total", f"{sim.vm}/metrics") - rows0
    collector_cpu = sum(cpu[c] for c in collectors)
    series = sim.scalar('count({job="infrastrand-devices"})')
    return {
        "window_seconds": elapsed,
        "device_polls_per_minute": polled / elapsed * 60,
        "collector_cpu_seconds_per_device_poll": collector_cpu / max(polled, 1),
        "devices_per_minute_per_collector_core": polled / max(collector_cpu, 1e-9) * 60,
        "collector_rss_bytes_total": sum(rss_bytes(pids[c]) for c in collectors),
        "collector_rss_bytes_per_device": sum(rss_bytes(pids[c]) for c in collectors) / sim.devices,
        "series_per_device": series / sim.devices,
        "vm_rss_bytes_per_series": rss_bytes(pids["vm"]) / max(series, 1),
        "remote_write_bytes_per_second": (sent - sent0) / elapsed,
        "vm_rows_per_second": rows / elapsed,
        "vm_rows_per_cpu_second": rows / max(cpu["vm"], 1e-9),
        "vmagent_cpu_fraction": (cpu["vmagent-a"] + cpu["vmagent-b"]) / elapsed,
        "agent_cpu_fraction": cpu["agent"] / elapsed,
        "collector_cpu_fraction": collector_cpu / elapsed,
        "scrape_interval_seconds": sim.timing.scrape,
        "poll_interval_seconds": sim.timing.poll,
        "group_a_devices": group_a,
    }


def polls(sim: Simulation, collector: str) -> float:
    return sim.metric("infrastrand_collector_polls_total", f"http://127.0.0.1:{sim.ports[collector]}/metrics")
