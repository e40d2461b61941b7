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

from collectors.discovery import MAX_CONCURRENCY
from collectors.discovery_jobs import DEFAULT_RATE, DiscoveryAgent, DiscoveryMetrics
from collectors.inventory_client import InventoryClient, InventoryConfigError, TokenSource
from collectors.metrics import CollectorMetrics
from collectors.mibmodules import MODULES_DIR, ModuleError, load_modules
from collectors.observations import ObservationSender
from collectors.poller import Poller
from collectors.runtime import SWITCH_INTERVAL, run_loop, tune_gc, tune_switch_interval
from collectors.scheduler import Scheduler
from collectors.snmp import SnmpClient
from collectors.snmp.keystore import KeyStore
from collectors.store import SampleStore
from collectors.targets import (
    FileSource,
    Handover,
    InventorySource,
    Membership,
    TargetError,
    parse_shard,
    select_shard,
)
from collectors.trap_events import TrapEventSender
from collectors.traps import TrapMetrics, TrapReceiver
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
    p.add_argument(
        "--observations-interval",
        type=float,
        default=10.0,
        help="seconds between observation flushes to the inventory (default %(default)s)",
    )
    p.add_argument("--ca-file", type=Path, help="CA certificates (PEM) that sign the inventory's certificate")
    p.add_argument("--client-cert", type=Path, help="client certificate (PEM) for mTLS to the inventory")
    p.add_argument("--client-key", type=Path, help="its private key (PEM), if not in --client-cert")
    p.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow sending the token over plain HTTP to a non-loopback inventory",
    )
    p.add_argument(
        "--event-loop",
        choices=["auto", "uvloop", "asyncio"],
        default="auto",
        help="event loop: uvloop when installed (auto, the default) or asyncio's own",
    )
    p.add_argument(
        "--switch-interval",
        type=float,
        default=SWITCH_INTERVAL,
        help="seconds a thread waits for the GIL before the holder must let it go (default %(default)s; "
        "CPython's is 0.005): what bounds /-/healthy latency while polling keeps the GIL busy",
    )
    p.add_argument(
        "--traps-listen",
        help="receive SNMP traps and informs on this UDP host:port (e.g. 127.0.0.1:1162 in development, "
        "0.0.0.0:162 in production); off unless given",
    )
    p.add_argument("--traps-rate", type=float, default=20.0, help="traps per second per sender (storm limit)")
    p.add_argument("--traps-burst", type=float, default=100.0, help="traps a sender may burst above the rate")
    p.add_argument(
        "--member-address",
        help="HOST:PORT: join --group as an HA member whose devices Prometheus scrapes at this address "
        "(the inventory shares the group's devices among its live members; see deploy/SCALING.md)",
    )
    p.add_argument(
        "--discovery-rate",
        type=float,
        default=DEFAULT_RATE,
        help="discovery requests per second at most, whatever a job allows (default %(default)s)",
    )
    p.add_argument(
        "--discovery-concurrency",
        type=int,
        default=MAX_CONCURRENCY,
        help="addresses a discovery sweep works on at once, at most (default %(default)s)",
    )
    p.add_argument(
        "--no-discovery", action="store_true", help="run no discovery jobs (prefix sweeps) of the group"
    )
    p.add_argument(
        "--handover-grace",
        type=float,
        default=120.0,
        help="with --member-address: seconds a device that moved to another member (a peer came back) is "
        "still polled and served here: until the new member has polled it (within one interval) and the "
        "scrapers' http_sd has followed (60 s in the shipped prometheus.yml), so no scrape fails and no "
        "device reads pending (default %(default)s)",
    )
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    if args.member_address and (args.shard or not args.group or not args.inventory_url):
        p.error("--member-address needs --inventory-url and --group, and replaces --shard")
    if not args.inventory_url and not args.targets_file:
        p.error("give --inventory-url (with a token) or --targets-file")
    if not args.discovery_rate > 0 or args.discovery_concurrency < 1:
        p.error("--discovery-rate must be > 0 and --discovery-concurrency >= 1")
    if not args.switch_interval > 0:
        p.error("--switch-interval must be a positive number of seconds")
    if args.shard:
        try:
            args.shard = parse_shard(args.shard)
        except ValueError as exc:
            p.error(str(exc))
    return args


def read_token(args: argparse.Namespace) -> TokenSource | None:
    """The token; a `--token-file` is re-read when it changes (rotation without restart)."""
    if args.token:
        return TokenSource(args.token)
    if args.token_file:
        return TokenSource(path=args.token_file)
    token = os.environ.get("INFRASTRAND_TOKEN")
    return TokenSource(token) if token else None


def start_http(store, registry, args: argparse.Namespace, ready):
    """The exporter's HTTP server on its own thread (`exporters.http.serve`, on the same kind of event
    loop as polling), or None when `exporters` lacks it.  Raises `exporters.webconfig.WebConfigError`
    for a bad `--web.config.file`."""
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
    return http.serve(store, registry, args.listen, ready, web=web, event_loop=args.event_loop)


def prerenderer():
    """`exporters.exposition.prerender` (a poll's body rendered on the polling thread, not by the serving
    thread at its scrape), or None when `exporters` is not there."""
    try:
        return importlib.import_module("exporters.exposition").prerender
    except ImportError:
        return None


class Collector:
    """Wires targets, scheduler, SNMP clients, store, observations and HTTP together."""

    def __init__(self, args: argparse.Namespace, token: TokenSource | None) -> None:
        self.args = args
        self.modules = load_modules([MODULES_DIR, *args.modules_dir])
        self.store = SampleStore()
        self.metrics = CollectorMetrics()
        # one long-lived client for both inventory endpoints (a client per request leaked memory)
        self.inventory = (
            InventoryClient(
                args.inventory_url,
                token,
                ca_file=args.ca_file,
                client_cert=args.client_cert,
                client_key=args.client_key,
                allow_insecure_http=args.allow_insecure_http,
            )
            if args.inventory_url and token
            else None
        )
        if args.targets_file:
            self.source: FileSource | InventorySource = FileSource(args.targets_file)
        else:
            assert self.inventory is not None
            member = Membership(args.name, args.member_address, args.refresh) if args.member_address else None
            self.source = InventorySource(self.inventory, args.group, args.cache_dir, member=member)
        self.observations = (
            ObservationSender(self.inventory, args.name, flush_interval=args.observations_interval)
            if self.inventory
            else None
        )
        self.wire = SnmpClient(rcvbuf=4 * 1024 * 1024)
        if self.inventory is not None and not args.targets_file:  # SNMPv3 master keys survive restarts
            self.wire.usm.keys.store = KeyStore(
                Path(args.cache_dir) / "usm-keys.enc", lambda: self.inventory.token.current().encode()
            )
        self.pysnmp = PysnmpClient()
        self.poller = Poller(
            modules=self.modules,
            store=self.store,
            wire=self.wire,
            pysnmp=self.pysnmp,
            observe=self.observations.put if self.observations else None,
            render=prerenderer(),
        )
        self.scheduler = Scheduler(
            self.poller,
            self.metrics,
            max_in_flight=args.max_in_flight,
            # an HA member polls a dead peer's devices within one lease (3 refreshes, the inventory's
            # default) of taking them over, not up to one interval later
            first_poll_spread=3 * args.refresh if args.member_address else None,
        )
        self.discovery = None  # prefix sweeps: with an inventory and a group only
        if self.inventory is not None and not args.targets_file and args.group and not args.no_discovery:
            self.discovery = DiscoveryAgent(
                self.inventory,
                collector=args.name,
                group=args.group,
                member=args.name if args.member_address else None,
                wire=self.wire,
                modules=self.modules,
                metrics=DiscoveryMetrics(self.metrics.registry),
                rate=args.discovery_rate,
                concurrency=args.discovery_concurrency,
            )
        self.trap_events = None
        self.traps = None
        if args.traps_listen:
            if self.inventory:
                self.trap_events = TrapEventSender(self.inventory, args.name)
            self.traps = TrapReceiver(
                store=self.store,
                sink=self.trap_events.put if self.trap_events else None,
                rate=args.traps_rate,
                burst=args.traps_burst,
            )
            self.metrics.registry.register(
                TrapMetrics(self.traps, lambda: self.trap_events.dropped if self.trap_events else {})
            )
        self.metrics.bind_state(self.state)
        self.handover = Handover(args.handover_grace) if args.member_address else None
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
            "duplicate_samples": self.poller.duplicates,
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
            targets = await self.source.refresh()
        except (OSError, TargetError, ValueError) as exc:
            log.error("targets not refreshed: %s", exc)
            return
        if targets is None:  # no list known yet (inventory away, no cache): not ready, not "0 targets"
            return
        mine = select_shard(targets, self.args.shard)
        if self.handover is not None:
            mine = self.handover.targets(mine)
        self.scheduler.apply(mine)
        if self.traps is not None:
            self.traps.apply(targets)  # traps from any device of the group are attributed
            self.traps.warm_keys()
        if self.observations:
            self.observations.retain({t.name for t in mine})
        self.loaded = True
        if self.discovery is not None:  # jobs travel like targets: asked for at every refresh
            await self.discovery.refresh()

    def ready(self) -> bool:
        """A target list is applied and the inventory knows the group."""
        return self.loaded and not getattr(self.source, "group_unknown", False)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        try:
            http = start_http(self.store, self.metrics.registry, self.args, self.ready)
        except (OSError, ValueError) as exc:  # a bad web config (file and field named), listen address in use
            log.error("%s", exc)
            return 2
        await self.wire.start()
        if self.traps is not None:
            try:
                await self.traps.start(self.args.traps_listen)
            except (OSError, ValueError) as exc:
                log.error("--traps-listen %s: %s", self.args.traps_listen, exc)
                if http is not None:
                    await asyncio.to_thread(http.stop)
                await self.wire.close()
                return 2
            if self.trap_events:
                self.trap_events.start()
        self.scheduler.start()
        if self.observations:
            self.observations.start()
        log.info("collector %s started (%d MIB modules)", self.args.name, len(self.modules))
        try:
            while not self.stop.is_set():
                started = loop.time()
                await self.refresh()
                # a fixed rate, not a fixed pause: an HA member's lease is --refresh x 3 from the request's
                # start, so a slow answer must not stretch the time between heartbeats
                pause = max(0.0, self.args.refresh - (loop.time() - started))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), pause)
        finally:
            log.info("collector stopping")
            if self.discovery is not None:  # what is swept goes back; the rest resumes elsewhere
                await self.discovery.stop()
            await self.scheduler.shutdown()
            if self.observations:
                await self.observations.stop()
            if self.traps is not None:
                await self.traps.close()
            if self.trap_events:
                await self.trap_events.stop()
            if self.inventory:
                await self.inventory.aclose()
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
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    try:
        token = read_token(args)
        if args.inventory_url and not args.targets_file and not token:
            raise InventoryConfigError("no token: give --token, --token-file or INFRASTRAND_TOKEN")
        collector = Collector(args, token)
    except (ModuleError, InventoryConfigError) as exc:
        log.error("%s", exc)
        return 2
    tune_gc()
    tune_switch_interval(args.switch_interval)
    return run_loop(collector.run(), args.event_loop)


if __name__ == "__main__":
    sys.exit(main())
