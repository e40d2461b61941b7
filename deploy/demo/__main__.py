"""``make demo``: the whole stack on one machine, on the demo inventory, until Ctrl-C.

Migrates the embedded SQLite database, loads the demo inventory, starts one replay agent process
(:mod:`collectors.sim.replay`) that simulates every demo device on its own address (moving counters), the
web app, the collector with its exporter and, where the
``prometheus-alertmanager`` binary exists, an Alertmanager with the shipped routing (its alert-history
webhook pointed at the demo inventory), and where the ``prometheus`` binary exists, a Prometheus
running the shipped ``deploy/prometheus/prometheus.yml`` with only addresses changed (and its
intervals shortened to 15 s unless ``--scrape-interval shipped``).  Prints the URLs, reports when
every demo device is up in Prometheus, and stops everything in order on Ctrl-C or SIGTERM.

    python -m deploy.demo [--var-dir var/demo] [--inventory 127.0.0.1:8000] [--prometheus 127.0.0.1:9090]

The other options re-point the demo inventory through its API (tests use them for free ports;
``--agent-network 127.0.2.0/24`` moves the devices off ``127.0.1.0/24``).  A device taken down (an empty
file named after it in ``<var-dir>/agents/down/``) or the agent process exiting is reported and the demo
goes on; if the inventory, the collector or Prometheus exits, the demo stops.  The demo prints how many
seconds after its start the agents answered and every device was up in Prometheus.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from deploy import prometheus_config
from deploy.demo.stack import (
    ALERTMANAGER,
    PROMETHEUS,
    ROOT,
    Inventory,
    agent_addresses,
    demo_agent_specs,
    start_agents,
    start_alertmanager,
    start_collector,
    start_prometheus,
)
from inventory import demo

GROUP = "demo"
DEMO_POLL_INTERVAL = 15  # seconds: like the 15 s scrape interval, so every device is up sooner
AGENTS_START_SECONDS = 120  # one replay agent process: about a second idle, more on a loaded machine


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m deploy.demo", description=__doc__.splitlines()[0])
    p.add_argument("--var-dir", type=Path, default=ROOT / "var" / "demo", help="state (default %(default)s)")
    p.add_argument("--inventory", default="127.0.0.1:8000", help="web app address (default %(default)s)")
    p.add_argument("--prometheus", default="127.0.0.1:9090", help="Prometheus address (default %(default)s)")
    p.add_argument(
        "--alertmanager", default="127.0.0.1:9093", help="Alertmanager address, where Prometheus sends alerts"
    )
    p.add_argument("--exporter", help="re-point the demo collector group's exporter to host:port")
    p.add_argument("--snmp-port", type=int, help="re-point every SNMP profile to this UDP port")
    p.add_argument(
        "--agent-network",
        help=f"serve the demo devices on this network (host N for the inventory's {demo.MANAGEMENT_PREFIX}"
        " address .N) instead; default: the inventory's loopback addresses",
    )
    p.add_argument(
        "--poll-interval",
        type=int,
        help="re-point every device's poll interval (seconds; default 15, so first polls, which are spread "
        "over one interval, are done within 15 s; with '--scrape-interval shipped' the inventory's)",
    )
    p.add_argument(
        "--scrape-interval",
        default="15s",
        help="every Prometheus interval (default %(default)s, so the demo is up within a minute or two; "
        "'shipped' keeps the shipped 30s/60s)",
    )
    p.add_argument("--max-seconds", type=float, default=0, help="stop by itself after this long (0: never)")
    return p.parse_args(argv)


def devices_up(prometheus: str) -> set[str]:
    """Names of the devices Prometheus sees up, with inventory labels, at ``prometheus`` (host:port)."""
    query = urllib.parse.urlencode({"query": 'infrastrand_device_up{job="infrastrand-devices"} == 1'})
    with urllib.request.urlopen(f"http://{prometheus}/api/v1/query?{query}", timeout=5) as response:
        return {s["metric"]["device"] for s in json.load(response)["data"]["result"] if "site" in s["metric"]}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.monotonic()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # Ctrl-C: KeyboardInterrupt while starting up
    workdir = args.var_dir
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    started: list = []
    try:
        if args.agent_network:
            agent_addresses(
                args.agent_network
            )  # a bad network: one line now, not after the inventory started
        inventory = Inventory(workdir, args.inventory)
        if Path(PROMETHEUS).exists():  # device and interface pages graph from the demo's Prometheus
            inventory.env.setdefault("INFRASTRAND_PROMETHEUS_URL", f"http://{args.prometheus}")
        print("demo: migrating and loading the demo inventory ...", flush=True)
        inventory.prepare()
        inventory.start(workdir / "logs")
        started.append(inventory)
        inventory.repoint_demo(
            snmp_port=args.snmp_port,
            exporter=args.exporter,
            poll_interval=args.poll_interval
            or (None if args.scrape_interval == "shipped" else DEMO_POLL_INTERVAL),
            agent_network=args.agent_network,
        )
        exporter = inventory.collector_group(GROUP)["exporter_address"]
        targets = inventory.targets(GROUP)
        print(f"demo: starting {len(targets)} simulated SNMP agents (one replay process) ...", flush=True)
        agents_start = time.monotonic()
        agents = start_agents(demo_agent_specs(targets), workdir, AGENTS_START_SECONDS)
        started.append(agents)
        print(
            f"demo: simulated SNMP agents answering in {time.monotonic() - agents_start:.1f} s "
            f"({time.monotonic() - start:.1f} s after start)",
            flush=True,
        )
        collector = start_collector(inventory, GROUP, exporter, workdir / "logs")
        started.append(collector)
        core = [inventory.server, collector]
        alertmanager = None
        if Path(ALERTMANAGER).exists():
            alertmanager = start_alertmanager(inventory, args.alertmanager, workdir, workdir / "logs")
            started.append(alertmanager)
        prometheus = None
        if Path(PROMETHEUS).exists():
            config = prometheus_config.repoint(
                inventory=args.inventory,
                collectors=[exporter],
                alertmanager=args.alertmanager,
                token_file=inventory.token_file("read"),
                scrape_interval=None if args.scrape_interval == "shipped" else args.scrape_interval,
                # Alert links: this inventory unless INFRASTRAND_URL says otherwise (Grafana, runbook too).
                links=prometheus_config.Links.from_env({"INFRASTRAND_URL": inventory.url, **os.environ}),
                rules_dir=workdir / "rules",
            )
            prometheus = start_prometheus(config, workdir, args.prometheus, workdir / "logs")
            started.append(prometheus)
            core.append(prometheus)
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        print(
            "\ninfrastrand demo is running (Ctrl-C stops everything):\n"
            f"  inventory web UI   http://{args.inventory}/   (user demo-admin, password in "
            f"{inventory.password_file})\n"
            f"  inventory API      http://{args.inventory}/api/   "
            f"(read token in {inventory.token_file('read')})\n"
            f"  exporter           http://{exporter}/snmp/all   /snmp?target=<device>   /metrics\n"
            + (
                f"  Prometheus         http://{args.prometheus}/\n"
                if prometheus
                else "  Prometheus         (not installed)\n"
            )
            + (
                f"  Alertmanager       http://{args.alertmanager}/   (alert history: every device page)\n"
                if alertmanager
                else ""
            )
            + f"  logs               {workdir / 'logs'}\n",
            flush=True,
        )
        names = {t["name"] for t in targets}
        agents_running = set(names)
        down_dir = workdir / "agents" / "down"
        reported = prometheus is None
        while not stop.wait(2.0):
            if args.max_seconds and time.monotonic() - start > args.max_seconds:  # bounded runs
                break
            exited = [part.name for part in core if part.process.poll() is not None]
            if exited and not stop.is_set():
                print(f"demo: {', '.join(exited)} exited; stopping (see the logs)", flush=True)
                return 1
            if agents.process.poll() is not None and agents_running:
                print("demo: the simulated agents exited: every device is down (see the logs)", flush=True)
                agents_running.clear()
            for name in sorted(agents_running & {p.name for p in down_dir.iterdir()}):
                agents_running.discard(name)
                print(f"demo: the simulated agent of {name} was taken down: the device is down", flush=True)
            if not reported:
                try:
                    up = devices_up(args.prometheus)
                except OSError:
                    continue
                if up >= names:
                    reported = True
                    print(
                        f"demo: all {len(names)} demo devices are up in Prometheus with inventory labels "
                        f"({time.monotonic() - start:.0f} s after start)",
                        flush=True,
                    )
        return 0
    except KeyboardInterrupt:
        return 130
    except (
        RuntimeError,
        TimeoutError,
        ValueError,
    ) as exc:  # a part did not start: say which, without a traceback
        print(f"demo: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("demo: stopping ...", flush=True)
        for part in reversed(started):
            part.stop()
        print("demo: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
