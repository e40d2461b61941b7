"""Every dashboard and rule query against a real Prometheus that scraped the real collector.

Simulated SNMP agents (snmpsim, collectors.sim) for a switch, a server, a router and a UPS; the
collector (``python -m collectors --targets-file``) polls them and serves the exposition; Prometheus
runs the shipped config (addresses changed only). The inventory's http_sd and /metrics come from the
contract-4 stand-in (tests/deploy/synthetic.py): the end-to-end test with the real inventory swaps
that one piece.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from collectors.sim.agents import free_udp_port
from deploy import prometheus_config, queries
from tests.deploy import synthetic
from tests.deploy.servers import StaticServer, free_port, instant_query, prometheus, wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# name -> (simulated kind, modules, site, tenant, role); names that neither the demo nor other tests use
DEVICES = {
    "dt-casa-sw01": (
        "switch",
        ["system", "if_mib", "entity", "lldp"],
        "casablanca-dc1",
        "add",
        "access-switch",
    ),
    "dt-casa-rtr01": (
        "router",
        ["system", "if_mib", "entity", "entity_sensor"],
        "casablanca-dc1",
        "add",
        "core-router",
    ),
    "dt-lux-srv01": (
        "server",
        ["system", "if_mib", "host_resources", "ucd"],
        "luxembourg-dc1",
        "ctie",
        "server",
    ),
    "dt-lux-ups01": ("ups", ["system", "if_mib", "ups_mib"], "luxembourg-dc1", "ctie", "ups"),
}
# Run from a targets file the collector has no inventory: it exports no inventory metrics, so these
# panels are empty here (and InfrastrandCollectorInventoryUnreachable stays quiet, as in a healthy demo).
STANDALONE = {
    "infrastrand-collectors:Inventory reachable:A",
    "infrastrand-collectors:Since last inventory sync:A",
    "infrastrand-collectors:Targets from cache:A",
}


def targets_document() -> dict:
    targets = []
    for index, (name, (_kind, modules, site, tenant, role)) in enumerate(DEVICES.items(), start=1):
        targets.append(
            {
                "id": index,
                "name": name,
                "address": "127.0.0.1",
                "port": free_udp_port(),
                "version": "2c",
                "community": name,
                "interval": 10,
                "timeout": 2.0,
                "retries": 1,
                "modules": modules,
                "labels": {"device": name, "site": site, "tenant": tenant, "role": role},
            }
        )
    return {"group": "main", "targets": targets}


def sd_groups(collector: str) -> list[dict]:
    groups = []
    for name, (_kind, _modules, site, tenant, role) in DEVICES.items():
        info = synthetic.SITES[site]
        labels = {
            "device": name,
            "site": site,
            "region": info["region"],
            "country": info["country"],
            "tenant": tenant,
            "role": role,
            "strands": ",e-government,infrastructure,",
            "status": "active",
            "collector_address": collector,
        }
        groups.append(
            {"targets": [name], "labels": {f"__meta_infrastrand_{k}": v for k, v in labels.items()}}
        )
    return groups


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def scraped(tmp_path_factory) -> Iterator[str]:
    """Base URL of a Prometheus that has scraped the real collector for a while."""
    workdir = tmp_path_factory.mktemp("real-collector")
    targets = workdir / "targets.yaml"
    targets.write_text(yaml.safe_dump(targets_document()))
    collector = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
    agents = spawn(
        [
            sys.executable,
            "-m",
            "collectors.sim.agents",
            "--targets-file",
            str(targets),
            "--workdir",
            str(workdir / "sim"),
        ],
        workdir / "agents.log",
        env,
    )
    poller = spawn(
        [
            sys.executable,
            "-m",
            "collectors",
            "--targets-file",
            str(targets),
            "--listen",
            collector,
            "--cache-dir",
            str(workdir / "cache"),
            "--name",
            "collector-01",
        ],
        workdir / "collector.log",
    )
    inventory = StaticServer(
        {
            "/api/prometheus/sd/devices/": lambda _q, _h: (
                200,
                "application/json",
                json.dumps(sd_groups(collector)),
            ),
            "/metrics": lambda _q, _h: (200, synthetic.TEXT, synthetic.inventory_exposition()),
        }
    )
    token = workdir / "token"
    token.write_text(synthetic.TOKEN + "\n")
    config = prometheus_config.repoint(
        token_file=token,
        inventory=inventory.address,
        collectors=[collector],
        alertmanager=f"127.0.0.1:{free_port()}",
        scrape_interval="5s",
    )
    try:
        # Our collector has polled a device (not some other process that took the port first).
        wait_until(
            lambda: (
                poller.poll() is None
                and httpx.get(
                    f"http://{collector}/snmp", params={"target": next(iter(DEVICES))}, timeout=2
                ).status_code
                == 200
            ),
            seconds=90,
            what="the collector to serve its first device",
        )
        with prometheus(prometheus_config.write(config, workdir / "prometheus.yml"), workdir) as base:
            # Every device answered, counters moved between two polls, recording rules ran on them.
            for ready in (
                f"count(infrastrand_device_up == 1) == {len(DEVICES)}",
                f"count(count by (device) (infrastrand:interface_in_utilisation:percent)) == {len(DEVICES)}",
                "infrastrand:interface_in_errors:ratio5m",
                "instance:infrastrand_collector_poll_duration_seconds:p95",
                "infrastrand:sensor:celsius",
            ):
                wait_until(lambda q=ready: bool(instant_query(base, q)), seconds=150, what=ready, step=2)
            yield base
    finally:
        inventory.close()
        stop(poller)
        stop(agents)


@pytest.mark.parametrize("query", queries.all_queries(), ids=lambda q: q.key)
def test_query_against_the_real_collector(scraped, query):
    message = queries.verdict(query, lambda expr: instant_query(scraped, expr), {"device": sorted(DEVICES)})
    if query.key in STANDALONE:
        assert message and "no data" in message, "a standalone collector exports no inventory metrics"
        return
    assert message is None
