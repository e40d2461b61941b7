"""The simulated-agent launcher: a device per loopback address (the demo layout), CLI start and stop."""

from __future__ import annotations

import json
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors.sim.agents import AgentSpec, SimAgents, answers, free_udp_port, kind_for, specs_from_targets
from collectors.sim.fixtures import snmprec

from .conftest import families, sim_target

ROOT = Path(__file__).parents[2]


def port_free_on(addresses: list[str]) -> int:
    for _ in range(50):
        port = free_udp_port(addresses[0])
        try:
            for address in addresses[1:]:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no common free port")


def test_same_port_and_community_on_two_loopback_addresses_serve_two_devices(harness):
    n = random.randrange(2, 250)
    addresses = [f"127.0.1.{n}", f"127.0.1.{n + 1}"]
    port = port_free_on(addresses)
    specs = [
        AgentSpec("demo-sw", "switch", addresses[0], port, "public-ma"),
        AgentSpec("demo-ups", "ups", addresses[1], port, "public-ma"),
    ]
    with SimAgents(specs):
        a = harness.poll(sim_target(specs[0], modules=["system"]))
        b = harness.poll(sim_target(specs[1], modules=["system", "ups_mib"]))
        assert dict(families(a)["sysName"].samples[0][0])["sysName"] == "demo-sw"
        assert dict(families(b)["sysName"].samples[0][0])["sysName"] == "demo-ups"
        assert "upsBatteryStatus" in families(b)
        # another community gets no answer
        assert not answers(AgentSpec("x", "switch", addresses[0], port, "public-lu"), timeout=0.5)


def test_fixtures_are_sorted_and_end_after_the_walked_tables():
    for kind in ("switch", "server", "router", "ups", "slow", "failing", "buggy"):
        lines = snmprec(kind, "dev").splitlines()
        keys = [tuple(int(x) for x in line.split("|")[0].split(".")) for line in lines]
        assert keys == sorted(keys) and len(set(keys)) == len(keys), kind
        assert keys[-1] >= (1, 3, 6, 1, 6), kind
    with pytest.raises(ValueError, match="unknown simulated device kind"):
        snmprec("toaster", "dev")


def test_kind_from_inventory_labels():
    assert kind_for({"role": "core-router"}) == "router"
    assert kind_for({"role": "power", "device_type": "ups-3000"}) == "ups"
    assert kind_for({"role": "compute-server"}) == "server"
    assert kind_for({"role": "access-switch"}) == "switch"
    doc = {
        "targets": [
            {
                "name": "a",
                "address": "127.0.1.2",
                "port": 1161,
                "version": "2c",
                "community": "c",
                "labels": {},
            },
            {"name": "b", "address": "127.0.1.3", "port": 1161, "version": "3", "community": None},
        ]
    }
    assert specs_from_targets(doc) == [AgentSpec("a", "switch", "127.0.1.2", 1161, "c")]


def test_cli_starts_from_a_targets_document_and_stops_on_sigterm(tmp_path):
    port = free_udp_port()
    doc = {
        "targets": [
            {
                "name": "cli-rtr",
                "address": "127.0.0.1",
                "port": port,
                "version": "2c",
                "community": "cli-comm",
                "labels": {"role": "edge-router"},
            }
        ]
    }
    path = tmp_path / "targets.json"
    path.write_text(json.dumps(doc))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "collectors.sim.agents",
            "--targets-file",
            str(path),
            "--workdir",
            str(tmp_path / "w"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().startswith("1 simulated devices answering")
        assert answers(AgentSpec("cli-rtr", "router", "127.0.0.1", port, "cli-comm"), timeout=5)
        data = (tmp_path / "w" / "cli-rtr" / "data" / "cli-comm.snmprec").read_text()
        assert "1.3.6.1.2.1.99.1.1.1.4.10|2|24" in data  # the router fixture (entity sensors)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    time.sleep(0.2)
    assert not answers(AgentSpec("cli-rtr", "router", "127.0.0.1", port, "cli-comm"), timeout=0.3)


def test_a_failed_start_leaves_no_agent_running():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        agents = SimAgents(
            [
                AgentSpec("ok-dev", "switch", "127.0.0.1", free_udp_port(), "c"),
                AgentSpec("no-port", "ups", "127.0.0.1", busy, "c"),  # cannot bind: never answers
            ]
        )
        workdir = str(agents.workdir)
        with pytest.raises(RuntimeError, match="did not start: no-port"):
            agents.start(timeout=8)
    assert [cmd for cmd in command_lines() if workdir.encode() in cmd] == []
    assert agents.processes == []


def command_lines() -> list[bytes]:
    """Every running process's command line (processes may end while we read)."""
    out = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            out.append(path.read_bytes())
        except OSError:
            continue
    return out
