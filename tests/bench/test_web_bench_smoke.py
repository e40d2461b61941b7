"""Smoke test of the TLS part of the exporter serving benchmark (``python -m tests.bench.web_bench --quick
--tls-only``): it runs, the scraper negotiates the suite it prefers (Go's order: AES-128-GCM; Python's:
AES-256-GCM), sessions are resumed, Prometheus 2.42 scrapes both servers (AES-128-GCM), and the callgrind
dump is read.

Performance is measured by ``make bench``, not asserted here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench import web_bench

pytestmark = pytest.mark.slow


def test_web_bench_tls_quick_run():
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.web_bench", "--quick", "--tls-only", "--no-callgrind"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rows = {
        m["name"].strip(): m["rest"]
        for m in re.finditer(
            r"^  (?P<name>[A-Za-z].{47}) +[\d.]+ +[\d.]+ +[\d./]+ +(?P<rest>.*)$", out.stdout, re.M
        )
    }
    assert rows["plain HTTP, keep-alive"].endswith(" -"), out.stdout
    assert rows["TLS + basic auth, keep-alive (Go's order)"].endswith("TLS_AES_128_GCM_SHA256"), out.stdout
    assert rows["TLS + basic auth, keep-alive (Python's order)"].endswith("TLS_AES_256_GCM_SHA384"), (
        out.stdout
    )
    assert re.search(
        r"TLS_AES_128_GCM_SHA256, (\d+) resumed$", rows["TLS + basic auth, new connection, resumed"]
    )
    prometheus = re.search(
        r"^  TLS \+ basic auth +(\d+) +[\d.]+ +[\d.]+ +[\d.]+-[\d.]+  (\S+), \d+ handshakes while measured$",
        out.stdout,
        re.M,
    )
    assert prometheus and int(prometheus[1]) > 0 and prometheus[2] == "TLS_AES_128_GCM_SHA256", out.stdout
    for cipher in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"):
        for caches in ("hot", "cold"):
            assert re.search(rf"^  {cipher} +{caches} +[\d.]+ +[\d.]+ +[\d.]+$", out.stdout, re.M), out.stdout
    assert re.search(r"AES-GCM of the body alone, OpenSSL 3.* 128-bit [\d.]+ µs", out.stdout), out.stdout
    assert re.search(r"plain [\d.]+, memory BIOs \+ one send [\d.]+, SSLSocket .* [\d.]+$", out.stdout, re.M)


def test_callgrind_dump_is_read(tmp_path: Path):
    """The instruction counts come from a real callgrind dump of Python calling into ``ssl``."""
    dump = tmp_path / "callgrind.out"
    script = "import ssl\nbio = ssl.MemoryBIO()\nfor _ in range(50):\n bio.write(b'x' * 100_000)\n bio.read()"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={dump}", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    total, in_ssl, moves = web_bench.callgrind_costs(dump)
    assert total > in_ssl > 50 * 100_000  # 5 MB written and read: the copies alone are per byte
    assert moves > 50 * 100_000
