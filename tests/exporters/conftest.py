"""Fixtures for the exporter tests: the HTTP server on its own serving thread, promtool."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
from prometheus_client import CollectorRegistry

from collectors.store import SampleStore
from exporters import http as exporter_http
from exporters.http import Server, ServingThread
from exporters.webconfig import WebConfig

PROMTOOL = "/usr/bin/promtool"


class ServerThread:
    """The production serving thread (``exporters.http.serve``) plus ``registry``/``url`` for tests."""

    def __init__(
        self,
        store: SampleStore,
        registry: CollectorRegistry | None = None,
        ready: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.time,
        listen: str = "127.0.0.1:0",
        web: WebConfig | None = None,
    ) -> None:
        self.store = store
        self.registry = registry or CollectorRegistry()
        self.serving: ServingThread = exporter_http.serve(
            store, self.registry, listen, ready, clock=clock, web=web
        )
        self.server: Server = self.serving.server
        self.url = self.serving.url

    def stop(self) -> None:
        self.serving.stop()


@pytest.fixture
def serve() -> Iterator[Callable[..., ServerThread]]:
    started: list[ServerThread] = []

    def start(store: SampleStore, **kwargs) -> ServerThread:
        server = ServerThread(store, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def promtool_check_metrics(body: bytes) -> tuple[int, list[str]]:
    """Exit code and problem lines of ``promtool check metrics`` on ``body``."""
    proc = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=body, capture_output=True, timeout=120, check=False
    )
    lines = (proc.stdout + proc.stderr).decode().splitlines()
    return proc.returncode, [line for line in lines if line.strip()]
