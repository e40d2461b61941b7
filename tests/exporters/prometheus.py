"""A real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port, queried over its HTTP API."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

PROMETHEUS = "/usr/bin/prometheus"


def free_port() -> int:
    """A loopback port free right now (bind port 0); whoever takes it may race: retry on failure."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Prometheus:
    """``prometheus`` with ``config`` in ``workdir``; ``query``/``wait_for`` against its API."""

    def __init__(self, config: dict[str, Any], workdir: Path, port: int | None = None) -> None:
        """Start on ``port``, or on a free port (retried if another process takes it first)."""
        self.workdir = workdir
        self.config_file = workdir / "prometheus.yml"
        self.config_file.write_text(yaml.safe_dump(config, sort_keys=False))
        self.log = (workdir / "prometheus.log").open("wb")
        for _attempt in range(1 if port else 5):
            self.port = port or free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={self.config_file}",
                    f"--storage.tsdb.path={workdir / 'prometheus-data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1d",
                    "--log.level=warn",
                ],
                stdout=self.log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches the launcher, which stops us in order
            )
            if self._wait_ready(timeout=30):
                return
            self._terminate()
        self.log.close()
        raise RuntimeError(f"prometheus did not start: {self.logs()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def logs(self) -> str:
        self.log.flush()
        return (self.workdir / "prometheus.log").read_text(errors="replace")[-4000:]

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            payload = json.load(response)
        assert payload["status"] == "success", payload
        return payload["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant vector result: [{"metric": {...}, "value": [ts, "v"]}]."""
        return self.api("query", query=expr)["result"]

    def wait_for(self, expr: str, predicate=bool, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Poll ``expr`` until ``predicate(result)`` holds (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            result = self.query(expr)
            if predicate(result):
                return result
            time.sleep(0.25)
        raise AssertionError(f"{expr!r} never satisfied the condition; last {result}\n{self.logs()}")

    def stop(self) -> None:
        self._terminate()
        self.log.close()

    def _terminate(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
