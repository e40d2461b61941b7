"""Real agents for the collector tests: snmpsim devices (one process each) and a net-snmp snmpd."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from collectors.mibmodules import load_modules
from collectors.poller import Poller
from collectors.sim.agents import AgentSpec, SimAgents, die_with_parent, free_udp_port
from collectors.snmp import SnmpClient
from collectors.store import PollResult, SampleStore
from collectors.targets import Target, parse_target
from collectors.v3 import PysnmpClient

from .discovery_inventory import Lab, start_lab

KIND_MODULES = {
    "switch": ["system", "if_mib", "entity", "lldp"],
    "server": ["system", "if_mib", "host_resources", "ucd"],
    "router": ["system", "if_mib", "entity", "entity_sensor"],
    "ups": ["system", "ups_mib"],
    "slow": ["system"],
    "failing": ["system"],
    "buggy": ["system", "if_mib"],
}
SNMPD_COMMUNITY = "infra-test-ro"
SNMPD_USERS: dict[str, tuple[str, str, str | None, str | None]] = {
    "sha256aes128": ("SHA-256", "auth-pass-256", "AES-128", "priv-pass-128"),
    "sha512aes256": ("SHA-512", "auth-pass-512", "AES-256", "priv-pass-256"),
    "md5des": ("MD5", "auth-pass-md5", "DES", "priv-pass-des"),
    "shaaes192": ("SHA", "auth-pass-sha", "AES-192", "priv-pass-192"),
    "sha224auth": ("SHA-224", "auth-pass-224", None, None),
    "sha384aes128": ("SHA-384", "auth-pass-384", "AES-128", "priv-pass-aes"),
}


@pytest.fixture(scope="session")
def sim() -> Iterator[dict[str, AgentSpec]]:
    """One simulated device of every kind on free loopback ports, for the whole session."""
    specs = [
        AgentSpec(f"test-{kind}", kind, "127.0.0.1", free_udp_port(), f"comm-{kind}") for kind in KIND_MODULES
    ]
    with SimAgents(specs):
        yield {s.kind: s for s in specs}


def sim_target(spec: AgentSpec, **overrides) -> Target:
    entry = {
        "id": 1,
        "name": spec.name,
        "address": spec.address,
        "port": spec.port,
        "version": "2c",
        "community": spec.community,
        "timeout": 2.0,
        "retries": 1,
        "interval": 60,
        "modules": KIND_MODULES[spec.kind],
        "labels": {"device": spec.name, "country": "MA"},
    }
    entry.update(overrides)
    return parse_target(entry, "test")


@dataclass
class PollHarness:
    """A poller with both SNMP clients, run on a fresh event loop per call."""

    store: SampleStore
    observations: list

    def poll(
        self, target: Target, *, wire: bool = True, modules_dirs: list[Path] | None = None
    ) -> PollResult:
        async def run() -> PollResult:
            client = SnmpClient() if wire else None
            if client:
                await client.start()
            pysnmp = PysnmpClient()
            dirs = [Path(__file__).parents[2] / "collectors" / "modules", *(modules_dirs or [])]
            poller = Poller(
                modules=load_modules(dirs),
                store=self.store,
                wire=client,
                pysnmp=pysnmp,
                observe=self.observations.append,
            )
            try:
                return await poller.poll(target)
            finally:
                if client:
                    await client.close()
                pysnmp.close()

        return asyncio.run(run())


@pytest.fixture
def harness() -> PollHarness:
    return PollHarness(SampleStore(), [])


def families(result: PollResult) -> dict:
    return {f.name: f for f in result.families}


# --- net-snmp snmpd ---------------------------------------------------------------------------------


@dataclass
class Snmpd:
    port: int
    community: str
    users: dict[str, tuple[str, str, str, str]]


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory) -> Iterator[Snmpd]:
    """Debian's snmpd on a free loopback port with a v2c community and v3 users of every protocol."""
    binary = shutil.which("snmpd") or "/usr/sbin/snmpd"
    assert os.path.exists(binary), "snmpd (Debian package snmpd) is required"
    work = tmp_path_factory.mktemp("snmpd")
    persistent = work / "persist"
    persistent.mkdir()
    port = free_udp_port()
    conf = work / "snmpd.conf"
    lines = [
        f"agentaddress udp:127.0.0.1:{port}",
        f"rocommunity {SNMPD_COMMUNITY} 127.0.0.1",
        "sysName infrastrand-snmpd-test",
        "sysLocation loopback test rack",
        "sysContact tests@example.org",
    ]
    lines += [f"rouser {user} {'priv' if v[2] else 'auth'}" for user, v in SNMPD_USERS.items()]
    # with -C snmpd reads no persistent config, so the users are created from the main file; the
    # persistent directory (where snmpd stores the localized keys) is a temp dir too
    lines += [
        f'createUser {user} {auth} "{akey}"' + (f' {priv.replace("-128", "")} "{pkey}"' if priv else "")
        for user, (auth, akey, priv, pkey) in SNMPD_USERS.items()
    ]
    conf.write_text("\n".join(lines) + "\n")
    pidfile = work / "snmpd.pid"
    env = {**os.environ, "SNMP_PERSISTENT_DIR": str(persistent), "MIBS": ""}
    proc = subprocess.Popen(
        [binary, "-f", "-Lo", "-C", "-c", str(conf), "-p", str(pidfile), "-I", "-smux"],
        env=env,
        stdout=(work / "snmpd.log").open("wb"),  # a file, not a pipe: -Lo logs every request
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    deadline = time.monotonic() + 20
    while True:
        ok = subprocess.run(
            [
                "snmpget",
                "-v2c",
                "-c",
                SNMPD_COMMUNITY,
                "-t",
                "0.5",
                "-r",
                "0",
                f"127.0.0.1:{port}",
                "1.3.6.1.2.1.1.5.0",
            ],
            capture_output=True,
        )
        if ok.returncode == 0:
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(5)
            out = (work / "snmpd.log").read_text(errors="replace")
            pytest.fail(f"snmpd did not start: {out[-2000:]}")
        time.sleep(0.2)
    # snmpd fills its interface caches on the first request: warm them so a test's first poll does
    # not read a zero counter that the reference walk right after it reads as millions
    subprocess.run(
        ["snmpbulkwalk", "-v2c", "-c", SNMPD_COMMUNITY, f"127.0.0.1:{port}", "1.3.6.1.2.1.31.1.1.1"],
        capture_output=True,
        timeout=30,
        check=True,
    )
    yield Snmpd(port, SNMPD_COMMUNITY, SNMPD_USERS)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- discovery (issue 15): the simulated /28 ------------------------------------------------------


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Iterator[Lab]:
    """Four simulated devices on 127.91.0.0/28 (one port, their own communities), the rest silent."""
    with start_lab(tmp_path_factory.mktemp("discovery-lab")) as lab:
        yield lab
