"""SNMPv3 targets carrying the inventory's master keys (contract 1 ``auth_master_key``/``priv_master_key``)
walk net-snmp's snmpd without hashing a single password; the passwords alone still work (older
inventories, targets files)."""

from __future__ import annotations

import asyncio

import pytest

from collectors.poller import snmp_target
from collectors.snmp.usm import master_key
from collectors.targets import TargetError, parse_target
from collectors.v3 import PysnmpClient

from .test_snmpd import MODULES, compare, snmpbulkwalk
from .test_snmpd_usm import IF_TABLE, Collector, Snmpd, collector, credentials, net_snmp_args, snmpd_usm

__all__ = ["collector", "snmpd_usm"]  # the fixtures this module uses

COMBOS = [
    ("SHA-256", "AES-128"),
    ("MD5", "DES"),
    ("SHA", "AES-192"),
    ("SHA-512", "AES-256-C"),
    ("SHA-224", None),
]


def shipped(auth: str, priv: str | None, with_passwords: bool = False) -> dict:
    """The v3 object a new inventory ships: hex master keys (and, unless asked, no passwords)."""
    c = credentials(auth, priv)
    v3 = {**c, "auth_master_key": master_key(auth, c["auth_key"].encode()).hex()}
    if priv:
        v3["priv_master_key"] = master_key(auth, c["priv_key"].encode()).hex()
    if not with_passwords:
        v3["auth_key"] = v3["priv_key"] = None
    return v3


def target(agent: Snmpd, name: str, v3: dict):
    entry = {"name": name, "address": "127.0.0.1", "port": agent.port, "version": "3", "v3": v3,
             "modules": MODULES, "timeout": 2, "retries": 1}  # fmt: skip
    return parse_target(entry, "test")


@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: f"{c[0]}/{c[1] or 'noPriv'}")
def test_master_keys_alone_walk_snmpd_without_hashing(snmpd_usm: Snmpd, collector: Collector, combo):
    auth, priv = combo
    result = collector.poll(target(snmpd_usm, f"mk-{auth}-{priv}", shipped(auth, priv)))
    assert result.up, result.error
    walked = snmpbulkwalk([*net_snmp_args(auth, priv), f"127.0.0.1:{snmpd_usm.port}"], IF_TABLE)
    assert compare(result, walked, counter_slack=2**32) > 20
    keys = collector.client.usm.keys
    assert len(keys) == 0  # no password's master key was hashed or cached
    # the Reeder (-C) extension hashes the localized key once per engine ID: engine-dependent, so it
    # cannot be shipped; any other combination runs no 1 MiB hash at all
    assert (keys._thread is None) == (not priv or not priv.endswith("-C"))


def test_shipped_master_key_wins_over_the_password(snmpd_usm: Snmpd, collector: Collector):
    """With both, the master key is what is used: a stale one fails though the password is right."""
    v3 = shipped("SHA-256", "AES-128", with_passwords=True)
    assert collector.poll(target(snmpd_usm, "both", v3)).up
    stale = {**v3, "auth_master_key": master_key("SHA-256", b"an-older-passphrase").hex()}
    result = collector.poll(target(snmpd_usm, "stale", stale))
    assert not result.up and result.error == "wrongDigest"


@pytest.mark.parametrize("combo", [("SHA-256", "AES-128"), ("SHA", "AES-256")], ids=lambda c: "/".join(c))
def test_pysnmp_oracle_takes_shipped_master_keys_too(snmpd_usm: Snmpd, combo):
    auth, priv = combo

    async def walk():
        client = PysnmpClient()  # its engines belong to this loop
        try:
            return await client.walk(target(snmpd_usm, "oracle", shipped(auth, priv)), [IF_TABLE])
        finally:
            client.close()

    result = asyncio.run(walk())
    assert not result.error and len(result.varbinds[IF_TABLE]) > 20


def test_passwords_alone_still_work(snmpd_usm: Snmpd, collector: Collector):
    result = collector.poll(target(snmpd_usm, "pw", credentials("SHA-256", "AES-128")))
    assert result.up, result.error
    assert len(collector.client.usm.keys) == 2  # hashed by the collector, as before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"auth_master_key": "zz"}, "field 'v3.auth_master_key': expected hex"),
        (
            {"auth_master_key": "00" * 20},
            "field 'v3.auth_master_key': 20 octets do not fit auth protocol 'SHA-256'",
        ),
        (
            {"priv_master_key": "00" * 64},
            "field 'v3.priv_master_key': 64 octets do not fit auth protocol 'SHA-256'",
        ),
    ],
)
def test_a_bad_master_key_names_the_target_and_field(snmpd_usm: Snmpd, change, message):
    with pytest.raises(TargetError) as raised:
        target(snmpd_usm, "bad", {**shipped("SHA-256", "AES-128"), **change})
    assert str(raised.value) == f"test (bad): {message}"


def test_master_keys_stay_out_of_reprs(snmpd_usm: Snmpd):
    """Targets and USM users are what log lines and errors show: they never carry the keys."""
    v3 = shipped("SHA-256", "AES-128")
    parsed = target(snmpd_usm, "quiet", v3)
    shown = repr(parsed) + repr(parsed.v3) + repr(snmp_target(parsed)) + repr(snmp_target(parsed).usm)
    for key in (v3["auth_master_key"], v3["priv_master_key"]):
        assert key not in shown and repr(bytes.fromhex(key)) not in shown
