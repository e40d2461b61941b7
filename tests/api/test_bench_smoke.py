"""The API benchmark (tests/bench/api_bench.py) runs end to end on a tiny inventory in PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMOKE_DATABASE = "postgres://postgres@127.0.0.1:5432/infrastrand_api_bench_smoke"


def _drop_smoke_database() -> None:
    """A fresh database each run: one left by an older checkout may hold an older schema."""
    import psycopg

    with psycopg.connect(SMOKE_DATABASE.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SMOKE_DATABASE.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_api_bench_quick(tmp_path):
    _drop_smoke_database()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["INFRASTRAND_VAR_DIR"] = str(tmp_path)
    command = [
        sys.executable,
        "-m",
        "tests.bench.api_bench",
        "--devices",
        "40",
        "--interfaces",
        "3",
        "--runs",
        "2",
        "--database-url",
        SMOKE_DATABASE,
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    for endpoint in (
        "/api/dcim/devices/?limit=1000",
        "/api/prometheus/sd/devices/",
        "/api/collector/targets/",
    ):
        assert any(line.startswith(endpoint) and "ms" in line for line in lines), result.stdout
    assert any(line.startswith("target: device list of 1000") for line in lines)
