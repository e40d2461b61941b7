"""Fixtures for the exporter tests: the HTTP server on its own event loop thread, promtool."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from prometheus_client import CollectorRegistry

from collectors.store import SampleStore
from exporters.http import Server, start_http

PROMTOOL = "/usr/bin/promtool"


class ServerThread:
    """``start_http`` running in an event loop on a background thread, for blocking test clients."""

    def __init__(
        self,
        store: SampleStore,
        registry: CollectorRegistry | None = None,
        ready: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.time,
        listen: str = "127.0.0.1:0",
    ) -> None:
        self.store = store
        self.registry = registry or CollectorRegistry()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="exporter-http", daemon=True)
        self.thread.start()
        self.server: Server = self.call(start_http(store, self.registry, listen, ready, clock=clock))
        self.url = self.server.url

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def stop(self) -> None:
        async def close() -> None:
            self.server.close()
            await self.server.wait_closed()

        self.call(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


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
