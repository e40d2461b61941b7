"""``python -m deploy.demo --agent-network``: where the demo devices move, and a network too small."""

from __future__ import annotations

import pytest

from deploy.demo.stack import agent_addresses
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
