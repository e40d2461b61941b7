"""One demo stack for every end-to-end test: ``python -m deploy.demo`` (what ``make demo`` runs) on free
loopback ports, started once for the tests/e2e package.

Tests that change the stack carry ``@pytest.mark.late(n)`` and run after all the others, by ascending
``n`` (a downed device, then Ctrl-C), so every other test sees the healthy demo.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.demo.stack import ROOT, Inventory
from inventory import demo
from tests.e2e.harness import (
    GROUP,
    POLL_INTERVAL,
    SCRAPE_INTERVAL,
    DemoStack,
    PrometheusAPI,
    free_tcp_port,
    free_udp_port_on,
)

E2E_DIR = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "late(n): an e2e test that changes the shared demo stack; runs after the others (by n)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the ``late`` e2e tests behind the other e2e tests, keeping the e2e block where it is."""
    positions = [i for i, item in enumerate(items) if E2E_DIR in Path(item.path).parents]

    def order(item: pytest.Item) -> int:
        marker = item.get_closest_marker("late")
        return marker.args[0] if marker else 0

    ordered = sorted((items[i] for i in positions), key=order)
    for position, item in zip(positions, ordered, strict=True):
        items[position] = item


@pytest.fixture(scope="package")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    work = tmp_path_factory.mktemp("demo")
    var_dir = work / "var"
    inventory, prometheus, exporter = (f"127.0.0.1:{free_tcp_port()}" for _ in range(3))
    snmp_port = free_udp_port_on([device.address for device in demo.DEVICES])
    output = work / "launcher.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deploy.demo",
                f"--var-dir={var_dir}",
                f"--inventory={inventory}",
                f"--prometheus={prometheus}",
                f"--alertmanager=127.0.0.1:{free_tcp_port()}",  # nobody listens: alerts are not under test
                f"--exporter={exporter}",
                f"--snmp-port={snmp_port}",
                f"--poll-interval={POLL_INTERVAL}",
                f"--scrape-interval={SCRAPE_INTERVAL}",
                # room for the 5-minute "for" of the demo's deliberate alert, and for the month report's
                # wait on the alert history after the take-down (tests/e2e/test_demo_strand_report.py)
                "--max-seconds=2400",
            ],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stack = DemoStack(
        process=process,
        output=output,
        var_dir=var_dir,
        inventory=Inventory(var_dir, inventory),
        prometheus=PrometheusAPI(f"http://{prometheus}"),
        exporter=exporter,
        prometheus_address=prometheus,
        snmp_port=snmp_port,
    )
    stack.prometheus.logs = stack.logs
    try:
        stack.banner = stack.read_until("demo devices are up in Prometheus", timeout=600)  # loaded machines
        stack.inventory.load_tokens()  # the launcher created them by now
        stack.targets = stack.inventory.targets(GROUP)
        yield stack
    finally:
        stack.prometheus.client.close()
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
