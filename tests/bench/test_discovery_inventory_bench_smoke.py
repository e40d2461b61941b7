"""The inventory-side discovery bench (tests/bench/discovery_inventory_bench.py) runs end to end on a tiny
SQLite inventory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_discovery_inventory_bench_quick(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["INFRASTRAND_VAR_DIR"] = str(tmp_path)
    command = [sys.executable, "-m", "tests.bench.discovery_inventory_bench", "--sqlite", "--devices", "20",
               "--prefix-length", "28", "--rounds", "1"]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["addresses"], figures["results"]) == (14, 2)
    assert figures["approve_cpu_ms_per_device"] > 0
