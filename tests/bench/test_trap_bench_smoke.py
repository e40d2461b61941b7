"""Smoke test of the trap benchmark (``python -m tests.bench.trap_bench --quick``): it runs and reports.

Performance is measured by ``make bench``, not asserted here."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_trap_bench_quick_run():
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.trap_bench", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    wire = re.search(r"over UDP\s+sent\s+(\d+) handled\s+(\d+) .* CPU ([\d.]+) us/trap", out.stdout)
    assert wire and int(wire[2]) > 0 and float(wire[3]) > 0, out.stdout
    assert re.search(r"handler only\s+2000 traps\s+CPU [\d.]+ us/trap", out.stdout), out.stdout
