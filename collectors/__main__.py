"""The collector process: `python -m collectors --inventory-url URL --token TOKEN [options]`.

Targets come from the inventory (refreshed with ETag, cached on disk) or from `--targets-file`.
Devices are polled on their intervals; the exporter's HTTP server (from `exporters`, when present)
serves the sample store and the self metrics; observations go back to the inventory.  SIGTERM and
SIGINT stop it gracefully.  The token may also come from `--token-file` or `INFRASTRAND_TOKEN`; it is
never logged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket
import sys
from pathlib import Path

from collectors.metrics import CollectorMetrics
from collectors.mibmodules import MODULES_DIR, ModuleError, load_modules
from collectors.observations import ObservationSender
from collectors.poller import Poller
from collectors.runtime import tune_gc
from collectors.scheduler import Scheduler
from collectors.snmp import SnmpClient
from collectors.store import SampleStore
from collectors.targets import FileSource, InventorySource, TargetError, parse_shard, select_shard
from collectors.v3 import PysnmpClient

log = logging.getLogger("collectors")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m collectors", description="infrastrand SNMP collector")
    p.add_argument("--inventory-url", help="base URL of the inventory, e.g. http://127.0.0.1:8000")
    p.add_argument("--token", help="collector API token (prefer --token-file or INFRASTRAND_TOKEN)")
    p.add_argument("--token-file", type=Path, help="file holding the collector API token")
    p.add_argument("--group", help="collector group whose targets to poll")
    p.add_argument("--shard", help="I/N: poll only shard I of N of the group (Prometheus hashmod)")
    p.add_argument("--targets-file", type=Path, help="YAML/JSON targets file instead of the inventory")
    p.add_argument("--listen", default="127.0.0.1:9781", help="HTTP listen address (default %(default)s)")
    p.add_argument(
        "--web.config.file",
        dest="web_config_file",
        type=Path,
        help="TLS and basic auth for the HTTP endpoints (Prometheus exporter-toolkit format)",
    )
    p.add_argument(
        "--web.health-without-auth",
        dest="health_without_auth",
        action="store_true",
        help="answer /-/healthy without basic auth (TLS and client certificates still apply)",
    )
    p.add_argument("--cache-dir", type=Path, default=Path("var/collector"), help="targets cache directory")
    p.add_argument("--name", default=socket.gethostname(), help="collector name sent with observations")
    p.add_argument("--modules-dir", type=Path, action="append", default=[], help="extra MIB module dir")
    p.add_argument("--refresh", type=float, default=30.0, help="seconds between target refreshes")
    p.add_argument("--max-in-flight", type=int, default=500, help="polls running at once, at most")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    if not args.inventory_url and not args.targets_file:
        p.error("give --inventory-url (with a token) or --targets-file")
    if args.shard:
        try:
            args.shard = parse_shard(args.shard)
        except ValueError as exc:
            p.error(str(exc))
    return args


def read_token(args: argparse.Namespace) -> str | None:
    if args.token:
        return args.token
    if args.token_file:
        return args.token_file.read_text().strip()
    return os.environ.get("INFRASTRAND_TOKEN")


def start_http(store, registry, args: argparse.Namespace, ready):
    """The exporter's HTTP server on its own thread (`exporters.http.serve`), or None when `exporters`
    lacks it.  Raises `exporters.webconfig.WebConfigError` for a bad `--web.config.file`."""
    try:
        http = importlib.import_module("exporters.http")
        webconfig = importlib.import_module("exporters.webconfig")
    except ImportError:
        log.warning("exporters.http not available: no HTTP endpoints served")
        return None
    web = None
    if args.web_config_file is not None:
        web = webconfig.load(args.web_config_file, health_without_auth=args.health_without_auth)
    http.raise_fd_limit()
    return http.serve(store, registry, args.listen, ready, web=web)


class Collector:
    """Wires targets, scheduler, SNMP clients, store, observations and HTTP together."""

    def __init__(self, args: argparse.Namespace, token: str | None) -> None:
        self.args = args
        self.modules = load_modules([MODULES_DIR, *args.modules_dir])
        self.store = SampleStore()
        self.metrics = CollectorMetrics()
        if args.targets_file:
            self.source: FileSource | InventorySource = FileSource(args.targets_file)
        else:
            self.source = InventorySource(args.inventory_url, token or "", args.group, args.cache_dir)
        self.observations = (
            ObservationSender(args.inventory_url, token, args.name) if args.inventory_url and token else None
        )
        self.wire = SnmpClient(rcvbuf=4 * 1024 * 1024)
        self.pysnmp = PysnmpClient()
        self.poller = Poller(
            modules=self.modules,
            store=self.store,
            wire=self.wire,
            pysnmp=self.pysnmp,
            observe=self.observations.put if self.observations else None,
        )
        self.scheduler = Scheduler(self.poller, self.metrics, max_in_flight=args.max_in_flight)
        self.metrics.bind_state(self.state)
        self.stop = asyncio.Event()
        self.loaded = False

    def state(self) -> dict:
        stats = self.wire.stats
        src = self.source.state
        inventory = (
            {}  # standalone: no inventory, so no inventory metrics (rather than a constant "down")
            if isinstance(self.source, FileSource)
            else {
                "inventory_up": src.inventory_up,
                "inventory_last_success": src.last_success,
                "from_cache": src.from_cache,
            }
        )
        return {
            "targets": self.scheduler.target_states(),
            **inventory,
            "store_series": self.store.series_count(),
            "snmp": {
                "requests": stats.requests + self.pysnmp.requests,
                "retries": stats.retries + self.pysnmp.retries,
                "timeouts": stats.timeouts + self.pysnmp.timeouts,
                # varbinds of the wrong type for their column count as malformed data too
                "malformed": {**stats.malformed, "value_type": self.poller.bad_values},
                "unexpected": dict(stats.unexpected),
            },
        }

    async def refresh(self) -> None:
        try:
            if isinstance(self.source, FileSource):
                targets = self.source.refresh()
            else:
                targets = await self.source.refresh()
        except (OSError, TargetError, ValueError) as exc:
            log.error("targets not refreshed: %s", exc)
            return
        self.scheduler.apply(select_shard(targets, self.args.shard))
        self.loaded = True

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        try:
            http = start_http(self.store, self.metrics.registry, self.args, lambda: self.loaded)
        except (OSError, ValueError) as exc:  # a bad web config (file and field named), listen address in use
            log.error("%s", exc)
            return 2
        await self.wire.start()
        self.scheduler.start()
        if self.observations:
            self.observations.start()
        log.info("collector %s started (%d MIB modules)", self.args.name, len(self.modules))
        try:
            while not self.stop.is_set():
                await self.refresh()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), self.args.refresh)
        finally:
            log.info("collector stopping")
            await self.scheduler.shutdown()
            if self.observations:
                await self.observations.stop()
            if http is not None:
                await asyncio.to_thread(http.stop)
            await self.wire.close()
            self.pysnmp.close()
            log.info("collector stopped")
        return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.ERROR)  # skipped runs are counted as overruns instead
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    token = read_token(args)
    if args.inventory_url and not args.targets_file and not token:
        log.error("no token: give --token, --token-file or INFRASTRAND_TOKEN")
        return 2
    try:
        collector = Collector(args, token)
    except ModuleError as exc:
        log.error("%s", exc)
        return 2
    tune_gc()
    return asyncio.run(collector.run())


if __name__ == "__main__":
    sys.exit(main())
