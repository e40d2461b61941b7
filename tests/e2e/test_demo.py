"""``make demo`` (``python -m tests.e2e.demo``) on free ports: every demo device up in Prometheus, then a
clean stop on SIGINT that leaves no process and no port behind."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time

import pytest

from inventory import demo
from tests.e2e.stack import ROOT, free_tcp_port, free_udp_port_on

pytestmark = pytest.mark.slow

DEMO_ADDRESSES = [device.address for device in demo.DEVICES]


def read_until(process: subprocess.Popen, needle: str, timeout: float) -> str:
    """Stdout of ``process`` until a line contains ``needle`` (bounded by ``timeout``)."""
    seen = []
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=1):
            continue
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"never printed {needle!r}:\n{''.join(seen)}")


def refused(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


def test_demo_starts_everything_and_stops_cleanly(tmp_path) -> None:
    inventory, prometheus, exporter = (f"127.0.0.1:{free_tcp_port()}" for _ in range(3))
    snmp_port = free_udp_port_on(DEMO_ADDRESSES)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.e2e.demo",
            f"--var-dir={tmp_path / 'demo'}",
            f"--inventory={inventory}",
            f"--prometheus={prometheus}",
            f"--alertmanager=127.0.0.1:{free_tcp_port()}",
            f"--exporter={exporter}",
            f"--snmp-port={snmp_port}",
            "--poll-interval=5",
            "--scrape-interval=2s",
            "--max-seconds=600",
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = read_until(process, "demo devices are up in Prometheus", timeout=240)
        assert f"http://{inventory}/" in banner and f"http://{exporter}/snmp/all" in banner
        assert f"all {len(demo.DEVICES)} demo devices" in banner
        process.send_signal(signal.SIGINT)
        tail = read_until(process, "demo: stopped", timeout=90)
        assert process.wait(30) == 0, tail
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert refused(inventory) and refused(prometheus) and refused(exporter)
    for address in DEMO_ADDRESSES:  # every simulated agent let go of its port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((address, snmp_port))
