"""Issue 10 defect 4: OID sub-identifier bombs are malformed packets, never a crash or a partial result.

A response whose OID carries one sub-identifier of thousands of octets used to raise a plain
``ValueError`` (Python's int-to-str digit limit), after quadratic decoding, keep the varbinds decoded
before it in the walk result, and log a traceback per datagram.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from collectors.snmp import COUNTER32, SnmpClient, SnmpTarget
from collectors.snmp.ber import (
    OBJECT_IDENTIFIER,
    RESPONSE,
    SEQUENCE,
    MalformedPacket,
    encode_signed,
    oid_to_bytes,
    oid_to_str,
    subids,
    tlv,
)
from collectors.snmp.messages import (
    decode_message,
    encode_value,
    parse_header,
    parse_walk_varbinds,
)
from tests.snmp.agents import ScriptedAgent

ROOT = "1.3.6.1.2.1.2.2.1"
BOMB_OCTETS = 2042  # the smallest sub-identifier that broke int -> str, per the issue


def bomb_subid(octets: int) -> bytes:
    """One sub-identifier encoded in ``octets`` octets (non-minimal leading 0x80 avoided)."""
    return b"\x81" + b"\xff" * (octets - 2) + b"\x7f"


def response(request_id: int, oids: list[bytes]) -> bytes:
    """A v2c Response whose varbinds carry the given OID content octets, each with a Counter32."""
    vbl = b"".join(tlv(SEQUENCE, tlv(OBJECT_IDENTIFIER, o) + encode_value(COUNTER32, 7)) for o in oids)
    pdu = b"".join(tlv(0x02, encode_signed(x)) for x in (request_id, 0, 0)) + tlv(SEQUENCE, vbl)
    return tlv(SEQUENCE, b"\x02\x01\x01" + tlv(0x04, b"public") + tlv(RESPONSE, pdu))


def test_five_octet_subidentifiers_are_read_and_six_are_malformed():
    assert subids(b"\x2b\x8f\xff\xff\xff\x7f") == [43, 2**32 - 1]
    assert oid_to_str(b"\x2b\x8f\xff\xff\xff\x7f") == f"1.3.{2**32 - 1}"
    for content in (b"\x2b\x81\x80\x80\x80\x80\x00", b"\x2b" + bomb_subid(BOMB_OCTETS)):
        with pytest.raises(MalformedPacket) as err:
            oid_to_str(content)
        assert err.value.reason == "oid"


@pytest.mark.parametrize("octets", [6, BOMB_OCTETS, 60_000])
def test_bomb_after_good_varbinds_is_malformed_and_keeps_nothing(octets):
    root = oid_to_bytes(ROOT)
    good = [root + bytes((1, i)) for i in (1, 2, 3)]
    data = response(42, [*good, root + b"\x02" + bomb_subid(octets)])
    _, _, _, _, _, _, start, end = parse_header(data)
    out: list = [("kept", 1, 1)]  # what earlier datagrams of the walk produced
    with pytest.raises(MalformedPacket):
        parse_walk_varbinds(data, start, end, root, (), out)
    assert out == [("kept", 1, 1)]
    with pytest.raises(MalformedPacket):
        decode_message(data)


def test_bomb_answers_are_counted_malformed_without_traceback(caplog):
    """A device answering every request with a bomb: the walk times out with no varbinds, each datagram
    is counted as malformed "oid", and the log says so once, without a traceback."""
    root = oid_to_bytes(ROOT)

    def reply(msg, raw):
        good = [root + bytes((1, i)) for i in (1, 2, 3)]
        return [(response(msg.request_id, [*good, root + b"\x02" + bomb_subid(BOMB_OCTETS)]), None)] * 5

    async def go():
        async with SnmpClient(bind6=None) as client:
            res = await client.walk(SnmpTarget("127.0.0.1", agent.port, timeout=0.3, retries=2), [ROOT])
            for _ in range(200):  # bounded: until the last datagrams are counted
                if sum(client.stats.malformed.values()) >= 15:
                    break
                await asyncio.sleep(0.01)
            return res, client.stats

    caplog.set_level(logging.DEBUG, logger="collectors.snmp")
    with ScriptedAgent(reply) as agent:
        res, stats = asyncio.run(go())
    assert res.error == "timeout" and res.varbinds[ROOT] == [] and res.varbinds_count == 0
    assert stats.malformed["oid"] == 15 and stats.malformed["internal"] == 0
    drops = [
        r for r in caplog.records if r.name == "collectors.snmp.transport" and r.levelno >= logging.WARNING
    ]
    assert len(drops) == 1 and drops[0].exc_info is None
