"""Fuzz the SNMPv3 decoder: 100,000 mutated and random answers into the header parser and the USM
answer handler (authentication, decryption, scoped PDU, varbinds) for an authPriv, an authNoPriv DES-less
and a noAuthNoPriv user.  Only MalformedPacket may escape and no input may take more than 50 ms of CPU.

Mutations hit the signed message itself (mostly stopped by the HMAC, all the way down for
noAuthNoPriv) and, to reach the decoder behind the crypto, the PDU before it is encrypted and signed.
"""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest

from collectors.snmp.ber import (
    COUNTER64,
    GET_BULK,
    INTEGER,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    RESPONSE,
    SEQUENCE,
    MalformedPacket,
    encode_signed,
    oid_to_bytes,
    tlv,
)
from collectors.snmp.engines import Peer, UsmEngines, handle_response
from collectors.snmp.messages import encode_value, parse_walk_varbinds
from collectors.snmp.usm import UsmUser
from collectors.snmp.v3message import parse_header
from tests.snmp.test_fuzz import mutate, nasty
from tests.snmp.usm_agent import UsmAgent, local_keys

pytestmark = pytest.mark.slow

INPUTS = 100_000
DEADLINE = 300.0  # seconds for the whole run (bounded loop)
WORST_CPU = 0.05  # seconds per input
BASE_ANSWERS = 800
GARBLED_PDUS = 6000
ROOT = "1.3.6.1.2.1.31.1.1.1"
ENGINE = b"\x80\x00\x1f\x88\x04fuzz-engine"
USERS = {
    u.username: u
    for u in (
        UsmUser(b"authpriv", "SHA-256", b"auth-fuzz-1", "AES-128", b"priv-fuzz-1"),
        UsmUser(b"authdes", "MD5", b"auth-fuzz-2", "DES", b"priv-fuzz-2"),
        UsmUser(b"authonly", "SHA-512", b"auth-fuzz-3"),
        UsmUser(b"noauth"),
    )
}


def response_pdu(rng: random.Random, rid: int) -> bytes:
    """A Response PDU TLV with random varbinds below ROOT."""
    vbl = b""
    for k in range(rng.randint(0, 25)):
        tag, value = rng.choice(
            [(COUNTER64, rng.getrandbits(64)), (INTEGER, rng.randint(-5, 2**31 - 1)),
             (OCTET_STRING, rng.randbytes(rng.randint(0, 40)))]
        )  # fmt: skip
        oid = oid_to_bytes(f"{ROOT}.{k % 20 + 1}.{rng.randint(1, 70000)}")
        vbl += tlv(SEQUENCE, tlv(OBJECT_IDENTIFIER, oid) + encode_value(tag, value))
    fields = b"".join(tlv(INTEGER, encode_signed(x)) for x in (rid, rng.choice([0, 0, 0, 5]), 0))
    return tlv(RESPONSE, fields + tlv(SEQUENCE, vbl))


def test_fuzz_v3_decoder():
    rng = random.Random(20261201)
    agent = UsmAgent(ENGINE, USERS.get)
    engines = UsmEngines(transport=None)
    peers = {}
    for name, user in USERS.items():
        peer = Peer(user)
        peer.learn(ENGINE, agent.boots, agent.time())
        peer.use_keys(local_keys(user, ENGINE))
        peers[name] = peer
    root = oid_to_bytes(ROOT)

    def answer(garble: bool) -> tuple[Peer, int, bytes]:
        peer = peers[rng.choice(list(peers))]
        rid = rng.getrandbits(31)
        pdu = response_pdu(rng, rid)
        if garble:
            pdu = mutate(rng, pdu)
        return peer, rid, agent.respond(engines._encode(peer, rid, GET_BULK, [root], 0, 25), lambda *_: pdu)

    # the costly part (the agent's crypto) is done once for a pool; each input is then a cheap mutation
    answers = [answer(False) for _ in range(BASE_ANSWERS)]
    garbled = [answer(True) for _ in range(GARBLED_PDUS)]  # the decoder behind valid crypto

    def decode(data: bytes, peer: Peer, rid: int, out: list) -> tuple[str, float]:
        """The outcome of decoding ``data`` and the CPU seconds it took."""
        start = time.thread_time()
        try:
            status, _, _ = handle_response(
                data, parse_header(data), peer, rid, parse_walk_varbinds, (root, (), out)
            )
            outcome = "status" if status else "ok"
        except MalformedPacket as exc:  # anything else fails the test
            assert not out  # nothing of a rejected datagram is kept
            outcome = exc.reason
        return outcome, time.thread_time() - start

    outcomes: Counter = Counter()
    worst = 0.0
    done = 0
    t0 = time.monotonic()
    while done < INPUTS and time.monotonic() - t0 < DEADLINE:
        r = rng.random()
        if done < len(garbled):
            peer, rid, data = garbled[done]
        else:
            peer, rid, data = answers[rng.randrange(len(answers))]
            if r < 0.8:
                data = mutate(rng, data)
            elif r < 0.9:
                data = nasty(rng)
            elif r < 0.97:
                data = rng.randbytes(rng.randint(0, 600))
        out: list = []
        outcome, spent = decode(data, peer, rid, out)
        if spent > WORST_CPU:  # a slow input is slow again; a pause of the test process (GC, host) is not
            spent = min(spent, decode(data, peer, rid, [])[1])
        outcomes[outcome] += 1
        worst = max(worst, spent)
        done += 1
    assert done >= INPUTS, f"only {done} inputs in {DEADLINE} s"
    assert worst < WORST_CPU, f"one input took {worst * 1000:.1f} ms CPU"
    assert outcomes["ok"] > 1000 and outcomes["wrongDigest"] > 1000
    assert len(outcomes) >= 10, outcomes
