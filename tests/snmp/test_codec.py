"""Differential tests of the BER codec against pysnmp/pyasn1 as the oracle, with hypothesis.

Both directions for every PDU type the codec handles and every value type: our encoding decoded by
pyasn1, pyasn1's encoding decoded by us (the generic codec and the hot-path walk/GET decoders).
"""

from __future__ import annotations

import contextlib
import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto.api import v1, v2c

from collectors.snmp import ber
from collectors.snmp.ber import MalformedPacket, oid_key, oid_to_bytes, oid_to_str
from collectors.snmp.messages import (
    WALK_END,
    WALK_MORE,
    Message,
    decode_message,
    decode_value,
    encode_message,
    encode_request,
    encode_value,
    parse_get_varbinds,
    parse_header,
    parse_walk_varbinds,
)

U32 = 2**32 - 1

# ---------------------------------------------------------------------------------------------- oracle

V2_TYPES = {
    ber.INTEGER: v2c.Integer,
    ber.OCTET_STRING: v2c.OctetString,
    ber.OBJECT_IDENTIFIER: v2c.ObjectIdentifier,
    ber.IP_ADDRESS: v2c.IpAddress,
    ber.COUNTER32: v2c.Counter32,
    ber.GAUGE32: v2c.Gauge32,
    ber.TIMETICKS: v2c.TimeTicks,
    ber.COUNTER64: v2c.Counter64,
    ber.OPAQUE: v2c.Opaque,
    ber.NULL: v2c.Null,
    ber.NO_SUCH_OBJECT: v2c.NoSuchObject,
    ber.NO_SUCH_INSTANCE: v2c.NoSuchInstance,
    ber.END_OF_MIB_VIEW: v2c.EndOfMibView,
}
V1_TYPES = {
    ber.INTEGER: v1.Integer,
    ber.OCTET_STRING: v1.OctetString,
    ber.OBJECT_IDENTIFIER: v1.ObjectIdentifier,
    ber.IP_ADDRESS: v1.IpAddress,
    ber.COUNTER32: v1.Counter,
    ber.GAUGE32: v1.Gauge,
    ber.TIMETICKS: v1.TimeTicks,
    ber.OPAQUE: v1.Opaque,
    ber.NULL: v1.Null,
}
V2_PDUS = {
    ber.GET: v2c.GetRequestPDU,
    ber.GET_NEXT: v2c.GetNextRequestPDU,
    ber.RESPONSE: v2c.ResponsePDU,
    ber.SET: v2c.SetRequestPDU,
    ber.GET_BULK: v2c.GetBulkRequestPDU,
    ber.INFORM: v2c.InformRequestPDU,
    ber.TRAP_V2: v2c.SNMPv2TrapPDU,
    ber.REPORT: v2c.ReportPDU,
}
V1_PDUS = {
    ber.GET: v1.GetRequestPDU,
    ber.GET_NEXT: v1.GetNextRequestPDU,
    ber.RESPONSE: v1.GetResponsePDU,
    ber.SET: v1.SetRequestPDU,
}


def oracle_value(mod_types, tag, value):
    cls = mod_types[tag]
    if value is None:
        return cls("")
    if tag == ber.IP_ADDRESS:
        return cls(ipaddress.IPv4Address(value).packed)
    return cls(value)


def to_pyasn1(msg: Message):
    """The pyasn1 object of a message, built through pysnmp's protocol API."""
    mod, types, pdus = (v1, V1_TYPES, V1_PDUS) if msg.version == 0 else (v2c, V2_TYPES, V2_PDUS)
    pdu = pdus[msg.pdu_type]()
    pdu["request-id"] = msg.request_id
    if msg.pdu_type == ber.GET_BULK:
        pdu["non-repeaters"] = msg.error_status
        pdu["max-repetitions"] = msg.error_index
    else:
        pdu["error-status"] = msg.error_status
        pdu["error-index"] = msg.error_index
    mod.apiPDU.set_varbinds(pdu, [(oid, oracle_value(types, tag, v)) for oid, tag, v in msg.varbinds])
    out = mod.Message()
    mod.apiMessage.set_defaults(out)
    mod.apiMessage.set_community(out, msg.community)
    mod.apiMessage.set_pdu(out, pdu)
    return out


def oracle_encode(msg: Message) -> bytes:
    return encoder.encode(to_pyasn1(msg))


def oracle_decode(data: bytes) -> Message:
    """pyasn1's reading of a message, in our representation."""
    version = int(decoder.decode(data, asn1Spec=v2c.Message())[0]["version"]) if data else 0
    mod = v1 if version == 0 else v2c
    obj, rest = decoder.decode(data, asn1Spec=mod.Message())
    assert not rest
    pdu = mod.apiMessage.get_pdu(obj)
    tag = encoder.encode(pdu)[0]
    bulk = tag == ber.GET_BULK
    a = pdu["non-repeaters"] if bulk else pdu["error-status"]
    b = pdu["max-repetitions"] if bulk else pdu["error-index"]
    varbinds = []
    for oid, val in mod.apiPDU.get_varbinds(pdu):
        vtag = encoder.encode(val)[0]
        if vtag in (ber.OCTET_STRING, ber.OPAQUE):
            value = bytes(val)
        elif vtag == ber.OBJECT_IDENTIFIER:
            value = str(val)
        elif vtag == ber.IP_ADDRESS:
            value = str(ipaddress.IPv4Address(bytes(val)))
        elif vtag == ber.NULL or vtag in ber.EXCEPTIONS:
            value = None
        else:
            value = int(val)
        varbinds.append((str(oid), vtag, value))
    return Message(version, bytes(obj["community"]), tag, int(pdu["request-id"]), int(a), int(b), varbinds)


# ---------------------------------------------------------------------------------------------- strategies

subid = st.one_of(st.integers(0, 127), st.integers(128, 16384), st.integers(0, U32))


@st.composite
def oids(draw, min_size=0):
    first = draw(st.integers(0, 2))
    second = draw(st.integers(0, 39)) if first < 2 else draw(st.integers(0, 1000))
    rest = draw(st.lists(subid, min_size=min_size, max_size=20))
    return ".".join(map(str, [first, second, *rest]))


def value_strategy(tag):
    return {
        ber.INTEGER: st.integers(-(2**31), 2**31 - 1),
        ber.OCTET_STRING: st.binary(max_size=300),
        ber.OPAQUE: st.binary(max_size=40),
        ber.OBJECT_IDENTIFIER: oids(),
        ber.IP_ADDRESS: st.ip_addresses(v=4).map(str),
        ber.COUNTER32: st.integers(0, U32),
        ber.GAUGE32: st.integers(0, U32),
        ber.TIMETICKS: st.integers(0, U32),
        ber.COUNTER64: st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 2**63, 2**64 - 1])),
    }.get(tag, st.none())


def varbinds(types):
    return st.lists(
        st.sampled_from(sorted(types)).flatmap(
            lambda tag: st.tuples(oids(), st.just(tag), value_strategy(tag))
        ),
        max_size=25,
    )


@st.composite
def messages(draw, version=None, pdu_types=None):
    version = draw(st.sampled_from([0, 1])) if version is None else version
    pdus, types = (V1_PDUS, V1_TYPES) if version == 0 else (V2_PDUS, V2_TYPES)
    pdu_type = draw(st.sampled_from(sorted(pdu_types or pdus)))
    if pdu_type == ber.GET_BULK:
        a, b = draw(st.integers(0, 2**31 - 1)), draw(st.integers(0, 2**31 - 1))
    else:
        a, b = draw(st.integers(0, 18)), draw(st.integers(0, 2**31 - 1))
    return Message(
        version,
        draw(st.binary(max_size=40)),
        pdu_type,
        draw(st.integers(-(2**31), 2**31 - 1)),
        a,
        b,
        draw(varbinds(types)),
    )


FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------- tests


def pyasn1_pads(msg: Message) -> bool:
    """pyasn1 encodes -2**(8k-1) with a redundant 0xff octet (-128 as ff 80): no byte equality then."""
    ints = [msg.request_id, msg.error_status, msg.error_index]
    ints += [v for _, tag, v in msg.varbinds if tag == ber.INTEGER]
    return any(v < 0 and (-v) & (-v - 1) == 0 and (-v).bit_length() % 8 == 0 for v in ints)


@FAST
@given(messages())
def test_our_encoding_is_what_pyasn1_encodes_and_reads(msg):
    data = encode_message(msg)
    assert oracle_decode(data) == msg
    if not pyasn1_pads(msg):
        assert data == oracle_encode(msg)


@FAST
@given(messages())
def test_we_read_what_pyasn1_encodes(msg):
    assert decode_message(oracle_encode(msg)) == msg


@FAST
@given(
    st.sampled_from([0, 1]),
    st.sampled_from([ber.GET, ber.GET_NEXT, ber.GET_BULK]),
    st.integers(0, 2**31 - 1),
    st.lists(oids(), min_size=1, max_size=10),
    st.integers(0, 1000),
)
def test_request_encoder_matches_pysnmp(version, pdu_type, rid, names, reps):
    if version == 0 and pdu_type == ber.GET_BULK:
        pdu_type = ber.GET_NEXT
    data = encode_request(version, b"public", pdu_type, rid, [oid_to_bytes(o) for o in names], 0, reps)
    expected = Message(
        version, b"public", pdu_type, rid, 0, reps if pdu_type == ber.GET_BULK else 0,
        [(o, ber.NULL, None) for o in names],
    )  # fmt: skip
    assert oracle_decode(data) == expected
    assert data == oracle_encode(expected)


@st.composite
def walk_responses(draw):
    """A v2c Response as a walk sees it: increasing OIDs below a root, maybe a last one past it."""
    root = draw(oids(min_size=1))
    suffixes = sorted(set(draw(st.lists(st.lists(subid, min_size=1, max_size=4).map(tuple), max_size=25))))
    tags = sorted(t for t in V2_TYPES if t not in ber.EXCEPTIONS)
    vbs = []
    for suffix in suffixes:
        tag = draw(st.sampled_from(tags))
        vbs.append((root + "." + ".".join(map(str, suffix)), tag, draw(value_strategy(tag))))
    end = draw(st.sampled_from(["none", "past", "endOfMibView"]))
    if end == "past":
        parts = root.split(".")
        vbs.append((".".join([*parts[:-1], str(int(parts[-1]) + 1)]), ber.INTEGER, 1))
    elif end == "endOfMibView":
        vbs.append((vbs[-1][0] if vbs else root, ber.END_OF_MIB_VIEW, None))
    return root, Message(1, b"public", ber.RESPONSE, draw(st.integers(0, 2**31 - 1)), 0, 0, vbs), end


@FAST
@given(walk_responses())
def test_walk_decoder_reads_pyasn1_responses(case):
    root, msg, end = case
    data = oracle_encode(msg)
    _, pdu_type, _, rid, status, _, start, stop = parse_header(data)
    assert (pdu_type, rid, status) == (ber.RESPONSE, msg.request_id, 0)
    out: list = []
    state, last, key = parse_walk_varbinds(data, start, stop, oid_to_bytes(root), (), out)
    inside = [vb for vb in msg.varbinds if vb[1] != ber.END_OF_MIB_VIEW and vb[0].startswith(root + ".")]
    assert out == [(oid[len(root) + 1 :], tag, value) for oid, tag, value in inside]
    assert state == (WALK_MORE if end == "none" else WALK_END)
    if inside:
        assert last == oid_to_bytes(inside[-1][0])
        assert key == oid_key(oid_to_bytes(inside[-1][0])[len(oid_to_bytes(root)) :])


@FAST
@given(messages(version=1, pdu_types=[ber.RESPONSE]))
def test_get_decoder_reads_pyasn1_responses(msg):
    data = oracle_encode(msg)
    _, _, _, _, _, _, start, stop = parse_header(data)
    got = parse_get_varbinds(data, start, stop)
    assert [(oid_to_str(o), t, v) for o, t, v in got] == msg.varbinds


@FAST
@given(oids())
def test_oid_roundtrip(oid):
    raw = oid_to_bytes(oid)
    assert raw == encoder.encode(v2c.ObjectIdentifier(oid))[2:] or len(raw) >= 128
    assert oid_to_str(raw) == oid


@given(oids(min_size=1), oids(min_size=1))
def test_oid_key_is_oid_order(a, b):
    ta, tb = tuple(map(int, a.split("."))), tuple(map(int, b.split(".")))
    assert (oid_key(oid_to_bytes(a)) < oid_key(oid_to_bytes(b))) == (ta < tb)


def test_uinteger32_and_exceptions_roundtrip():
    for tag, value in [(ber.UINTEGER32, U32), (ber.UINTEGER32, 0), (ber.NO_SUCH_INSTANCE, None)]:
        raw = encode_value(tag, value)
        assert decode_value(raw[0], raw[2:]) == value


@pytest.mark.parametrize(
    ("tag", "content", "reason"),
    [
        (ber.INTEGER, b"", "value"),
        (ber.INTEGER, b"\x00\x80\x00\x00\x00", "value"),  # 2**31, beyond Integer32
        (ber.INTEGER, b"\xff\x80\x00\x00\x00\x00", "value"),  # six octets
        (ber.COUNTER32, b"\x01\x00\x00\x00\x00", "value"),  # 2**32
        (ber.COUNTER64, b"\x01" + b"\x00" * 8, "value"),  # 2**64
        (ber.IP_ADDRESS, b"\x7f\x00\x01", "value"),
        (ber.NULL, b"\x00", "value"),
        (ber.END_OF_MIB_VIEW, b"\x00", "value"),
        (ber.OBJECT_IDENTIFIER, b"\x2b\x86", "oid"),  # ends inside a subidentifier
        (ber.OBJECT_IDENTIFIER, b"\x2b\x80\x01", "oid"),  # non-minimal subidentifier
        (0x45, b"", "tag"),
    ],
)
def test_bad_values_are_rejected_like_pyasn1_would(tag, content, reason):
    with pytest.raises(MalformedPacket) as err:
        decode_value(tag, content)
    assert err.value.reason == reason


def test_unsigned_without_leading_zero_reads_as_unsigned():
    """Some agents send Counter32 0xffffffff without the leading zero octet; net-snmp reads it unsigned."""
    assert decode_value(ber.COUNTER32, b"\xff\xff\xff\xff") == U32
    assert decode_value(ber.COUNTER64, b"\xff" * 8) == 2**64 - 1


def test_index_cache_is_bounded(monkeypatch):
    from collectors.snmp import messages

    monkeypatch.setattr(messages, "_INDEX_CACHE_MAX", 100)
    monkeypatch.setattr(messages, "_index_caches", {})  # start empty whatever ran before
    monkeypatch.setattr(messages, "_index_cache_size", 0)
    root = "1.3.6.1.2.1.31.1.1.1"
    for start in range(1, 2000, 25):
        vbs = [(f"{root}.1.{i}", ber.INTEGER, i) for i in range(start, start + 25)]
        data = encode_message(Message(1, b"c", ber.RESPONSE, 1, 0, 0, vbs))
        _, _, _, _, _, _, pos, end = parse_header(data)
        out: list = []
        assert parse_walk_varbinds(data, pos, end, oid_to_bytes(root), (), out)[0] == WALK_MORE
        assert out == [(f"1.{i}", ber.INTEGER, i) for i in range(start, start + 25)]
        assert sum(len(c) for c in messages._index_caches.values()) <= 100


@st.composite
def mutated(draw):
    """A valid pyasn1-encoded walk response with bytes flipped, cut, inserted or lengths lying."""
    root, msg, _ = draw(walk_responses())
    data = bytearray(oracle_encode(msg))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "length"]))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[i:]
        elif kind == "insert":
            data.insert(i, draw(st.integers(0, 255)))
        elif data:
            data[i] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0x81, 0x82, 0x84, 0x85, 0xFF]))
    return root, bytes(data)


@FAST
@given(mutated())
def test_decoders_raise_only_malformed_packet(case):
    """Garbage never escapes as another exception, and the walk decoder never half-fills its output."""
    root, data = case
    try:
        _, _, _, _, _, _, start, stop = parse_header(data)
    except MalformedPacket:
        return
    out: list = [("sentinel", 0, None)]
    try:
        parse_walk_varbinds(data, start, stop, oid_to_bytes(root), (), out)
    except MalformedPacket:
        assert out == [("sentinel", 0, None)]
    for decode in (lambda: parse_get_varbinds(data, start, stop), lambda: decode_message(data)):
        with contextlib.suppress(MalformedPacket):
            decode()
