"""The demo's agents: ``--agent-network`` (where the devices move, a network too small) and the one replay
agent process the launcher starts (a taken port named in one line)."""

from __future__ import annotations

import socket

import pytest

from collectors.sim.agents import AgentSpec, answers, free_udp_port
from deploy.demo.stack import agent_addresses, start_agents
from inventory import demo


def test_each_device_keeps_its_host_number_in_the_new_network() -> None:
    moved = agent_addresses("127.0.2.0/24")
    assert moved["127.0.1.1"] == "127.0.2.1"
    assert sorted(moved) == sorted(device.address for device in demo.DEVICES)
    assert len(set(moved.values())) == len(demo.DEVICES)


def test_a_network_too_small_is_named() -> None:
    with pytest.raises(ValueError, match=r"--agent-network 127\.0\.2\.0/29 has room for fewer than"):
        agent_addresses("127.0.2.0/29")
    with pytest.raises(ValueError):
        agent_addresses("not-a-network")


def test_a_taken_device_port_stops_the_agents_with_a_line_naming_it(tmp_path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.79.2", 0))
        port = taken.getsockname()[1]
        specs = [
            AgentSpec("free-sw", "switch", "127.0.79.1", port),
            AgentSpec("taken-sw", "switch", "127.0.79.2", port),
        ]
        with pytest.raises(RuntimeError) as raised:
            start_agents(specs, tmp_path)
    assert str(raised.value) == (
        f"replay agent: UDP port {port} on 127.0.79.2 (device taken-sw) is taken: Address already in use"
    )


def test_started_agents_answer_until_stopped(tmp_path) -> None:
    port = free_udp_port("127.0.79.3")
    spec = AgentSpec("one-ups", "ups", "127.0.79.3", port)
    agents = start_agents([spec], tmp_path)
    try:
        assert answers(spec, timeout=10)
    finally:
        agents.stop()
    assert agents.process.returncode is not None
