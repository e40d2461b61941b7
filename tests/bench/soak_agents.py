"""The unhealthy part of the soak fleet in one process: slow and hostile agents and a black hole.

``python -m tests.bench.soak_agents [--lifetime 900]`` binds one UDP socket per kind on 127.0.0.1 and
prints ``PORTS {"slow": p, "garbage": p, …}``; serves until SIGTERM or ``--lifetime``.

- ``slow``: the replay switch, each answer sent ``--delay`` seconds late;
- ``garbage``: a datagram of noise for every request;
- ``oid_bomb``: a response whose OID has a 2,100-byte sub-identifier (issue 10 defect 4);
- ``wrong_rid``: the right answer with another request-id;
- ``flood``: the right answer five times;
- ``black_hole``: bound, never read, never answers.

A ``closed`` port (nothing listens) needs no process: the soak picks a free port and leaves it unbound.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import os
import select
import signal
import socket
import time

from collectors.snmp.ber import (
    INTEGER,
    NULL,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    RESPONSE,
    SEQUENCE,
    MalformedPacket,
    encode_signed,
    tlv,
)
from collectors.snmp.messages import parse_header
from tests.bench.replay_agent import Replay

HOSTILE = ("garbage", "oid_bomb", "wrong_rid", "flood")


def oid_bomb(data: bytes) -> bytes | None:
    """A syntactically framed response whose one varbind OID has a 2,100-byte sub-identifier."""
    try:
        version, _pdu, community, rid, *_ = parse_header(data)
    except MalformedPacket:
        return None
    oid = b"\x2b\x06\x01" + b"\xff" * 2100 + b"\x01"
    varbind = tlv(SEQUENCE, tlv(OBJECT_IDENTIFIER, oid) + tlv(NULL, b""))
    pdu = (
        tlv(INTEGER, encode_signed(rid))
        + tlv(INTEGER, b"\x00")
        + tlv(INTEGER, b"\x00")
        + tlv(SEQUENCE, varbind)
    )
    return tlv(
        SEQUENCE, tlv(INTEGER, encode_signed(version)) + tlv(OCTET_STRING, community) + tlv(RESPONSE, pdu)
    )


def answers(kind: str, data: bytes, replay: Replay, previous: dict[str, bytes]) -> list[bytes]:
    """The datagrams a hostile agent sends back for one request."""
    if kind == "garbage":
        return [os.urandom(64 + len(data) % 200)]
    if kind == "oid_bomb":
        out = oid_bomb(data)
        return [out] if out else []
    good = replay.respond(data)
    if good is None:
        return []
    if kind == "wrong_rid":  # the answer to the previous request: a request-id nobody waits for
        stale, previous[kind] = previous.get(kind), good
        return [stale] if stale else []
    if kind == "flood":
        return [good] * 5
    return [good]


def serve(sockets: dict[str, socket.socket], delay: float, lifetime: float) -> None:
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    replay = Replay()
    previous: dict[str, bytes] = {}
    late: list[tuple[float, int, bytes, tuple]] = []  # (due, seq, datagram, address) of the slow agent
    seq = 0
    readable = {s.fileno(): (kind, s) for kind, s in sockets.items() if kind != "black_hole"}
    slow = sockets["slow"]
    deadline = time.monotonic() + lifetime
    while not stop and time.monotonic() < deadline:
        wait = 0.2 if not late else max(0.0, min(0.2, late[0][0] - time.monotonic()))
        ready, _, _ = select.select([s for _, s in readable.values()], [], [], wait)
        for sock in ready:
            kind, _ = readable[sock.fileno()]
            for _ in range(200):
                try:
                    data, addr = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                if kind == "slow":
                    out = replay.respond(data)
                    if out is not None and len(late) < 100_000:
                        seq += 1
                        heapq.heappush(late, (time.monotonic() + delay, seq, out, addr))
                    continue
                for out in answers(kind, data, replay, previous):
                    with contextlib.suppress(BlockingIOError, OSError):
                        sock.sendto(out, addr)
        now = time.monotonic()
        while late and late[0][0] <= now:
            _, _, out, addr = heapq.heappop(late)
            with contextlib.suppress(BlockingIOError, OSError):
                slow.sendto(out, addr)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay", type=float, default=1.5, help="seconds the slow agent waits before answering")
    ap.add_argument("--lifetime", type=float, default=900.0)
    args = ap.parse_args(argv)
    sockets = {}
    for kind in ("slow", *HOSTILE, "black_hole"):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        sockets[kind] = sock
    print("PORTS " + json.dumps({k: s.getsockname()[1] for k, s in sockets.items()}), flush=True)
    try:
        serve(sockets, args.delay, args.lifetime)
    finally:
        for sock in sockets.values():
            sock.close()


if __name__ == "__main__":
    main()
