"""The import benchmark (tests/bench/import_bench.py) runs end to end on a few rows (SQLite)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_bench_quick(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["INFRASTRAND_VAR_DIR"] = str(tmp_path)
    command = [sys.executable, "-m", "tests.bench.import_bench", "--rows", "300", "--anchor-rows", "20"]
    command += ["--only", "sqlite"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    report = result.stdout
    assert "SQLite: 300 devices imported" in report, report
    for phase in ("parse", "check", "write", "changelog"):
        assert f"{phase} " in report.split("phases:", 1)[1], report
