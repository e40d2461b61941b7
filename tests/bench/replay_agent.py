"""A fast SNMP v1/v2c/v3 replay agent for benchmarks (correctness tests use snmpd and snmpsim instead).

Serves the 48-port switch of :mod:`tests.snmp.switchdata` for any community, and over SNMPv3 for any
user ``U`` with auth key ``auth-U`` and priv key ``priv-U`` under ``--v3 AUTH/PRIV`` (default
SHA-256/AES-128; USM by :mod:`tests.snmp.usm_agent`: every v3 answer is decrypted, encrypted and signed).
A response is computed once per distinct request (everything but the request-id) and replayed with the
new request-id patched in, so a request costs a dict lookup and a few bytes of framing.  It runs in its own
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

from collectors.snmp.ber import (
    INTEGER,
    NULL,
    OCTET_STRING,
    RESPONSE,
    SEQUENCE,
    MalformedPacket,
    encode_signed,
    oid_to_str,
    tlv,
)
from collectors.snmp.messages import Message, decode_message, encode_message, iter_varbinds, parse_header
from collectors.snmp.usm import UsmUser
from collectors.snmp.v3message import is_v3, parse_scoped_pdu
from tests.snmp.agents import Mib
from tests.snmp.switchdata import switch_records
from tests.snmp.usm_agent import UsmAgent


class Replay:
    """Request bytes (minus request-id) -> response body after the request-id."""

    def __init__(self, ports: int = 48) -> None:
        self.mib = Mib(switch_records(ports))
        self.cache: dict[tuple, tuple[bytes, bytes]] = {}
        self.requests = 0
        self.usm = UsmAgent(b"\x80\x00\x1f\x88\x04infra-replay", self._user)
        self.v3_protocols: tuple[str | None, str | None] = ("SHA-256", "AES-128")
        self._users: dict[bytes, UsmUser] = {}

    def _user(self, name: bytes) -> UsmUser | None:
        user = self._users.get(name)
        if user is None and name:
            auth, priv = self.v3_protocols
            user = UsmUser(
                name, auth, b"auth-" + name if auth else None, priv, b"priv-" + name if priv else None
            )
            if len(self._users) > 100_000:
                self._users.clear()
            self._users[name] = user
        return user

    def _v3_pdu(self, body: bytes, pos: int, rid: int) -> bytes:
        """The Response PDU to a decrypted v3 request, from the same cache as v1/v2c answers."""
        _, _, pdu_type, _, a, b, vb_start, vb_end = parse_scoped_pdu(body, pos, len(body), padded=True)
        key = (3, pdu_type, b"", a, b, body[vb_start:vb_end])
        hit = self.cache.get(key)
        if hit is None:
            vbs = [(oid_to_str(oid), NULL, None) for oid, _, _ in iter_varbinds(body, vb_start, vb_end)]
            hit = self._compute(encode_message(Message(1, b"", pdu_type, rid, a, b, vbs)))
            self.cache[key] = hit
        return tlv(RESPONSE, tlv(INTEGER, encode_signed(rid)) + hit[1])

    def respond(self, data: bytes) -> bytes | None:
        try:
            version, pdu_type, community, rid, a, b, vb_start, vb_end = parse_header(data)
        except MalformedPacket as exc:
            if exc.reason == "version" and is_v3(data):
                return self.usm.respond(data, self._v3_pdu)
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
    ap.add_argument("--v3", default="SHA-256/AES-128", help="SNMPv3 AUTH/PRIV of every user (none: -)")
    args = ap.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 2**20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 * 2**20)
    sock.bind((args.host, args.port))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    replay = Replay(args.ports)
    replay.v3_protocols = tuple(p if p != "-" else None for p in args.v3.split("/"))
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
