"""What the collector stores equals what net-snmp's snmpbulkwalk reports, for v2c and two v3 users."""

from __future__ import annotations

import asyncio
import socket
import subprocess

import pytest

from collectors.mibmodules import display_string, load_modules, octet_string, phys_address
from collectors.targets import Target, parse_target
from collectors.v3 import PysnmpClient

from .conftest import Snmpd, families

MODULES = ["system", "if_mib"]


def snmpbulkwalk(args: list[str], root: str, command: str = "snmpbulkwalk") -> dict[str, tuple[str, str]]:
    """OID -> (net-snmp type, value) from `snmpbulkwalk -On -Oe -Ot` (or `snmpwalk` for v1)."""
    options = ["-Cr25"] if command == "snmpbulkwalk" else []
    out = subprocess.run(
        [command, "-On", "-Oe", "-Ot", *options, *args, root],
        capture_output=True,
        text=True,
        check=True,
        env={"MIBS": "", "PATH": "/usr/bin:/bin"},
    ).stdout
    values = {}
    for line in out.splitlines():
        if " = " not in line:
            continue
        oid, _, rest = line.partition(" = ")
        typ, sep, value = rest.partition(": ")
        if not sep:  # -Ot prints TimeTicks as a bare number, and an empty string as ""
            typ, value = ("Timeticks", rest) if rest.isdigit() else ("STRING", rest)
        values[oid.lstrip(".")] = (typ, value)
    return values


def expected_value(typ: str, value: str) -> str | float:
    """A net-snmp printed value as our stored sample value (numbers) or label value (strings)."""
    if typ in ("INTEGER", "Counter32", "Counter64", "Gauge32", "Timeticks"):
        return float(value)
    if typ == "STRING":
        return value.strip('"')
    if typ == "Hex-STRING":
        return bytes.fromhex(value.replace(" ", "").replace("\n", ""))
    if typ == "OID":
        return value.lstrip(".")
    return value


def stored_values(result, modules) -> dict[str, object]:
    """OID -> stored value (float, or the string label of a string metric) for the module metrics."""
    by_name = families(result)
    out: dict[str, object] = {}
    for module in modules:
        for metric in module.metrics:
            fam = by_name.get(metric.name + "_info" if metric.type == "EnumAsInfo" else metric.name)
            if fam is None:
                continue
            for labels, value in fam.samples:
                d = dict(labels)
                row = d.get("ifIndex", "0")
                if metric.type in ("gauge", "counter"):
                    out[f"{metric.oid}.{row}"] = value
                elif metric.type != "EnumAsInfo":
                    out[f"{metric.oid}.{row}"] = d[metric.name]
    return out


def compare(result, walked: dict[str, tuple[str, str]], counter_slack: float = 1e7) -> int:
    """Assert the stored samples equal the walked values (counters: not behind, at most ``counter_slack``
    ahead); the number of values checked."""
    modules = [m for name, m in load_modules().items() if name in MODULES]
    stored = stored_values(result, modules)
    checked = 0
    for module in modules:
        for metric in module.metrics:
            if metric.type == "EnumAsInfo":
                continue
            for oid, (typ, raw) in walked.items():
                if not oid.startswith(metric.oid + "."):
                    continue
                want = expected_value(typ, raw)
                got = stored.get(oid)
                if isinstance(want, bytes):
                    render = {"PhysAddress48": phys_address, "OctetString": octet_string}.get(
                        metric.type, display_string
                    )
                    want = render(want)
                if metric.name == "sysUpTime" or metric.name == "sysUpTimeInstance":
                    assert got is not None and abs(got - want) < 1000, (oid, got, want)
                elif metric.type == "counter" and isinstance(want, float):
                    # polled before the reference walk, whose own traffic moves the loopback counters
                    assert got is not None and 0 <= want - got < counter_slack, (oid, got, want)
                else:
                    assert got == want, (metric.name, oid, got, want)
                checked += 1
    return checked


def test_v2c_matches_snmpbulkwalk(snmpd: Snmpd, harness):
    target = parse_target(
        {
            "name": "snmpd-v2c",
            "address": "127.0.0.1",
            "port": snmpd.port,
            "community": snmpd.community,
            "modules": MODULES,
        },
        "test",
    )
    result = harness.poll(target)
    assert result.up, result.error
    walked = {}
    for root in ("1.3.6.1.2.1.1", "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"):
        walked.update(snmpbulkwalk(["-v2c", "-c", snmpd.community, f"127.0.0.1:{snmpd.port}"], root))
    assert compare(result, walked) > 20
    names = families(result)
    assert dict(names["sysName"].samples[0][0])["sysName"] == "infrastrand-snmpd-test"
    lo = [dict(lb) for lb, _ in names["ifOperStatus"].samples if dict(lb)["ifDescr"] == "lo"]
    assert lo and lo[0]["ifName"] == "lo"


@pytest.mark.parametrize("user", ["sha256aes128", "sha512aes256"])
def test_v3_matches_snmpbulkwalk(snmpd: Snmpd, harness, user):
    auth, akey, priv, pkey = snmpd.users[user]
    target = parse_target(
        {
            "name": f"snmpd-{user}",
            "address": "127.0.0.1",
            "port": snmpd.port,
            "version": "3",
            "community": None,
            "v3": {
                "username": user,
                "auth_protocol": auth,
                "auth_key": akey,
                "priv_protocol": priv,
                "priv_key": pkey,
                "context": "",
            },
            "modules": MODULES,
        },
        "test",
    )
    result = harness.poll(target)
    assert result.up, result.error
    cli = [
        "-v3",
        "-l",
        "authPriv",
        "-u",
        user,
        "-a",
        auth,
        "-A",
        akey,
        "-x",
        priv.replace("-128", ""),
        "-X",
        pkey,
    ]
    walked = {}
    for root in ("1.3.6.1.2.1.1", "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"):
        walked.update(snmpbulkwalk([*cli, f"127.0.0.1:{snmpd.port}"], root))
    assert compare(result, walked) > 20


def test_v3_wrong_key_is_down_with_error(snmpd: Snmpd, harness):
    target = parse_target(
        {
            "name": "snmpd-badkey",
            "address": "127.0.0.1",
            "port": snmpd.port,
            "version": "3",
            "v3": {
                "username": "sha256aes128",
                "auth_protocol": "SHA-256",
                "auth_key": "not-the-right-key",
                "priv_protocol": "AES-128",
                "priv_key": "priv-pass-128",
            },
            "timeout": 1,
            "retries": 0,
            "modules": MODULES,
        },
        "test",
    )
    result = harness.poll(target)
    assert not result.up
    assert result.error and result.families == ()


@pytest.mark.parametrize("version", ["1", "2c"])
def test_pysnmp_reference_path_v1_and_v2c(snmpd: Snmpd, harness, version):
    """The pysnmp path also walks v1 (GETNEXT) and v2c; both agree with snmpbulkwalk."""
    target = parse_target(
        {
            "name": f"snmpd-pysnmp-v{version}",
            "address": "127.0.0.1",
            "port": snmpd.port,
            "version": version,
            "community": snmpd.community,
            "modules": MODULES,
        },
        "test",
    )
    result = harness.poll(target, wire=False)
    assert result.up, result.error
    command = "snmpwalk" if version == "1" else "snmpbulkwalk"
    walked = {}
    for root in ("1.3.6.1.2.1.1", "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"):
        walked.update(
            snmpbulkwalk([f"-v{version}", "-c", snmpd.community, f"127.0.0.1:{snmpd.port}"], root, command)
        )
    assert compare(result, walked) > 20
    assert ("ifHCInOctets" in families(result)) == (version == "2c")  # no Counter64 in SNMPv1


def test_v3_engines_are_shared_per_credential_scope(snmpd: Snmpd):
    """Devices with the same credentials share one pysnmp engine; v1/v2c devices share another."""

    def v3(name: str, user: str) -> Target:
        auth, akey, priv, pkey = snmpd.users[user]
        v3creds = {
            "username": user,
            "auth_protocol": auth,
            "auth_key": akey,
            "priv_protocol": priv,
            "priv_key": pkey,
        }
        return parse_target(
            {"name": name, "address": "127.0.0.1", "port": snmpd.port, "version": "3", "v3": v3creds}, "t"
        )

    targets = [v3("a", "sha256aes128"), v3("b", "sha256aes128"), v3("c", "sha512aes256")]
    targets += [
        parse_target(
            {"name": n, "address": "127.0.0.1", "port": snmpd.port, "community": snmpd.community}, "t"
        )
        for n in ("d", "e")
    ]

    async def run():
        client = PysnmpClient()
        try:
            results = await asyncio.gather(*(client.walk(t, ["1.3.6.1.2.1.1"]) for t in targets))
            return results, client.engine_count
        finally:
            client.close()

    results, engines = asyncio.run(run())
    assert all(r.error == "" and r.varbinds_count >= 6 for r in results), [r.error for r in results]
    assert engines == 3


@pytest.mark.parametrize("user", ["md5des", "shaaes192", "sha224auth", "sha384aes128"])
def test_v3_other_usm_protocols(snmpd: Snmpd, harness, user):
    """MD5/DES, SHA/AES-192, SHA-224 authNoPriv and SHA-384/AES-128 against snmpd."""
    auth, akey, priv, pkey = snmpd.users[user]
    v3creds = {
        "username": user,
        "auth_protocol": auth,
        "auth_key": akey,
        "priv_protocol": priv,
        "priv_key": pkey,
    }
    target = parse_target(
        {
            "name": f"snmpd-{user}",
            "address": "127.0.0.1",
            "port": snmpd.port,
            "version": "3",
            "v3": v3creds,
            "modules": ["system"],
        },
        "test",
    )
    result = harness.poll(target)
    assert result.up, result.error
    names = families(result)
    assert dict(names["sysName"].samples[0][0])["sysName"] == "infrastrand-snmpd-test"
    assert dict(names["sysLocation"].samples[0][0])["sysLocation"] == "loopback test rack"


def test_pysnmp_retries_are_counted(snmpd: Snmpd):
    """Re-sends after a timeout are retries; USM discovery exchanges with a fresh engine are not."""
    auth, akey, priv, pkey = snmpd.users["sha256aes128"]
    creds = {"username": "sha256aes128", "auth_protocol": auth, "auth_key": akey}
    creds |= {"priv_protocol": priv, "priv_key": pkey}
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never answers
    silent.bind(("127.0.0.1", 0))

    def target(name: str, port: int, **extra) -> Target:
        lost = port == silent.getsockname()[1]  # short timeouts only where nothing answers anyway
        fields = {"name": name, "address": "127.0.0.1", "port": port, "timeout": 0.3 if lost else 5}
        return parse_target({**fields, "retries": 2, **extra}, "t")

    async def run():
        client = PysnmpClient()
        try:
            answered = await client.walk(target("v3", snmpd.port, version="3", v3=creds), ["1.3.6.1.2.1.1"])
            v3_lost = await client.walk(
                target("v3-lost", silent.getsockname()[1], version="3", v3=creds), ["1.3"]
            )
            v2_lost = await client.walk(target("v2-lost", silent.getsockname()[1], community="x"), ["1.3"])
            return answered, v3_lost, v2_lost, client.retries, client.requests
        finally:
            client.close()

    try:
        answered, v3_lost, v2_lost, retries, requests = asyncio.run(run())
    finally:
        silent.close()
    assert answered.error == "" and answered.retries == 0 and answered.varbinds_count >= 6
    for lost in (v3_lost, v2_lost):
        assert lost.error == "timeout" and lost.retries == 2 and lost.pdus == 3
    assert retries == 4 and requests == answered.pdus + 6
