"""SNMPv3 on the wire path against net-snmp's snmpd: every auth x priv combination equal to snmpbulkwalk,
an agent restarted with a new engine ID (up again at the next poll), and a rotated key."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.mibmodules import load_modules
from collectors.poller import Poller
from collectors.sim.agents import die_with_parent, free_udp_port
from collectors.snmp import SnmpClient
from collectors.store import SampleStore
from collectors.targets import Target, parse_target

from .test_snmpd import MODULES, compare, snmpbulkwalk

AUTHS = ["MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"]
PRIVS = [None, "DES", "AES-128", "AES-192", "AES-256", "AES-192-C", "AES-256-C"]
COMBOS = [(None, None)] + [(a, p) for a in AUTHS for p in PRIVS]
NET_SNMP_PRIV = {"AES-128": "AES"}  # net-snmp's name where it differs from ours
IF_TABLE = "1.3.6.1.2.1.2.2.1"


def user_name(auth: str | None, priv: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", f"u{auth or 'noauth'}{priv or 'nopriv'}".lower())


def credentials(auth: str | None, priv: str | None, rotation: int = 0) -> dict:
    name = user_name(auth, priv)
    return {
        "username": name,
        "auth_protocol": auth,
        "auth_key": f"auth-{name}-{rotation}" if auth else None,
        "priv_protocol": priv,
        "priv_key": f"priv-{name}-{rotation}" if priv else None,
        "context": "",
    }


class Snmpd:
    """snmpd with one v3 user per combination, restartable on the same port with another engine ID."""

    community = "usm-test-ro"

    def __init__(self, work: Path) -> None:
        self.work = work
        self.port = free_udp_port()
        self.proc: subprocess.Popen | None = None
        self.rotation = 0

    def config(self, engine_id: str) -> str:
        lines = [
            f"agentaddress udp:127.0.0.1:{self.port}",
            f"rocommunity {self.community} 127.0.0.1",
            f"engineID {engine_id}",
            "sysName infrastrand-usm-test",
        ]
        for auth, priv in COMBOS:
            c = credentials(auth, priv, self.rotation)
            level = "priv" if priv else "auth" if auth else "noauth"
            lines.append(f"rouser {c['username']} {level}")
            line = f"createUser {c['username']}"
            if auth:
                line += f' {auth} "{c["auth_key"]}"'
            if priv:
                line += f' {NET_SNMP_PRIV.get(priv, priv)} "{c["priv_key"]}"'
            lines.append(line)
        return "\n".join(lines) + "\n"

    def start(self, engine_id: str) -> None:
        persistent = self.work / "persist"
        shutil.rmtree(persistent, ignore_errors=True)
        persistent.mkdir(parents=True)
        conf = self.work / "snmpd.conf"
        conf.write_text(self.config(engine_id))
        env = {**os.environ, "SNMP_PERSISTENT_DIR": str(persistent), "MIBS": ""}
        self.proc = subprocess.Popen(
            [
                "/usr/sbin/snmpd",
                "-f",
                "-Lo",
                "-C",
                "-c",
                str(conf),
                "-p",
                str(self.work / "pid"),
                "-I",
                "-smux",
            ],
            env=env,
            stdout=(self.work / "snmpd.log").open("ab"),
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + 30
        get = [
            "snmpget",
            "-v2c",
            "-c",
            self.community,
            "-t",
            "0.5",
            "-r",
            "0",
            f"127.0.0.1:{self.port}",
            "1.3.6.1.2.1.1.5.0",
        ]
        while subprocess.run(get, capture_output=True).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(
                    f"snmpd did not start: {(self.work / 'snmpd.log').read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


@pytest.fixture(scope="module")
def snmpd_usm(tmp_path_factory) -> Iterator[Snmpd]:
    agent = Snmpd(tmp_path_factory.mktemp("snmpd-usm"))
    agent.start("infrastrand-a")
    # fill snmpd's interface caches before the first comparison (see tests/collectors/conftest.py)
    subprocess.run(
        ["snmpbulkwalk", "-v2c", "-c", agent.community, f"127.0.0.1:{agent.port}", "1.3.6.1.2.1.31.1.1.1"],
        capture_output=True, timeout=30, check=True,
    )  # fmt: skip
    yield agent
    agent.stop()


def v3_target(agent: Snmpd, auth, priv, rotation: int = 0, **extra) -> Target:
    entry = {
        "id": 1,
        "name": f"snmpd-{user_name(auth, priv)}",
        "address": "127.0.0.1",
        "port": agent.port,
        "version": "3",
        "v3": credentials(auth, priv, rotation),
        "modules": MODULES,
        "timeout": 2,
        "retries": 1,
    }
    return parse_target({**entry, **extra}, "test")


def net_snmp_args(auth, priv, rotation: int = 0) -> list[str]:
    c = credentials(auth, priv, rotation)
    args = [
        "-v3",
        "-u",
        c["username"],
        "-l",
        "authPriv" if priv else "authNoPriv" if auth else "noAuthNoPriv",
    ]
    if auth:
        args += ["-a", auth, "-A", c["auth_key"]]
    if priv:
        args += ["-x", NET_SNMP_PRIV.get(priv, priv), "-X", c["priv_key"]]
    return args


class Collector:
    """One wire client and poller kept across polls on one event loop, as the running collector does."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = SnmpClient(bind6=None)
        self.loop.run_until_complete(self.client.start())
        self.poller = Poller(modules=load_modules(), store=SampleStore(), wire=self.client, pysnmp=None)

    def poll(self, target: Target):
        return self.loop.run_until_complete(self.poller.poll(target))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.close()


@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: f"{c[0] or 'noAuth'}/{c[1] or 'noPriv'}")
def test_every_auth_priv_combination_equals_snmpbulkwalk(snmpd_usm: Snmpd, collector: Collector, combo):
    auth, priv = combo
    result = collector.poll(v3_target(snmpd_usm, auth, priv))
    assert result.up, result.error
    # net-snmp's own v3 client with the same user; one table keeps 43 combinations cheap (the v2c test
    # in test_snmpd.py compares every root)
    walked = snmpbulkwalk([*net_snmp_args(auth, priv), f"127.0.0.1:{snmpd_usm.port}"], IF_TABLE)
    # loopback counters move with every other test's traffic on this shared machine
    assert compare(result, walked, counter_slack=2**32) > 20
    assert collector.client.stats.malformed == {}


def test_engine_id_change_is_up_again_at_the_next_poll(snmpd_usm: Snmpd, collector: Collector):
    target = v3_target(snmpd_usm, "SHA-256", "AES-128", timeout=0.5, retries=0)
    snmp_target = collector.poller.plan(target)[2]
    first = collector.poll(target)
    assert first.up, first.error
    engine_a = collector.client.usm.peer(snmp_target).engine_id
    try:
        # re-imaged while we were not looking: the agent reports our old engine ID as unknown
        snmpd_usm.stop()
        snmpd_usm.start("infrastrand-b")
        second = collector.poll(target)
        assert second.up, second.error
        engine_b = collector.client.usm.peer(snmp_target).engine_id
        assert engine_b != engine_a and b"infrastrand-b" in engine_b
        # replaced while down: polls time out meanwhile, then the next poll after it is back is up
        snmpd_usm.stop()
        down = collector.poll(target)
        assert not down.up and down.error == "timeout"
        snmpd_usm.start("infrastrand-c")
        back = collector.poll(target)
        assert back.up, back.error
        assert b"infrastrand-c" in collector.client.usm.peer(snmp_target).engine_id
    finally:
        snmpd_usm.stop()
        snmpd_usm.start("infrastrand-a")


def test_rotated_key_is_used_and_the_old_one_dropped(snmpd_usm: Snmpd, collector: Collector):
    old = v3_target(snmpd_usm, "SHA-512", "AES-256")
    assert collector.poll(old).up
    keys = collector.client.usm.keys
    cached = len(keys)
    try:
        snmpd_usm.stop()
        snmpd_usm.rotation = 1  # the device's keys are changed ...
        snmpd_usm.start("infrastrand-a")
        stale = collector.poll(old)
        assert not stale.up and stale.error == "wrongDigest"
        new = v3_target(snmpd_usm, "SHA-512", "AES-256", rotation=1)  # ... and so is the inventory's target
        collector.poller.forget(old)  # what the scheduler does with a changed target
        assert len(keys) == cached - 2 and len(collector.client.usm) == 0
        fresh = collector.poll(new)
        assert fresh.up, fresh.error
        assert len(keys) == cached and len(collector.client.usm) == 1
    finally:
        snmpd_usm.stop()
        snmpd_usm.rotation = 0
        snmpd_usm.start("infrastrand-a")


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"username": "nobody"}, "unknownUserName"), ({"auth_key": "not-the-key"}, "wrongDigest")],
)
def test_usm_reports_are_the_poll_error(snmpd_usm: Snmpd, collector: Collector, change, reason):
    target = v3_target(snmpd_usm, "SHA-256", "AES-128")
    bad = parse_target(
        {"name": "bad", "address": "127.0.0.1", "port": snmpd_usm.port, "version": "3", "modules": MODULES,
         "v3": {**credentials("SHA-256", "AES-128"), **change}},
        "test",
    )  # fmt: skip
    result = collector.poll(bad)
    assert not result.up and result.error == reason and result.families == ()
    assert collector.poll(target).up  # the agent's engine state is not spoilt for good users
