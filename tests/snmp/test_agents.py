"""Walks and GETs of the wire path against real agents (net-snmp snmpd, snmpsim), checked against net-snmp's
``snmpbulkwalk`` for the same subtrees."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
import uvloop

from collectors.snmp import (
    COUNTER32,
    COUNTER64,
    GAUGE32,
    INTEGER,
    IP_ADDRESS,
    NO_SUCH_INSTANCE,
    NO_SUCH_OBJECT,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    OPAQUE,
    TIMETICKS,
    SnmpClient,
    SnmpTarget,
)
from tests.snmp.agents import Agent, snmpbulkwalk
from tests.snmp.switchdata import IF_MIB_ROOTS, IF_TABLE, IF_X_TABLE, switch_records

pytestmark = pytest.mark.slow

KINDS = {
    "INTEGER": INTEGER,
    "Hex-STRING": OCTET_STRING,
    "STRING": OCTET_STRING,
    "OID": OBJECT_IDENTIFIER,
    "IpAddress": IP_ADDRESS,
    "Counter32": COUNTER32,
    "Gauge32": GAUGE32,
    "Timeticks": TIMETICKS,
    "Counter64": COUNTER64,
    "Opaque": OPAQUE,
}


def netsnmp_value(kind: str, text: str):
    """Our value representation of one snmpbulkwalk value."""
    tag = KINDS[kind]
    if tag == OCTET_STRING:
        return bytes.fromhex(text.replace(" ", ""))
    if tag == OBJECT_IDENTIFIER:
        return text.lstrip(".")
    if tag == IP_ADDRESS:
        return text
    if tag == OPAQUE:
        return text  # compared through opaque_text()
    return int(text)


def opaque_text(raw: bytes) -> str:
    """net-snmp's rendering of a UCD Opaque float (``9f 78 04`` + IEEE single)."""
    if raw[:3] == b"\x9f\x78\x04" and len(raw) == 7:
        return f"Float: {struct.unpack('>f', raw[3:])[0]:f}"
    return raw.hex()


def ours(res, root: str) -> dict[str, tuple[int, object]]:
    out = {}
    for index, tag, value in res.varbinds[root]:
        out[f"{root}.{index}"] = (tag, opaque_text(value) if tag == OPAQUE else value)
    return out


def theirs(rows) -> dict[str, tuple[int, object]]:
    return {oid: (KINDS[kind], netsnmp_value(kind, text)) for oid, kind, text in rows}


def walk(agent: Agent, community: str, roots, loop: str = "asyncio", **kw):
    async def run():
        async with SnmpClient(bind6=None) as client:
            res = await client.walk(
                SnmpTarget(agent.host, agent.port, community=community, **kw), list(roots)
            )
            return res, client.stats

    return uvloop.run(run()) if loop == "uvloop" else asyncio.run(run())


SNMPD_ROOTS = (
    "1.3.6.1.2.1.1",
    IF_TABLE,
    IF_X_TABLE,
    "1.3.6.1.2.1.4.20",  # ipAddrTable: IpAddress values, IP addresses in the index
    "1.3.6.1.2.1.25.2.3.1",  # hrStorageTable
    "1.3.6.1.4.1.2021.10.1",  # UCD laTable: Opaque floats
)


@pytest.mark.parametrize("version", ["2c", "1"])
def test_snmpd_walk_equals_snmpbulkwalk(snmpd, version):
    before = {root: theirs(snmpbulkwalk(snmpd, "public", root)) for root in SNMPD_ROOTS}
    res, stats = walk(snmpd, "public", SNMPD_ROOTS, version=version, max_repetitions=10)
    after = {root: theirs(snmpbulkwalk(snmpd, "public", root)) for root in SNMPD_ROOTS}
    assert res.error == ""
    volatile = 0
    for root in SNMPD_ROOTS:
        got = ours(res, root)
        a, b = before[root], after[root]
        expected_oids = set(a) if version == "2c" else {o for o in a if a[o][0] != COUNTER64}
        assert set(got) == expected_oids, root
        assert got, root
        for oid, (tag, value) in got.items():
            assert tag == a[oid][0], oid
            if a[oid] == b[oid]:
                assert value == a[oid][1], oid
            else:  # moving counters and uptimes: between the walk before and the walk after
                volatile += 1
                if isinstance(value, int):
                    assert a[oid][1] <= value <= b[oid][1], oid
    assert volatile < res.varbinds_count // 5
    assert res.varbinds_count == sum(len(v) for v in res.varbinds.values())
    assert res.pdus == stats.requests and res.retries == 0
    if version == "2c":
        assert res.pdus < res.varbinds_count / 5  # bulk: many varbinds per PDU
    else:
        assert res.pdus == res.varbinds_count + len(SNMPD_ROOTS)  # one GETNEXT per varbind plus one per end


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_snmpsim_walk_equals_snmpbulkwalk_and_data(snmpsim, loop):
    roots = (*IF_MIB_ROOTS, "1.3.6.1.2.1.25.2.3.1")
    res, _ = walk(snmpsim, "switch", IF_MIB_ROOTS, loop=loop, max_repetitions=25)
    assert res.error == ""
    data = {oid: (tag, value) for oid, tag, value in switch_records()}
    for root in IF_MIB_ROOTS:
        got = ours(res, root)
        assert got == theirs(snmpbulkwalk(snmpsim, "switch", root))
        assert got == {o: v for o, v in data.items() if o.startswith(root + ".")}
    assert len(res.varbinds["1.3.6.1.2.1.31.1.1"]) == 48 * 19
    res, _ = walk(snmpsim, "linux", roots, loop=loop, max_repetitions=7)
    assert res.error == ""
    for root in roots:
        assert ours(res, root) == theirs(snmpbulkwalk(snmpsim, "linux", root)), root


def test_walk_rows_are_index_suffixes(snmpsim):
    res, _ = walk(snmpsim, "switch", [IF_X_TABLE], max_repetitions=50)
    rows = res.varbinds[IF_X_TABLE]
    assert rows[0] == ("1.1", OCTET_STRING, b"Gi1/0/1")
    assert rows[5 * 48 + 47][:2] == ("6.48", COUNTER64)
    assert [r[0] for r in rows] == [f"{c}.{i}" for c in range(1, 20) for i in range(1, 49)]


def test_get_scalars_and_missing_objects(snmpd):
    async def run(version):
        async with SnmpClient(bind6=None) as client:
            t = SnmpTarget(snmpd.host, snmpd.port, version=version, community="public")
            return await client.get(
                t, ["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.99.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.1"]
            )

    v2 = asyncio.run(run("2c"))
    assert v2.error == "" and v2.pdus == 1
    assert v2.varbinds["1.3.6.1.2.1.1.99.0"] == [("", NO_SUCH_OBJECT, None)]
    assert v2.varbinds["1.3.6.1.2.1.1.5.1"] == [("", NO_SUCH_INSTANCE, None)]
    assert v2.varbinds["1.3.6.1.2.1.1.3.0"][0][1] == TIMETICKS
    name = v2.varbinds["1.3.6.1.2.1.1.5.0"][0]
    assert name[1] == OCTET_STRING and name[2] == bytes.fromhex(
        snmpbulkwalk(snmpd, "public", "1.3.6.1.2.1.1.5")[0][2].replace(" ", "")
    )
    v1 = asyncio.run(
        run("1")
    )  # v1 answers noSuchName for the whole PDU; the client drops that OID and asks again
    assert v1.error == "" and v1.pdus == 3
    assert v1.varbinds["1.3.6.1.2.1.1.99.0"] == [("", NO_SUCH_OBJECT, None)]
    assert v1.varbinds["1.3.6.1.2.1.1.5.1"] == [("", NO_SUCH_OBJECT, None)]
    assert v1.varbinds["1.3.6.1.2.1.1.5.0"] == [name]


def test_wrong_community_times_out_and_counts(snmpd):
    res, stats = walk(snmpd, "not-the-community", ["1.3.6.1.2.1.1"], timeout=0.2, retries=1)
    assert res.error == "timeout" and res.pdus == 2 and res.retries == 1
    assert stats.timeouts == 1 and stats.retries == 1 and stats.requests == 2


def test_slow_agent_retry_counted(snmpsim):
    """snmpsim answers after 0.7 s; with a 0.5 s timeout the first retransmission is counted and the
    answer to the first transmission (same request-id) is taken; the second answer arrives late."""

    async def run():
        async with SnmpClient(bind6=None) as client:
            t = SnmpTarget(snmpsim.host, snmpsim.port, community="slow", timeout=0.5, retries=3)
            res = await client.get(t, ["1.3.6.1.2.1.1.3.0"])
            await asyncio.sleep(1.2)  # the retransmission's answer comes after the request is done
            return res, client.stats

    res, stats = asyncio.run(run())
    assert res.error == ""
    assert res.varbinds["1.3.6.1.2.1.1.3.0"] == [("", TIMETICKS, 4242)]
    assert res.retries >= 1 and res.pdus == 1 + res.retries
    assert stats.retries == res.retries
    assert stats.unexpected["late"] >= 1


def test_ipv6_and_host_name_targets(snmpd):
    """The same snmpd over [::1] (the client's IPv6 socket) and by host name gives the same rows."""
    root = "1.3.6.1.2.1.2.2.1.2"

    async def run():
        async with SnmpClient(bind6="::1") as client:
            v4 = await client.walk(SnmpTarget(snmpd.host, snmpd.port, community="public"), [root])
            v6 = await client.walk(SnmpTarget("::1", snmpd.port6, community="public"), [root])
            named = await client.walk(SnmpTarget("localhost", snmpd.port, community="public"), [root])
            return v4, v6, named

    v4, v6, named = asyncio.run(run())
    assert v4.error == v6.error == named.error == ""
    assert v4.varbinds[root] and v4.varbinds == v6.varbinds == named.varbinds


def test_no_socket_of_the_family_is_an_error_not_an_exception(snmpd):
    async def run():
        async with SnmpClient(bind6=None) as client:
            return await client.walk(SnmpTarget("::1", snmpd.port6, community="public"), ["1.3.6.1.2.1.1"])

    res = asyncio.run(run())
    assert res.error == "addressFamily" and res.pdus == 0


def test_unresolvable_name_is_an_error(snmpd):
    async def run():
        async with SnmpClient(bind6=None) as client:
            return await client.walk(SnmpTarget("no-such-host.invalid", 161), ["1.3.6.1.2.1.1"])

    assert asyncio.run(run()).error == "resolve"


def test_socket_closed_under_the_client_is_reopened(snmpd):
    async def run():
        async with SnmpClient(bind6=None) as client:
            t = SnmpTarget(snmpd.host, snmpd.port, community="public")
            before = await client.walk(t, ["1.3.6.1.2.1.1.5"])
            client.transport._endpoints[socket.AF_INET].transport.close()  # as a fatal socket error would
            await asyncio.sleep(0)
            after = await client.walk(t, ["1.3.6.1.2.1.1.5"])
            return before, after, client.stats

    before, after, stats = asyncio.run(run())
    assert before.error == after.error == "" and before.varbinds == after.varbinds
    assert stats.reopened == 1


@pytest.mark.parametrize(
    "kw",
    [{"port": 0}, {"port": 70000}, {"version": "3"}, {"timeout": 0}, {"retries": -1}, {"max_repetitions": 0}],
)
def test_bad_targets_are_refused_when_built(kw):
    with pytest.raises(ValueError):
        SnmpTarget("127.0.0.1", **({"port": 161} | kw))
