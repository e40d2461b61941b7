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
            r"^  (v2c wire|v3 wire \S+|pysnmp v3 \S+)\s+polls\s+\d+ errors\s+(\d+) varbinds\s+(\d+)",
            out.stdout,
            re.M,
        )
    }
    v3 = ["v3 wire SHA-256/AES-128", "v3 wire SHA-256/noPriv", "v3 wire SHA-512/AES-256", "v3 wire SHA/DES"]
    assert set(rows) == {"v2c wire", *v3, "pysnmp v3 SHA-256/AES-128"}, out.stdout
    for name in v3:
        assert rows[name] == rows["v2c wire"]  # same walks, no errors
    assert rows["v2c wire"][0] == 0 and rows["v2c wire"][1] > 0
    assert rows["pysnmp v3 SHA-256/AES-128"][0] == 0
    for start in ("cold, master keys shipped", "cold, passwords only", "warm, passwords only"):
        assert re.search(
            rf"start-up {start} .*, 20 distinct credential sets \(first GET each\): errors 0", out.stdout
        )
    assert re.search(r"max event-loop stall \(10 ms ticker\): [\d.]+ ms", out.stdout)
    assert re.search(r"key/engine state per device: \d+ bytes", out.stdout)
