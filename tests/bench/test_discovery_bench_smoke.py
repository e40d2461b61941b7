"""Smoke test of the discovery sweep benchmark (``make bench``) with tiny counts: both windows are printed.

Performance is measured by ``make bench``, not asserted here; this only proves the harness works.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_discovery_bench_quick_run():
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.discovery_bench", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith("    1 ")]
    assert [r[1] for r in rows] == ["polls", "sweep"], out.stdout
    assert int(rows[1][4]) == 7, out.stdout  # every tenth host of the /26 answered
