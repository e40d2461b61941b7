"""collectors.sim.replay serving the demo's device kinds from one process, read with net-snmp: the same
data as snmpsim serves from the same fixtures, the snmpsim variations (moving and wrapping counters,
delay, error), communities, a device taken down, and a taken port named in one line."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from collectors.sim.agents import AgentSpec, SimAgents, free_udp_port
from collectors.sim.fixtures import SLOW_WAIT_MS, snmprec
from collectors.sim.replay import COUNTER32, Records, parse_line
from deploy.demo.stack import ROOT

pytestmark = pytest.mark.skipif(not shutil.which("snmpbulkwalk"), reason="net-snmp tools not installed")

KINDS = ("switch", "server", "router", "ups", "slow", "failing", "buggy")
BASE = "127.0.77."


def specs(port: int) -> list[AgentSpec]:
    return [
        AgentSpec(f"replay-{kind}", kind, f"{BASE}{n}", port, f"c-{kind}") for n, kind in enumerate(KINDS, 1)
    ]


def start(spec_list: list[AgentSpec], tmp_path: Path, *extra: str) -> subprocess.Popen:
    devices = tmp_path / "devices.yaml"
    devices.write_text(yaml.safe_dump([dataclasses.asdict(s) for s in spec_list]))
    return subprocess.Popen(
        [sys.executable, "-m", "collectors.sim.replay", f"--specs={devices}", "--lifetime=600", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(30)


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[tuple[list[AgentSpec], Path]]:
    port = free_udp_port(f"{BASE}1")
    spec_list = specs(port)
    down = tmp_path / "down"
    down.mkdir()
    proc = start(spec_list, tmp_path, f"--down-dir={down}")
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"READY {len(KINDS)} devices"), line + proc.stderr.read()
        yield spec_list, down
    finally:
        stop(proc)


def snmp(tool: str, spec: AgentSpec, *oids: str, timeout: int = 5, community: str | None = None) -> str:
    proc = subprocess.run(
        [
            tool,
            "-v2c",
            "-c",
            community or spec.community,
            "-On",
            "-t",
            str(timeout),
            "-r",
            "1",
            *target(spec, oids),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return proc.stdout + proc.stderr


def target(spec: AgentSpec, oids: tuple[str, ...]) -> list[str]:
    return [f"{spec.address}:{spec.port}", *oids]


def moving_oids(kind: str) -> set[str]:
    """OIDs whose values move with time (snmpsim variations): compared by type only."""
    return {"." + r.oid for r in Records(snmprec(kind, f"replay-{kind}")).rows if r.variation == "numeric"}


def comparable(walk: str, moving: set[str]) -> list[str]:
    lines = []
    for line in walk.splitlines():
        if "No more variables left" in line:  # snmpsim's end-of-MIB rows after the last table
            continue
        oid, _, value = line.partition(" = ")
        lines.append(f"{oid} = {value.split(':')[0]}" if oid in moving else line)
    return lines


def test_every_kind_answers_what_snmpsim_answers_from_the_same_fixture(replay, tmp_path) -> None:
    spec_list, _ = replay
    kinds = ("switch", "server", "router", "ups", "buggy")
    port = free_udp_port("127.0.78.1")
    reference = [
        AgentSpec(s.name, s.kind, f"127.0.78.{n}", port, s.community) for n, s in enumerate(spec_list, 1)
    ]
    reference = [s for s in reference if s.kind in kinds]
    with SimAgents(reference, tmp_path / "snmpsim"):
        for ours, theirs in zip((s for s in spec_list if s.kind in kinds), reference, strict=True):
            moving = moving_oids(ours.kind)
            got = comparable(snmp("snmpbulkwalk", ours, "1.3"), moving)
            want = comparable(snmp("snmpbulkwalk", theirs, "1.3"), moving)
            assert len(got) > 10, got
            assert got == want, ours.kind


def test_counters_move_and_the_uplink_counter32_wraps(replay) -> None:
    spec_list, _ = replay
    switch = spec_list[0]
    oid = ".1.3.6.1.2.1.31.1.1.1.6.2"  # ifHCInOctets of port 2
    first = snmp("snmpget", switch, oid)
    deadline = time.monotonic() + 60
    while snmp("snmpget", switch, oid) == first and time.monotonic() < deadline:
        time.sleep(0.3)
    assert snmp("snmpget", switch, oid) != first
    uplink = next(r for r in Records(snmprec("switch", "x")).rows if r.oid == "1.3.6.1.2.1.2.2.1.10.1")
    assert uplink.tag == COUNTER32
    values = [uplink.at(t)[2] for t in range(0, 30)]
    assert all(0 <= v < 2**32 for v in values)
    assert any(later < earlier for earlier, later in itertools.pairwise(values)), "no wrap in 30 s"


def test_sin_function_stays_within_its_scale_around_the_offset() -> None:
    record = parse_line("1.3.6.1.2.1.99.1.1.1.4.11|2:numeric|function=sin,rate=0.1,scale=5,offset=52")
    values = {record.at(t)[2] for t in range(0, 100)}
    assert min(values) >= 47 and max(values) <= 57 and len(values) > 3


def test_slow_failing_and_wrong_community(replay) -> None:
    spec_list, _ = replay
    by_kind = {s.kind: s for s in spec_list}
    uptime = ".1.3.6.1.2.1.1.3.0"
    # the slow device holds its answer back SLOW_WAIT_MS (a lower bound: a loaded host only adds to it)
    assert "Timeout" in snmp("snmpget", by_kind["slow"], uptime, timeout=1)
    assert "Timeticks" in snmp("snmpget", by_kind["slow"], uptime, timeout=SLOW_WAIT_MS // 1000 + 10)
    assert "genError" in snmp("snmpget", by_kind["failing"], uptime)
    assert "Timeout" in snmp("snmpget", by_kind["switch"], uptime, timeout=1, community="wrong")
    # the slow device does not hold the others back
    assert "Timeticks" in snmp("snmpget", by_kind["switch"], uptime)


def test_a_device_taken_down_stops_answering_and_frees_its_port(replay) -> None:
    spec_list, down = replay
    switch, server = spec_list[0], spec_list[1]
    (down / switch.name).touch()
    deadline = time.monotonic() + 60
    while (
        "Timeout" not in snmp("snmpget", switch, ".1.3.6.1.2.1.1.3.0", timeout=1)
        and time.monotonic() < deadline
    ):
        time.sleep(0.3)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((switch.address, switch.port))
    assert "Timeticks" in snmp("snmpget", server, ".1.3.6.1.2.1.1.3.0")


def test_a_taken_port_is_named_in_one_line(tmp_path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((f"{BASE}40", 0))
        port = taken.getsockname()[1]
        spec = AgentSpec("sw-taken", "switch", f"{BASE}40", port, "c")
        proc = start([spec], tmp_path)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    assert (
        err.strip()
        == f"replay agent: UDP port {port} on {BASE}40 (device sw-taken) is taken: Address already in use"
    )
    assert "Traceback" not in err
