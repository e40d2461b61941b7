"""Smoke test of the SNMPv3 benchmark (``python -m tests.bench.usm_bench --quick``): it runs and reports.

Performance is measured by ``make bench``, not asserted here; this only proves the harness works and
that the replay agent's v3 answers are what the switch holds.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_usm_bench_quick_run():
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.usm_bench", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rows = {
        m.group(1).strip(): (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(
            r"^  (v2c wire|v3 authPriv \S+)\s+polls\s+\d+ errors\s+(\d+) varbinds\s+(\d+)", out.stdout, re.M
        )
    }
    assert set(rows) == {"v2c wire", "v3 authPriv SHA-256/AES-128"}, out.stdout
    assert rows["v2c wire"] == rows["v3 authPriv SHA-256/AES-128"]  # same walks, no errors
    assert rows["v2c wire"][0] == 0 and rows["v2c wire"][1] > 0
    assert re.search(r"start-up, 20 distinct credential sets \(first GET each\): errors 0", out.stdout), (
        out.stdout
    )
    assert re.search(r"key/engine state per device: \d+ bytes", out.stdout)
