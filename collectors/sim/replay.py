"""A fast SNMP v1/v2c replay agent serving many simulated devices from one process (load tests, demos).

Every device is a 48-port switch of :func:`collectors.sim.fixtures.switch` on its own loopback address
(``127.64.0.1``, ``127.64.0.2`` …, one UDP socket each, same port), answering any community.  Counters
move: values are taken at the start of each ``--epoch`` (default 10 s) from the fixture's rates, so
``rate()`` works.  A response is computed once per distinct request and epoch (everything but the
request-id) and replayed with the request-id patched in: a request costs a dict lookup and a few bytes
of framing, so one process answers thousands of devices (snmpsim costs ~0.15 s CPU per 1000 varbinds).

    python -m collectors.sim.replay --devices 3000 [--first 127.64.0.1] [--port 0] [--lifetime 900]

prints ``PORT <n>`` once every socket is bound, serves until SIGTERM or ``--lifetime`` seconds, then
prints ``CPU <seconds> REQUESTS <n>``.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import ipaddress
import resource
import select
import signal
import socket
import sys
import time

from collectors.sim.fixtures import switch
from collectors.snmp.ber import (
    COUNTER32,
    COUNTER64,
    END_OF_MIB_VIEW,
    GAUGE32,
    GET,
    GET_BULK,
    GET_NEXT,
    INTEGER,
    IP_ADDRESS,
    NO_SUCH_OBJECT,
    OBJECT_IDENTIFIER,
    OCTET_STRING,
    RESPONSE,
    SEQUENCE,
    TIMETICKS,
    MalformedPacket,
    encode_signed,
    tlv,
)
from collectors.snmp.messages import Message, decode_message, encode_message, parse_header

FIRST_ADDRESS = "127.64.0.1"
TAGS = {"2": INTEGER, "4": OCTET_STRING, "4x": OCTET_STRING, "6": OBJECT_IDENTIFIER, "64": IP_ADDRESS}
TAGS.update({"65": COUNTER32, "66": GAUGE32, "67": TIMETICKS, "70": COUNTER64})
WRAP = {COUNTER32: 2**32, GAUGE32: 2**32, TIMETICKS: 2**32, COUNTER64: 2**64}
CACHE_MAX = 100_000
"""Distinct requests remembered per epoch (a bound for walkers that ask odd OIDs)."""


def _key(oid: str) -> tuple[int, ...]:
    return tuple(int(x) for x in oid.split("."))


class Records:
    """The switch's snmprec lines as sorted records; moving counters are evaluated at a given time."""

    def __init__(self, name: str = "sim-switch") -> None:
        rows: list[tuple[str, int, object, dict[str, int]]] = []
        for line in switch(name):
            oid, tag, text = line.split("|", 2)
            params: dict[str, int] = {}
            if ":numeric" in tag:  # snmpsim variation: value = initial + rate * t (wrapping)
                tag = tag.split(":", 1)[0]
                params = {k: int(v) for k, v in (item.split("=") for item in text.split(","))}
                text = "0"
            rows.append((oid, TAGS[tag], _typed(tag, text), params))
        rows.sort(key=lambda r: _key(r[0]))
        self.rows = rows
        self.keys = [_key(r[0]) for r in rows]
        self.by_oid = {r[0]: i for i, r in enumerate(rows)}

    def record(self, i: int, now: float) -> tuple[str, int, object]:
        oid, tag, value, params = self.rows[i]
        if params:
            value = (params.get("initial", 0) + int(params.get("rate", 0) * now)) % WRAP[tag]
        return oid, tag, value

    def next_index(self, oid: str) -> int:
        return bisect.bisect_right(self.keys, _key(oid))


def _typed(tag: str, text: str) -> object:
    if tag == "4":
        return text.encode()
    if tag == "4x":
        return bytes.fromhex(text)
    if tag in ("6", "64"):
        return text
    return int(text)


class Agent:
    """Answers GET/GETNEXT/GETBULK from :class:`Records`; caches wire answers per request and epoch."""

    def __init__(self, epoch: float = 10.0) -> None:
        self.records = Records()
        self.epoch = epoch
        self.cache: dict[tuple, tuple[bytes, bytes]] = {}
        self._epoch_start = 0.0
        self.requests = 0

    def answer(self, msg: Message, now: float) -> Message:
        n = len(self.records.rows)
        vbs: list[tuple[str, int, object]] = []
        if msg.pdu_type == GET:
            for oid, _, _ in msg.varbinds:
                i = self.records.by_oid.get(oid)
                vbs.append(self.records.record(i, now) if i is not None else (oid, NO_SUCH_OBJECT, None))
        elif msg.pdu_type in (GET_NEXT, GET_BULK):
            reps = max(msg.error_index, 0) if msg.pdu_type == GET_BULK else 1
            cols = [oid for oid, _, _ in msg.varbinds]
            for _ in range(reps):
                row = []
                for oid in cols:
                    i = self.records.next_index(oid)
                    row.append(self.records.record(i, now) if i < n else (oid, END_OF_MIB_VIEW, None))
                vbs.extend(row)
                cols = [r[0] for r in row]
                if all(r[1] == END_OF_MIB_VIEW for r in row):
                    break
        return Message(msg.version, msg.community, RESPONSE, msg.request_id, 0, 0, vbs)

    def respond(self, data: bytes, now: float) -> bytes | None:
        """The response datagram, or None for what is not a v1/v2c request."""
        self.requests += 1
        try:
            version, pdu_type, community, rid, a, b, vb_start, vb_end = parse_header(data)
        except MalformedPacket:
            return None
        if now - self._epoch_start >= self.epoch or len(self.cache) > CACHE_MAX:
            self._epoch_start = now - now % self.epoch
            self.cache.clear()
        key = (version, pdu_type, community, a, b, data[vb_start:vb_end])
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = self._compute(data, self._epoch_start)
        head, body = hit
        return tlv(SEQUENCE, head + tlv(RESPONSE, tlv(INTEGER, encode_signed(rid)) + body))

    def _compute(self, data: bytes, now: float) -> tuple[bytes, bytes]:
        msg = decode_message(data)
        answer = self.answer(msg, now)
        if msg.version == 0:  # v1 has no exceptions: noSuchName
            for i, (_, tag, _) in enumerate(answer.varbinds, 1):
                if tag >= NO_SUCH_OBJECT:
                    answer.error_status, answer.error_index, answer.varbinds = 2, i, msg.varbinds
                    break
        full = encode_message(answer)
        vb_start = parse_header(full)[6]
        head = b"\x02\x01" + bytes((msg.version,)) + tlv(OCTET_STRING, msg.community)
        fields = tlv(INTEGER, encode_signed(answer.error_status)) + tlv(
            INTEGER, encode_signed(answer.error_index)
        )
        return head, fields + tlv(SEQUENCE, full[vb_start:])


def addresses(first: str, count: int) -> list[str]:
    """``count`` consecutive IPv4 addresses from ``first`` (must stay inside 127.0.0.0/8)."""
    start = ipaddress.IPv4Address(first)
    out = [str(start + i) for i in range(count)]
    if count and not ipaddress.IPv4Address(out[-1]).is_loopback:
        raise ValueError(f"{count} addresses from {first} leave 127.0.0.0/8")
    return out


def bind_all(hosts: list[str], port: int, attempts: int = 20) -> tuple[list[socket.socket], int]:
    """One UDP socket per host on one port (port 0: a port free on every host)."""
    for _ in range(attempts):
        socks: list[socket.socket] = []
        try:
            chosen = port
            for host in hosts:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                sock.bind((host, chosen))
                sock.setblocking(False)
                chosen = sock.getsockname()[1]
            return socks, chosen
        except OSError:
            for sock in socks:
                sock.close()
            if port:
                raise
    raise OSError(f"no UDP port free on all {len(hosts)} addresses")


def serve(socks: list[socket.socket], agent: Agent, lifetime: float) -> None:
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    deadline = time.monotonic() + lifetime
    poller = select.epoll()
    by_fd = {sock.fileno(): sock for sock in socks}
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    respond = agent.respond
    while not stop and time.monotonic() < deadline:
        events = poller.poll(0.2)
        now = time.time()
        for fd, _ in events:
            sock = by_fd[fd]
            for _ in range(100):  # drain a burst, bounded
                try:
                    data, peer = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                out = respond(data, now)
                if out is not None:
                    with contextlib.suppress(BlockingIOError):  # a full send buffer drops, like a busy agent
                        sock.sendto(out, peer)
    poller.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=100)
    ap.add_argument("--first", default=FIRST_ADDRESS, help="address of the first device")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--epoch", type=float, default=10.0, help="seconds between counter snapshots")
    ap.add_argument("--lifetime", type=float, default=900.0, help="exit after this many seconds")
    args = ap.parse_args(argv)
    socks, port = bind_all(addresses(args.first, args.devices), args.port)
    print(f"PORT {port}", flush=True)
    agent = Agent(args.epoch)
    try:
        serve(socks, agent, args.lifetime)
    finally:
        for sock in socks:
            sock.close()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(f"CPU {usage.ru_utime + usage.ru_stime:.3f} REQUESTS {agent.requests}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
