"""A fast SNMP v1/v2c replay agent for benchmarks (correctness tests use snmpd and snmpsim instead).

Serves the 48-port switch of :mod:`tests.snmp.switchdata` for any community.  A response is computed
once per distinct request (everything but the request-id) and replayed with the new request-id
patched in, so a request costs a dict lookup and a few bytes of framing.  It runs in its own
process: ``python -m tests.bench.replay_agent [--port 0] [--lifetime 900]`` prints ``PORT <n>`` and
serves until SIGTERM or ``--lifetime`` seconds, then prints its CPU seconds and request count.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import select
import signal
import socket
import sys
import time

from collectors.snmp.ber import INTEGER, OCTET_STRING, RESPONSE, SEQUENCE, MalformedPacket, encode_signed, tlv
from collectors.snmp.messages import decode_message, encode_message, parse_header
from tests.snmp.agents import Mib
from tests.snmp.switchdata import switch_records


class Replay:
    """Request bytes (minus request-id) -> response body after the request-id."""

    def __init__(self, ports: int = 48) -> None:
        self.mib = Mib(switch_records(ports))
        self.cache: dict[tuple, tuple[bytes, bytes]] = {}
        self.requests = 0

    def respond(self, data: bytes) -> bytes | None:
        try:
            version, pdu_type, community, rid, a, b, vb_start, vb_end = parse_header(data)
        except MalformedPacket:
            return None
        key = (version, pdu_type, community, a, b, data[vb_start:vb_end])
        hit = self.cache.get(key)
        if hit is None:
            hit = self._compute(data)
            if len(self.cache) > 100_000:
                self.cache.clear()
            self.cache[key] = hit
        head, body = hit
        pdu = tlv(INTEGER, encode_signed(rid)) + body
        return tlv(SEQUENCE, head + tlv(RESPONSE, pdu))

    def _compute(self, data: bytes) -> tuple[bytes, bytes]:
        msg = decode_message(data)
        answer = self.mib.answer(msg)
        if msg.version == 0:  # v1: no exceptions, noSuchName instead
            for i, (_, tag, _) in enumerate(answer.varbinds, 1):
                if tag >= 0x80:
                    answer.error_status, answer.error_index, answer.varbinds = 2, i, msg.varbinds
                    break
        full = encode_message(answer)
        _, _, _, _, _, _, vb_start, _ = parse_header(full)
        head = b"\x02\x01" + bytes((msg.version,)) + tlv(OCTET_STRING, msg.community)
        body = tlv(INTEGER, encode_signed(answer.error_status)) + tlv(
            INTEGER, encode_signed(answer.error_index)
        )
        return head, body + tlv(SEQUENCE, full[vb_start:])


def serve(sock: socket.socket, replay: Replay, lifetime: float) -> None:
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    deadline = time.monotonic() + lifetime
    sock.setblocking(False)
    recv, send, respond = sock.recvfrom, sock.sendto, replay.respond
    while not stop and time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.2)
        if not ready:
            continue
        for _ in range(1000):  # drain a burst before the next select
            try:
                data, addr = recv(65535)
            except BlockingIOError:
                break
            out = respond(data)
            replay.requests += 1
            if out is not None:
                with contextlib.suppress(BlockingIOError):  # a full send buffer drops, like a busy agent
                    send(out, addr)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ports", type=int, default=48, help="interfaces of the simulated switch")
    ap.add_argument("--lifetime", type=float, default=900.0, help="exit after this many seconds")
    args = ap.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 2**20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 * 2**20)
    sock.bind((args.host, args.port))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    replay = Replay(args.ports)
    try:
        serve(sock, replay, args.lifetime)
    finally:
        sock.close()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(f"CPU {usage.ru_utime + usage.ru_stime:.3f} REQUESTS {replay.requests}", flush=True)
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
