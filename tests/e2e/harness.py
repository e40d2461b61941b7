"""What the end-to-end tests hold of the running demo: the launcher, its addresses, Prometheus's API."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from deploy.demo.stack import Inventory

GROUP = "demo"
POLL_INTERVAL = 10  # the demo's profiles time out after 2 s and retry once: room for a slow walk
SCRAPE_INTERVAL = "2s"


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def free_udp_port_on(addresses: list[str], attempts: int = 20) -> int:
    """A UDP port free on every one of ``addresses`` right now."""
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        try:
            for address in addresses:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError(f"no UDP port free on all of {addresses}")


@dataclass
class PrometheusAPI:
    """Instant queries against a running Prometheus's HTTP API."""

    url: str
    logs: Callable[[], str] = field(default=lambda: "")
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Evaluate ``expr`` now; fail with Prometheus's error if it is not a valid, evaluable query."""
        body = self.client.post(f"{self.url}/api/v1/query", data={"query": expr}).json()
        assert body["status"] == "success", f"{expr!r}: {body.get('errorType')}: {body.get('error')}"
        return body["data"]["result"]

    def wait_for(self, expr: str, predicate=bool, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Poll ``expr`` until ``predicate(result)`` holds (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            result = self.query(expr)
            if predicate(result):
                return result
            time.sleep(0.5)
        raise AssertionError(f"{expr!r} never satisfied the condition; last {result}\n{self.logs()}")


@dataclass
class DemoStack:
    """The running launcher, its addresses and handles on what it started."""

    process: subprocess.Popen
    output: Path
    var_dir: Path
    inventory: Inventory
    prometheus: PrometheusAPI
    exporter: str
    prometheus_address: str
    snmp_port: int
    banner: str = ""  # the launcher's output up to "all devices up"
    targets: list[dict[str, Any]] = field(default_factory=list)  # contract 1, from the inventory

    def read_until(self, needle: str, timeout: float) -> str:
        """The launcher's output once it contains ``needle`` (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output.read_text(errors="replace")
            if needle in text:
                return text
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        raise AssertionError(f"the demo never printed {needle!r}:\n{self.logs()}")

    def logs(self) -> str:
        parts = [f"--- launcher\n{self.output.read_text(errors='replace')[-4000:]}"]
        for log in sorted((self.var_dir / "logs").glob("*.log")):
            parts.append(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def take_down(self, device: str) -> None:
        """Make the simulated agent of ``device`` stop answering (the replay agent closes its socket)."""
        (self.var_dir / "agents" / "down" / device).touch()
