"""Smoke test of the memory bench (``make bench``) with tiny counts: both slopes are printed.

The slope is measured by ``make bench``, not asserted here; this only proves the harness works against
a real inventory dev server.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_memory_bench_quick_run():
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.memory_bench", "--quick"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(
        r"^40 cycles in \d+ s, the last 30 sampled \(\d+ with full observations", out.stdout, re.M
    ), out.stdout
    assert re.search(r"^traced Python memory slope: [+-]\d+\.\d+ MiB per 1,000 cycles", out.stdout, re.M)
    assert re.search(r"^RSS slope: [+-]\d+\.\d+ MiB per 1,000 cycles", out.stdout, re.M)
