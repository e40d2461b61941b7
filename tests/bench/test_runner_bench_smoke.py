"""Smoke test of the shipped-runner benchmark (``make bench``) with tiny counts: both rows and the ratio.

Performance is measured by ``make bench``, not asserted here; this only proves the harness works.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_runner_bench_quick_run():
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.runner_bench", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rows = {
        line.split("  ")[0]: line.split()
        for line in out.stdout.splitlines()
        if line.startswith(("runner", "snmp_"))
    }
    for name in ("runner (python -m collectors)", "snmp_exporter 0.21"):
        fields = rows[name][-9:]  # devices polls scrapes errors varbinds CPU µs/vb p99 RSS
        assert int(fields[2]) > 0 and int(fields[3]) == 0 and int(fields[4]) > 0, out.stdout
    assert "ratio runner / snmp_exporter" in out.stdout
    assert "2 runners, --shard I/2" in out.stdout  # the saturation row of runners sharing the devices
    assert "ok polls per minute (48-port devices/min)" in out.stdout, out.stdout
