"""Fuzz: ≥ 100,000 random and mutated datagrams at the client's socket while requests are in flight.

Every datagram must be accounted for (accepted, malformed by reason, or unexpected by reason), nothing
may escape or hang, memory must stay flat, and a real walk against snmpd must still be right afterwards.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time

import pytest

from collectors.snmp import COUNTER64, INTEGER, IP_ADDRESS, OCTET_STRING, SnmpClient, SnmpTarget
from collectors.snmp.ber import (
    COUNTER32,
    END_OF_MIB_VIEW,
    GET_BULK,
    NO_SUCH_OBJECT,
    OBJECT_IDENTIFIER,
    OPAQUE,
    RESPONSE,
    TIMETICKS,
)
from collectors.snmp.messages import Message, decode_message, encode_message
from tests.snmp.agents import snmpbulkwalk

pytestmark = pytest.mark.slow

PACKETS = 100_000
BATCH = 250
DEADLINE = 240.0  # seconds for the whole fuzz run
ROOT = "1.3.6.1.2.1.2.2.1"


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def sample_response(rng: random.Random, rid: int) -> bytes:
    vbs = []
    for k in range(rng.randint(0, 30)):
        tag, value = rng.choice(
            [
                (COUNTER64, rng.getrandbits(64)),
                (COUNTER32, rng.getrandbits(32)),
                (INTEGER, rng.randint(-(2**31), 2**31 - 1)),
                (OCTET_STRING, rng.randbytes(rng.randint(0, 200))),
                (OPAQUE, rng.randbytes(7)),
                (IP_ADDRESS, "10.1.2.3"),
                (OBJECT_IDENTIFIER, "1.3.6.1.4.1.9.1.1"),
                (TIMETICKS, 12345),
                (NO_SUCH_OBJECT, None),
                (END_OF_MIB_VIEW, None),
            ]
        )
        vbs.append((f"{ROOT}.{k % 22 + 1}.{rng.randint(1, 70000)}", tag, value))
    return encode_message(Message(1, b"public", RESPONSE, rid, rng.choice([0, 0, 0, 1, 5]), 0, vbs))


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(7)
    if kind == 0 and b:  # bit flips
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncation
        b = b[: rng.randrange(len(b) + 1)]
    elif kind == 2 and b:  # a length that lies
        i = rng.randrange(len(b))
        b[i] = rng.choice([0x00, 0x7F, 0x80, 0x81, 0x84, 0x89, 0xFF])
    elif kind == 3:  # trailing garbage
        b += rng.randbytes(rng.randint(1, 20))
    elif kind == 4 and b:  # byte deleted
        del b[rng.randrange(len(b))]
    elif kind == 5:  # byte inserted
        b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
    else:  # a random byte replaced
        if b:
            b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def nasty(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:  # deep nesting
        depth = rng.randint(10, 3000)
        return b"\x30\x84\x00\x00\xff\xff" * depth
    if kind == 1:  # huge declared lengths
        return b"\x30\x84\x7f\xff\xff\xff\x02\x01\x01" + rng.randbytes(rng.randint(0, 50))
    if kind == 2:  # another PDU type or version
        req = encode_message(Message(rng.choice([0, 1]), b"public", GET_BULK, rng.getrandbits(31), 0, 10, []))
        return req.replace(b"\x02\x01\x01", b"\x02\x01\x03", 1) if rng.random() < 0.5 else req
    if kind == 3:  # empty datagram
        return b""
    if kind == 4:  # indefinite length form
        return b"\x30\x80\x02\x01\x01\x04\x00\xa2\x80\x00\x00\x00\x00"
    return rng.randbytes(rng.randint(1, 1500))


def processed(stats) -> int:
    return stats.responses + sum(stats.malformed.values()) + sum(stats.unexpected.values())


def test_fuzz_client_socket(snmpd):
    rng = random.Random(20261129)
    fuzzer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # plays the device the client asks
    fuzzer.bind(("127.0.0.1", 0))
    fuzzer.setblocking(False)
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a wrong source address
    stranger.bind(("127.0.0.1", 0))
    host, port = fuzzer.getsockname()

    async def run():
        async with SnmpClient(bind6=None, max_packet=8192) as client:
            dest = client.sockname()
            target = SnmpTarget(host, port, timeout=0.02, retries=1, max_pdus=20)
            stop = asyncio.Event()
            polls: list = []

            async def keep_polling():  # requests in flight, so right request-ids get answered badly
                while not stop.is_set():
                    polls.append(await client.walk(target, [ROOT]))
                    polls.append(await client.get(target, ["1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0"]))

            poller = asyncio.create_task(keep_polling())
            seen_ids: list[int] = [1]
            sent = 0
            rss_mid = 0
            t0 = time.monotonic()
            while sent < PACKETS and time.monotonic() - t0 < DEADLINE:
                for _ in range(BATCH):
                    try:
                        while True:  # learn the request-ids the client just used
                            seen_ids.append(decode_message(fuzzer.recv(65535)).request_id)
                            del seen_ids[:-50]
                    except (BlockingIOError, ValueError):
                        pass
                    rid = rng.choice(seen_ids) if rng.random() < 0.7 else rng.getrandbits(31)
                    r = rng.random()
                    if r < 0.45:
                        data = mutate(rng, sample_response(rng, rid))
                    elif r < 0.6:
                        data = sample_response(rng, rid)
                    elif r < 0.8:
                        data = nasty(rng)
                    elif r < 0.81:
                        data = rng.randbytes(rng.randint(8193, 60000))  # oversized
                    else:
                        data = rng.randbytes(rng.randint(0, 300))
                    (stranger if rng.random() < 0.1 else fuzzer).sendto(data, dest)
                    sent += 1
                deadline = time.monotonic() + 10
                while processed(client.stats) < sent and time.monotonic() < deadline:
                    await asyncio.sleep(0.001)
                if not rss_mid and sent >= PACKETS // 2:
                    rss_mid = rss_bytes()
            stop.set()
            await asyncio.wait_for(poller, 10)
            stats = client.stats
            assert sent >= PACKETS, f"only {sent} packets in {DEADLINE} s"
            assert processed(stats) == sent  # every datagram accounted for, none lost or raised
            assert stats.malformed["internal"] == 0
            assert stats.malformed["oversized"] > 0 and stats.malformed["truncated"] > 0
            assert stats.unexpected["address"] > 0 and stats.unexpected["request_id"] > 0
            assert stats.unexpected["late"] > 0 and stats.responses > 0
            assert len(stats.malformed) >= 8
            assert rss_bytes() - rss_mid < 16 * 2**20
            assert client.transport.in_flight == 0
            assert len(polls) > 10
            assert any(p.error == "timeout" for p in polls) and any(p.varbinds_count for p in polls)
            # the same client still walks a real agent correctly
            real = SnmpTarget(snmpd.host, snmpd.port, community="public", timeout=2, retries=1)
            res = await client.walk(real, ["1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.1.1"])
            assert res.error == ""
            return res

    try:
        res = asyncio.run(run())
    finally:
        fuzzer.close()
        stranger.close()
    for root in ("1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.1.1"):
        expected = [
            (oid[len(root) + 1 :], bytes.fromhex(v.replace(" ", "")))
            for oid, _, v in snmpbulkwalk(snmpd, "public", root)
        ]
        assert [(ix, v) for ix, _, v in res.varbinds[root]] == expected
