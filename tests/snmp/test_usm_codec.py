"""Differential tests of the SNMPv3/USM wire path against pysnmp's USM services and pyasn1 as the oracle.

For every auth x priv combination (noAuthNoPriv, authNoPriv with each HMAC, authPriv with each HMAC and
each cipher, the Cisco "C" key extension included):

- our localized keys equal pysnmp's;
- requests we encode are decoded by pyasn1 (SNMPv3Message, UsmSecurityParameters, ScopedPDU),
  authenticated by pysnmp's HMAC service and decrypted by pysnmp's privacy service;
- responses and Reports pysnmp encodes, encrypts and signs are read by our decoder;
- a flipped bit anywhere in a signed answer is dropped.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.proto.api import v2c
from pysnmp.proto.mpmod.rfc3412 import ScopedPDU, SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import SnmpUSMSecurityModel, UsmSecurityParameters

from collectors import v3 as pysnmp_path
from collectors.snmp import ber
from collectors.snmp.ber import GET_BULK, MalformedPacket, oid_to_bytes
from collectors.snmp.engines import REPORT_STATUS, Peer, UsmEngines, handle_response
from collectors.snmp.messages import parse_walk_varbinds
from collectors.snmp.usm import (
    AUTH_PROTOCOLS,
    PRIV_PROTOCOLS,
    REPORT_REASONS,
    LocalKeys,
    UsmUser,
    localize,
    localized_priv_key,
    password_to_key,
)
from collectors.snmp.v3message import parse_header

# the names' pysnmp protocols, as the pysnmp reference path (collectors/v3.py) maps them
AUTH_OIDS = {name: oid for name, oid in pysnmp_path.AUTH_PROTOCOLS.items() if name}
PRIV_OIDS = {name: oid for name, oid in pysnmp_path.PRIV_PROTOCOLS.items() if name}
assert set(AUTH_OIDS) == set(AUTH_PROTOCOLS) and set(PRIV_OIDS) == set(PRIV_PROTOCOLS)
COMBOS = [(None, None)] + [(a, None) for a in AUTH_OIDS] + [(a, p) for a in AUTH_OIDS for p in PRIV_OIDS]
ENGINE = bytes.fromhex("80001f8880e9630000d61ff449")
ROOT = "1.3.6.1.2.1.31.1.1.1"
AUTH_SVC = SnmpUSMSecurityModel.AUTH_SERVICES
PRIV_SVC = SnmpUSMSecurityModel.PRIV_SERVICES


def combo_id(combo) -> str:
    return "-".join(x or "none" for x in combo)


def user_of(auth: str | None, priv: str | None) -> UsmUser:
    return UsmUser(
        b"user-" + (auth or "noauth").encode(),
        auth,
        b"auth-pass-" + (auth or "").encode() if auth else None,
        priv,
        b"priv-pass-" + (priv or "").encode() if priv else None,
        context_name=b"ctx-a",
    )


@functools.cache
def our_keys(auth: str | None, priv: str | None, engine_id: bytes) -> LocalKeys:
    user = user_of(auth, priv)
    if auth is None:
        return LocalKeys(engine_id, b"", b"")
    h = AUTH_PROTOCOLS[auth][0]
    akey = localize(h, password_to_key(h, user.auth_password), engine_id)
    pkey = localized_priv_key(h, priv, password_to_key(h, user.priv_password), engine_id) if priv else b""
    return LocalKeys(engine_id, akey, pkey)


@functools.cache
def oracle_keys(auth: str, priv: str | None, engine_id: bytes) -> tuple[bytes, bytes]:
    user = user_of(auth, priv)
    svc = AUTH_SVC[AUTH_OIDS[auth]]
    engine = univ.OctetString(engine_id)
    akey = bytes(svc.localize_key(svc.hash_passphrase(user.auth_password), engine))
    pkey = b""
    if priv:
        psvc = PRIV_SVC[PRIV_OIDS[priv]]
        ku = psvc.hash_passphrase(AUTH_OIDS[auth], user.priv_password)
        pkey = bytes(psvc.localize_key(AUTH_OIDS[auth], ku, engine))
    return akey, pkey


def peer_for(auth, priv, boots=7, time=1234) -> Peer:
    peer = Peer(user_of(auth, priv))
    peer.learn(ENGINE, boots, time)
    peer.use_keys(our_keys(auth, priv, ENGINE))
    return peer


@pytest.mark.parametrize("combo", [c for c in COMBOS if c[0]], ids=combo_id)
@pytest.mark.parametrize("engine_id", [ENGINE, b"\x80\x00\x00\x09\x03" + b"engine-b"], ids=["a", "b"])
def test_localized_keys_equal_pysnmps(combo, engine_id):
    auth, priv = combo
    keys = our_keys(auth, priv, engine_id)
    assert (keys.auth, keys.priv) == oracle_keys(auth, priv, engine_id)
    if priv:
        assert len(keys.priv) == PRIV_PROTOCOLS[priv][0]


def oracle_read_request(data: bytes, auth, priv, keys: LocalKeys):
    """pyasn1/pysnmp: verify and open one of our requests; returns (header, usm params, scoped PDU)."""
    msg, rest = decoder.decode(data, asn1Spec=SNMPv3Message())
    assert rest == b""
    header = msg["msgGlobalData"]
    usm, rest = decoder.decode(bytes(msg["msgSecurityParameters"]), asn1Spec=UsmSecurityParameters())
    assert rest == b""
    if auth:
        AUTH_SVC[AUTH_OIDS[auth]].authenticate_incoming_message(
            univ.OctetString(keys.auth), usm["msgAuthenticationParameters"], data
        )  # raises on a wrong MAC
    else:
        assert bytes(usm["msgAuthenticationParameters"]) == b""
    if priv:
        boots, time = int(usm["msgAuthoritativeEngineBoots"]), int(usm["msgAuthoritativeEngineTime"])
        plain = PRIV_SVC[PRIV_OIDS[priv]].decrypt_data(
            univ.OctetString(keys.priv),
            (boots, time, usm["msgPrivacyParameters"]),
            msg["msgData"]["encryptedPDU"],
        )
        scoped, _padding = decoder.decode(plain, asn1Spec=ScopedPDU())
    else:
        scoped = msg["msgData"]["plaintext"]
    return header, usm, scoped


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rid=st.integers(1, 2**31 - 1),
    reps=st.integers(1, 100),
    boots=st.integers(0, 2**31 - 2),
    time=st.integers(0, 2**31 - 200),
    suffix=st.lists(st.integers(0, 2**32 - 1), max_size=6),
)
def test_pysnmp_reads_and_authenticates_our_requests(combo, rid, reps, boots, time, suffix):
    auth, priv = combo
    peer = peer_for(auth, priv, boots, time)
    oid = ".".join(map(str, [*ROOT.split("."), *suffix]))
    data = UsmEngines(transport=None)._encode(peer, rid, GET_BULK, [oid_to_bytes(oid)], 0, reps)
    header, usm, scoped = oracle_read_request(data, auth, priv, peer.keys)
    flags = bytes(header["msgFlags"])[0]
    assert int(header["msgID"]) == rid and int(header["msgSecurityModel"]) == 3
    assert flags == 0x04 | (0x01 if auth else 0) | (0x02 if priv else 0)
    assert bytes(usm["msgAuthoritativeEngineId"]) == ENGINE
    assert int(usm["msgAuthoritativeEngineBoots"]) == boots
    assert time <= int(usm["msgAuthoritativeEngineTime"]) <= time + 5
    assert bytes(usm["msgUserName"]) == peer.user.username
    assert bytes(scoped["contextEngineId"]) == ENGINE and bytes(scoped["contextName"]) == b"ctx-a"
    pdu = scoped["data"].getComponent()
    assert pdu.tagSet == v2c.GetBulkRequestPDU.tagSet
    assert int(v2c.apiBulkPDU.get_request_id(pdu)) == rid
    assert int(v2c.apiBulkPDU.get_max_repetitions(pdu)) == reps
    assert [str(o) for o, _ in v2c.apiBulkPDU.get_varbinds(pdu)] == [oid]


VALUES = st.one_of(
    st.builds(v2c.Counter64, st.integers(0, 2**64 - 1)),
    st.builds(v2c.Counter32, st.integers(0, 2**32 - 1)),
    st.builds(v2c.Integer, st.integers(-(2**31), 2**31 - 1)),
    st.builds(v2c.OctetString, st.binary(max_size=40)),
)
PLAIN = {
    v2c.Counter64.tagSet: ber.COUNTER64,
    v2c.Counter32.tagSet: ber.COUNTER32,
    v2c.Integer.tagSet: ber.INTEGER,
    v2c.OctetString.tagSet: ber.OCTET_STRING,
}


def oracle_answer(auth, priv, keys: LocalKeys, *, msg_id, pdu, boots, time, username, flags=None) -> bytes:
    """A v3 answer built, encrypted and signed by pyasn1 and pysnmp's USM services."""
    scoped = ScopedPDU()
    scoped["contextEngineId"] = ENGINE
    scoped["contextName"] = b"ctx-a"
    scoped["data"].setComponentByType(pdu.tagSet, pdu)
    msg = SNMPv3Message()
    msg["msgVersion"] = 3
    header = msg["msgGlobalData"]
    header["msgID"] = msg_id
    header["msgMaxSize"] = 65507
    if flags is None:
        flags = (0x01 if auth else 0) | (0x02 if priv else 0)
    header["msgFlags"] = bytes((flags,))
    header["msgSecurityModel"] = 3
    usm = UsmSecurityParameters()
    usm["msgAuthoritativeEngineId"] = ENGINE
    usm["msgAuthoritativeEngineBoots"] = boots
    usm["msgAuthoritativeEngineTime"] = time
    usm["msgUserName"] = username
    usm["msgAuthenticationParameters"] = bytes(AUTH_PROTOCOLS[auth][1]) if flags & 1 else b""
    if flags & 2:
        ciphertext, salt = PRIV_SVC[PRIV_OIDS[priv]].encrypt_data(
            univ.OctetString(keys.priv), (boots, time, None), encoder.encode(scoped)
        )
        usm["msgPrivacyParameters"] = salt
        msg["msgData"]["encryptedPDU"] = ciphertext
    else:
        usm["msgPrivacyParameters"] = b""
        msg["msgData"]["plaintext"] = scoped
    msg["msgSecurityParameters"] = encoder.encode(usm)
    whole = encoder.encode(msg)
    if flags & 1:
        whole = AUTH_SVC[AUTH_OIDS[auth]].authenticate_outgoing_message(univ.OctetString(keys.auth), whole)
    return bytes(whole)


def response_pdu(rid: int, varbinds: list) -> object:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, rid)
    v2c.apiPDU.set_varbinds(pdu, varbinds)
    return pdu


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
@settings(max_examples=5, deadline=None)
@given(
    rid=st.integers(1, 2**31 - 1),
    boots=st.integers(7, 2**31 - 2),
    time=st.integers(1234, 2**31 - 200),
    rows=st.lists(VALUES, min_size=0, max_size=30),
)
def test_we_read_pysnmps_responses(combo, rid, boots, time, rows):
    auth, priv = combo
    peer = peer_for(auth, priv)
    varbinds = [(f"{ROOT}.6.{i + 1}", value) for i, value in enumerate(rows)]
    data = oracle_answer(
        auth, priv, peer.keys, msg_id=rid, pdu=response_pdu(rid, varbinds), boots=boots, time=time,
        username=peer.user.username,
    )  # fmt: skip
    header = parse_header(data)
    out: list = []
    root = oid_to_bytes(ROOT)
    status, _index, parsed = handle_response(data, header, peer, rid, parse_walk_varbinds, (root, (), out))
    assert status == 0 and (parsed[1] is not None) == bool(rows)
    expected = [
        (f"6.{i + 1}", PLAIN[v.tagSet], bytes(v) if PLAIN[v.tagSet] == 4 else int(v))
        for i, v in enumerate(rows)
    ]
    assert out == expected
    if auth:  # an authentic answer advances our idea of the agent's clock
        assert (peer.boots, peer.latest) == (boots, time)


@pytest.mark.parametrize("combo", [c for c in COMBOS if c[0]], ids=combo_id)
def test_a_flipped_bit_in_a_signed_answer_is_dropped(combo):
    auth, priv = combo
    peer = peer_for(auth, priv)
    rid = 4242
    pdu = response_pdu(rid, [(f"{ROOT}.6.1", v2c.Counter64(5))])
    data = oracle_answer(
        auth, priv, peer.keys, msg_id=rid, pdu=pdu, boots=7, time=1300, username=peer.user.username
    )
    root = oid_to_bytes(ROOT)
    accepted = 0
    for i in range(len(data)):
        for bit in (0x01, 0x80):
            bad = bytearray(data)
            bad[i] ^= bit
            out: list = []
            try:
                handle_response(
                    bytes(bad), parse_header(bytes(bad)), peer, rid, parse_walk_varbinds, (root, (), out)
                )
            except MalformedPacket:
                continue
            accepted += 1
    assert accepted == 0  # the MAC covers the whole message: any change is caught (or breaks framing)


@pytest.mark.parametrize("reason_oid", sorted(REPORT_REASONS), ids=lambda o: REPORT_REASONS[o])
@pytest.mark.parametrize("combo", [(None, None), ("SHA-256", "AES-128")], ids=combo_id)
def test_reports_map_to_their_reason(reason_oid, combo):
    auth, priv = combo
    peer = peer_for(auth, priv)
    report = v2c.ReportPDU()
    v2c.apiPDU.set_defaults(report)
    v2c.apiPDU.set_request_id(report, 0)  # agents that cannot read the request answer with 0
    oid = ber.oid_to_str(reason_oid)
    v2c.apiPDU.set_varbinds(report, [(oid, v2c.Counter32(3))])
    data = oracle_answer(
        auth, priv, peer.keys, msg_id=99, pdu=report, boots=8, time=50, username=b"", flags=0
    )  # fmt: skip
    status, _, parsed = handle_response(
        data, parse_header(data), peer, 99, parse_walk_varbinds, (b"", (), [])
    )
    assert status == REPORT_STATUS
    assert parsed == (REPORT_REASONS[reason_oid], ENGINE, 8, 50, False)


def test_unauthenticated_response_for_an_auth_user_is_dropped():
    peer = peer_for("SHA-256", None)
    pdu = response_pdu(5, [(f"{ROOT}.6.1", v2c.Counter64(5))])
    data = oracle_answer(
        "SHA-256", None, peer.keys, msg_id=5, pdu=pdu, boots=7, time=1300, username=b"x", flags=0
    )
    with pytest.raises(MalformedPacket):
        handle_response(data, parse_header(data), peer, 5, parse_walk_varbinds, (oid_to_bytes(ROOT), (), []))
