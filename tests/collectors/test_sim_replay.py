"""collectors.sim.replay: many simulated 48-port switches from one process, read with net-snmp."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest

from collectors.sim.replay import addresses

pytestmark = pytest.mark.skipif(not shutil.which("snmpbulkwalk"), reason="net-snmp tools not installed")

FIRST = "127.64.200.1"


@pytest.fixture
def agent():
    proc = subprocess.Popen(
        [sys.executable, "-m", "collectors.sim.replay", "--devices", "3", "--first", FIRST, "--epoch", "1",
         "--lifetime", "300"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.startswith("PORT "), line
        yield int(line.split()[1])
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def walk(address: str, port: int, oid: str, version: str = "2c") -> list[str]:
    tool = "snmpbulkwalk" if version == "2c" else "snmpwalk"
    out = subprocess.run(
        [tool, f"-v{version}", "-c", "any", "-On", "-t", "5", "-r", "2", f"{address}:{port}", oid],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_every_address_is_a_48_port_switch(agent):
    for address in addresses(FIRST, 3):
        names = walk(address, agent, "1.3.6.1.2.1.31.1.1.1.1")
        assert len(names) == 48 and names[0].endswith('STRING: "Gi1/0/1"'), names[:2]
    assert walk(FIRST, agent, "1.3.6.1.2.1.1.5", version="1") == ['.1.3.6.1.2.1.1.5.0 = STRING: "sim-switch"']


def test_counters_move_between_epochs(agent):
    oid = "1.3.6.1.2.1.31.1.1.1.6.2"  # ifHCInOctets of port 2
    first = walk(FIRST, agent, oid)
    deadline = time.monotonic() + 30
    while walk(FIRST, agent, oid) == first and time.monotonic() < deadline:
        time.sleep(0.3)
    assert walk(FIRST, agent, oid) != first


def test_addresses_stay_on_loopback():
    assert addresses("127.64.0.1", 2) == ["127.64.0.1", "127.64.0.2"]
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8"):
        addresses("127.255.255.254", 3)
