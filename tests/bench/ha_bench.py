"""HA pipeline capacity (issue 16.4): the simulation at bench scale, and the 50,000-device sizing.

Runs ``tests/sim/test_ha_simulation.py`` (3 collectors, replay agent, 2 vmagents, VictoriaMetrics, the
inventory on PostgreSQL) with ``--devices`` devices (default 3,000) and the simulation's intervals (poll
60 s, scrape 30 s, heartbeat 5 s unless given), then prints what deploy/SCALING.md quotes: collector
capacity (devices/min per core, from /proc CPU time, so host load does not change it), collector memory
per device, series per device, remote-write bytes per sample, vmagent and VictoriaMetrics samples per CPU
second, and those figures scaled to 50,000 devices.  Needs ``DATABASE_URL=postgres://…``.

Run: ``python -m tests.bench.ha_bench [--devices 3000] [--poll 60] [--scrape 30] [--refresh 5]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_DEVICES = 50_000
HEADROOM = 0.5
"""Plan collectors and TSDB cores at 50 % busy: a member must absorb a dead peer's share."""


def sizing(
    report: dict[str, float], devices: int = TARGET_DEVICES, poll: float = 60.0, scrape: float = 60.0
) -> dict[str, float]:
    """The measured per-unit figures scaled to ``devices`` polled every ``poll`` and scraped every
    ``scrape`` seconds (the shipped intervals); bandwidth and ingestion scale with 1/scrape."""
    polls_per_minute = devices * 60 / poll
    collector_cores = polls_per_minute / report["devices_per_minute_per_collector_core"]
    series = devices * report["series_per_device"]
    rows_per_second = series / scrape
    bytes_per_row = report["remote_write_bytes_per_sample"]
    return {
        "devices": devices,
        "collector_cores": collector_cores,
        "collectors_2core_at_50pct": math.ceil(collector_cores / (2 * HEADROOM)),
        "collector_memory_gib": devices * report["collector_rss_bytes_per_device"] / 2**30,
        "active_series": series,
        "ingest_rows_per_second": rows_per_second,
        "vmagent_cores_at_50pct": rows_per_second / report["vmagent_samples_per_cpu_second"] / HEADROOM,
        "tsdb_cores_at_50pct": rows_per_second / report["vm_rows_per_cpu_second"] / HEADROOM,
        "remote_write_bytes_per_row": bytes_per_row,
        "remote_write_mbit_per_second": rows_per_second * bytes_per_row * 8 / 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=3000)
    ap.add_argument("--poll", type=int, help="seconds between polls (default: the simulation's, 60)")
    ap.add_argument("--scrape", type=int, help="vmagent scrape interval (default: the simulation's, 30)")
    ap.add_argument("--refresh", type=float, help="collectors' heartbeat (default: the simulation's, 5)")
    ap.add_argument("--report", type=Path, help="print the figures of a saved INFRASTRAND_SIM_REPORT instead")
    args = ap.parse_args(argv)
    if args.report:
        return show(json.loads(args.report.read_text()), 0)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("ha_bench: skipped (needs DATABASE_URL=postgres://…)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        given = {"POLL": args.poll, "SCRAPE": args.scrape, "REFRESH": args.refresh}
        env = {
            **os.environ,
            "INFRASTRAND_SIM_DEVICES": str(args.devices),
            "INFRASTRAND_SIM_REPORT": str(out),
            **{f"INFRASTRAND_SIM_{key}": str(value) for key, value in given.items() if value is not None},
        }
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/sim", "-m", "simulation", "-q", "-s", "-p", "no:logging",
             "-o", "timeout=3000"],
            cwd=ROOT, env=env, timeout=3600,
        )  # fmt: skip
        if not out.exists():
            print("ha_bench: the simulation wrote no report")
            return 1
        report = json.loads(out.read_text())
    return show(report, run.returncode)


def show(report: dict[str, float], returncode: int) -> int:
    """Print a simulation report and its 50,000-device sizing; the exit status."""
    poll, scrape = report.get("poll_interval_seconds"), report.get("scrape_interval_seconds")
    print(f"\nmeasured with {report['devices']:.0f} devices (poll {poll}s, scrape {scrape}s):")
    for key, value in sorted(report.items()):
        print(f"  {key:45s} {value:14.4g}")
    if "devices_per_minute_per_collector_core" not in report:
        print("\nthe simulation stopped before its steady-state window: no capacity figures (see above)")
        return 1
    print(
        f"\nscaled to {TARGET_DEVICES:,} devices polled and scraped every 60 s (cores {HEADROOM:.0%} busy):"
    )
    for key, value in sizing(report).items():
        print(f"  {key:45s} {value:14.4g}")
    return returncode


if __name__ == "__main__":
    sys.exit(main())
