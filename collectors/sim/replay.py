"""A fast SNMP v1/v2c replay agent serving many simulated devices from one process (demo, load tests).

Every device answers the snmprec data of :mod:`collectors.sim.fixtures` (kind and name) on its own UDP
socket (address and port), for its community only, like one snmpsim process per device did — but one
process and one epoll loop serve them all (the demo's 18 devices: well under a second to start and
~30 MB, where 18 snmpsim processes took a minute and ~1 GB).  The snmpsim variations the fixtures use are
evaluated here: ``numeric`` (moving counters, ``initial``/``rate``/``function=sin``/``scale``/``offset``,
wrapping at the type's width: the uplink's Counter32 wraps every ~11 s), ``delay`` (the slow device
answers after ``wait`` ms, without blocking the others) and ``error`` (the failing device answers
genErr).  Counter values are taken at the start of each ``--epoch`` and a response is computed once per
distinct request and epoch, then replayed with the request-id patched in, so a request costs a dict
lookup: one process also answers thousands of devices for load tests.

    python -m collectors.sim.replay --specs devices.yaml   # [{name, kind, address, port, community}]
    python -m collectors.sim.replay --devices 3000 [--first 127.64.0.1] [--port 0]   # switches, any community

prints ``PORT <n>`` once every socket is bound and serves until SIGTERM or ``--lifetime`` seconds, then
prints ``CPU <seconds> REQUESTS <n>``.  A device whose name appears as a file in ``--down-dir`` stops
answering and lets go of its port (the demo takes one device down this way).  A port that cannot be bound
ends the agent with one line naming the address, port and device.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import heapq
import ipaddress
import math
import os
import resource
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from collectors.sim.agents import AgentSpec, load_specs
from collectors.sim.fixtures import snmprec
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
    OPAQUE,
    RESPONSE,
    SEQUENCE,
    TIMETICKS,
    MalformedPacket,
    encode_signed,
    tlv,
)
from collectors.snmp.messages import Message, decode_message, encode_message, parse_header

FIRST_ADDRESS = "127.64.0.1"
TAGS = {"2": INTEGER, "4": OCTET_STRING, "6": OBJECT_IDENTIFIER, "64": IP_ADDRESS, "65": COUNTER32}
TAGS.update({"66": GAUGE32, "67": TIMETICKS, "68": OPAQUE, "70": COUNTER64})
"""snmprec tags; a trailing ``x`` means the value is written in hex."""
WRAP = {COUNTER32: 2**32, GAUGE32: 2**32, TIMETICKS: 2**32, COUNTER64: 2**64}
ERROR_STATUS = {"tooBig": 1, "noSuchName": 2, "badValue": 3, "readOnly": 4, "genError": 5, "genErr": 5}
GEN_ERR = 5
NO_SUCH_NAME = 2
CACHE_MAX = 100_000
"""Distinct requests remembered per epoch (a bound for walkers that ask odd OIDs)."""


def _key(oid: str) -> tuple[int, ...]:
    return tuple(int(x) for x in oid.split("."))


def _typed(tag: str, text: str) -> object:
    if tag.endswith("x"):
        raw = bytes.fromhex(text)
        return ".".join(str(b) for b in raw) if tag == "64x" else raw
    if tag in ("4", "68"):
        return text.encode()
    if tag == "64" and text.count(".") != 3:  # four raw octets written as text (recorded walks)
        return ".".join(str(b) for b in text.encode("latin-1"))
    if tag in ("6", "64"):
        return text
    try:
        return int(text)
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class Record:
    """One snmprec line: OID, tag, static value and its snmpsim variation (if any)."""

    oid: str
    tag: int
    value: object
    variation: str = ""  # "" | numeric | delay | error
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str, default: float = 0.0) -> float:
        for key, value in self.params:
            if key == name:
                return float(value)
        return default

    def at(self, t: float) -> tuple[str, int, object]:
        """The varbind at ``t`` seconds after the agent started."""
        if self.variation != "numeric":
            return self.oid, self.tag, self.value
        rate = self.param("rate", 1.0)
        x = math.sin(rate * t) if dict(self.params).get("function") == "sin" else rate * t
        value = int(self.param("initial") + x * self.param("scale", 1.0) + self.param("offset"))
        if self.tag in WRAP:
            value %= WRAP[self.tag]
        return self.oid, self.tag, value


def parse_line(line: str) -> Record:
    """``OID|tag|value`` or ``OID|tag:variation|k=v,...`` (the snmprec lines of the fixtures)."""
    oid, tag, text = line.split("|", 2)
    tag, _, variation = tag.partition(":")
    if not variation:
        return Record(oid, TAGS[tag.rstrip("x")], _typed(tag, text))
    params = tuple(tuple(item.split("=", 1)) for item in text.split(",") if "=" in item)
    value = _typed(tag, dict(params).get("value", "0"))
    return Record(oid, TAGS[tag.rstrip("x")], value, variation, params)  # type: ignore[arg-type]


class Records:
    """One device's snmprec data as records sorted by OID."""

    def __init__(self, text: str) -> None:
        rows = sorted((parse_line(line) for line in text.splitlines() if line), key=lambda r: _key(r.oid))
        self.rows = rows
        self.keys = [_key(r.oid) for r in rows]
        self.by_oid = {r.oid: i for i, r in enumerate(rows)}

    def next_index(self, oid: str) -> int:
        return bisect.bisect_right(self.keys, _key(oid))


class Device:
    """Answers GET/GETNEXT/GETBULK from its records; caches wire answers per request and epoch."""

    def __init__(self, name: str, records: Records, community: bytes | None) -> None:
        self.name = name
        self.records = records
        self.community = community  # None: any community
        self.cache: dict[tuple, tuple[bytes, bytes, float]] = {}
        self.cache_epoch = -1.0

    def answer(self, msg: Message, t: float) -> tuple[Message, float]:
        """The response to ``msg`` at ``t`` and how many seconds to hold it back (``delay``)."""
        rows, n = self.records.rows, len(self.records.rows)
        picked: list[Record | None] = []
        asked: list[str] = []
        if msg.pdu_type == GET:
            for oid, _, _ in msg.varbinds:
                i = self.records.by_oid.get(oid)
                picked.append(rows[i] if i is not None else None)
                asked.append(oid)
        elif msg.pdu_type in (GET_NEXT, GET_BULK):
            reps = max(msg.error_index, 0) if msg.pdu_type == GET_BULK else 1
            cols = [oid for oid, _, _ in msg.varbinds]
            for _ in range(reps):
                row = [rows[i] if (i := self.records.next_index(oid)) < n else None for oid in cols]
                picked.extend(row)
                asked.extend(cols)
                if all(r is None for r in row):
                    break
                cols = [r.oid if r is not None else oid for r, oid in zip(row, cols, strict=True)]
        missing = NO_SUCH_OBJECT if msg.pdu_type == GET else END_OF_MIB_VIEW
        vbs = [
            r.at(t) if r is not None else (oid, missing, None) for r, oid in zip(picked, asked, strict=True)
        ]
        answer = Message(msg.version, msg.community, RESPONSE, msg.request_id, 0, 0, vbs)
        delay = 0.0
        for position, record in enumerate(picked, 1):
            if record is None:
                continue
            if record.variation == "delay":
                delay = max(delay, record.param("wait") / 1000)
            elif record.variation == "error":
                status = ERROR_STATUS.get(dict(record.params).get("status", ""), GEN_ERR)
                answer.error_status, answer.error_index, answer.varbinds = status, position, msg.varbinds
                break
        if msg.version == 0 and not answer.error_status:  # v1 has no exceptions: noSuchName
            for position, (_, tag, _) in enumerate(answer.varbinds, 1):
                if tag >= NO_SUCH_OBJECT:
                    answer.error_status, answer.error_index = NO_SUCH_NAME, position
                    answer.varbinds = msg.varbinds
                    break
        return answer, delay

    def respond(self, data: bytes, epoch: float, t: float) -> tuple[bytes, float] | None:
        """The response datagram and its delay, or None for what this device does not answer."""
        try:
            version, pdu_type, community, rid, a, b, vb_start, vb_end = parse_header(data)
        except MalformedPacket:
            return None
        if self.community is not None and community != self.community:
            return None  # a wrong community gets no answer, as from snmpsim and snmpd
        if epoch != self.cache_epoch or len(self.cache) > CACHE_MAX:
            self.cache_epoch = epoch
            self.cache.clear()
        key = (version, pdu_type, community, a, b, data[vb_start:vb_end])
        hit = self.cache.get(key)
        if hit is None:
            try:
                hit = self._compute(data, t)
            except (MalformedPacket, ValueError) as exc:  # one bad request must not end every device
                print(f"replay agent: {self.name}: cannot answer: {exc}", file=sys.stderr, flush=True)
                return None
            self.cache[key] = hit
        head, body, delay = hit
        return tlv(SEQUENCE, head + tlv(RESPONSE, tlv(INTEGER, encode_signed(rid)) + body)), delay

    def _compute(self, data: bytes, t: float) -> tuple[bytes, bytes, float]:
        msg = decode_message(data)
        answer, delay = self.answer(msg, t)
        full = encode_message(answer)
        vb_start = parse_header(full)[6]
        head = b"\x02\x01" + bytes((msg.version,)) + tlv(OCTET_STRING, msg.community)
        fields = tlv(INTEGER, encode_signed(answer.error_status)) + tlv(
            INTEGER, encode_signed(answer.error_index)
        )
        return head, fields + tlv(SEQUENCE, full[vb_start:]), delay


class PortTaken(OSError):
    """A device's UDP port is held by someone else."""


class ReplayAgent:
    """Many devices, one UDP socket each, one epoll loop; delayed answers wait in a heap."""

    def __init__(self, epoch: float = 1.0, down_dir: Path | None = None) -> None:
        self.epoch = epoch
        self.down_dir = down_dir
        self.devices: dict[int, tuple[socket.socket, Device]] = {}
        self.requests = 0
        self.started = time.time()
        self._pending: list[tuple[float, int, bytes, socket.socket, tuple]] = []
        self._sequence = 0

    def add(self, device: Device, address: str, port: int) -> int:
        """Bind ``device`` to ``address``:``port`` (0: a free port); returns the bound port."""
        sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.bind((address, port))
        except OSError as exc:
            sock.close()
            raise PortTaken(
                f"UDP port {port} on {address} (device {device.name}) is taken: {exc.strerror}"
            ) from exc
        sock.setblocking(False)
        self.devices[sock.fileno()] = (sock, device)
        return sock.getsockname()[1]

    def take_down(self) -> list[str]:
        """Close the sockets of devices named in ``down_dir``; returns their names."""
        if self.down_dir is None or not self.down_dir.is_dir():
            return []
        down = {p.name for p in self.down_dir.iterdir()}
        gone = []
        for fd, (sock, device) in list(self.devices.items()):
            if device.name in down:
                del self.devices[fd]
                sock.close()
                gone.append(device.name)
        return gone

    def serve(self, lifetime: float, *, exit_with_parent: bool = False) -> None:
        """Answer until SIGTERM, ``lifetime`` seconds, or (``exit_with_parent``) the parent's exit."""
        parent = os.getppid()
        stop: list[int] = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        deadline = time.monotonic() + lifetime
        poller = select.epoll()
        for fd in self.devices:
            poller.register(fd, select.EPOLLIN)
        next_check = 0.0
        while not stop and time.monotonic() < deadline:
            timeout = 0.2
            if self._pending:
                timeout = min(timeout, max(0.0, self._pending[0][0] - time.monotonic()))
            events = poller.poll(timeout)
            now = time.time()
            t = now - self.started
            epoch = t - t % self.epoch
            for fd, _ in events:
                entry = self.devices.get(fd)
                if entry is not None:
                    self._drain(*entry, epoch)
            self._send_due()
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + 0.5
                self.take_down()  # closed sockets leave the epoll set by themselves
                if exit_with_parent and os.getppid() != parent:
                    break
        poller.close()

    def _drain(self, sock: socket.socket, device: Device, epoch: float) -> None:
        for _ in range(100):  # a burst, bounded
            try:
                data, peer = sock.recvfrom(65535)
            except BlockingIOError:
                return
            self.requests += 1
            out = device.respond(data, epoch, epoch)
            if out is None:
                continue
            payload, delay = out
            if delay:
                self._sequence += 1
                heapq.heappush(self._pending, (time.monotonic() + delay, self._sequence, payload, sock, peer))
            else:
                with contextlib.suppress(BlockingIOError):  # a full send buffer drops, like a busy agent
                    sock.sendto(payload, peer)

    def _send_due(self) -> None:
        now = time.monotonic()
        while self._pending and self._pending[0][0] <= now:
            _, _, payload, sock, peer = heapq.heappop(self._pending)
            with contextlib.suppress(OSError):  # the device may have been taken down meanwhile
                sock.sendto(payload, peer)

    def close(self) -> None:
        for sock, _ in self.devices.values():
            sock.close()
        self.devices.clear()


def agent_for_specs(specs: list[AgentSpec], epoch: float, down_dir: Path | None) -> ReplayAgent:
    """One device per spec, serving its fixture for its community (data shared between equal kinds)."""
    agent = ReplayAgent(epoch, down_dir)
    try:
        for spec in specs:
            device = Device(spec.name, Records(snmprec(spec.kind, spec.name)), spec.community.encode())
            agent.add(device, spec.address, spec.port)
    except OSError:
        agent.close()
        raise
    return agent


def addresses(first: str, count: int) -> list[str]:
    """``count`` consecutive IPv4 addresses from ``first`` (must stay inside 127.0.0.0/8)."""
    start = ipaddress.IPv4Address(first)
    out = [str(start + i) for i in range(count)]
    if count and not ipaddress.IPv4Address(out[-1]).is_loopback:
        raise ValueError(f"{count} addresses from {first} leave 127.0.0.0/8")
    return out


def agent_for_switches(
    hosts: list[str], port: int, epoch: float, attempts: int = 20
) -> tuple[ReplayAgent, int]:
    """Load tests: one 48-port switch (one shared data set, any community) per host, all on one port
    (port 0: a port free on every host)."""
    switch = Device("sim-switch", Records(snmprec("switch", "sim-switch")), None)  # one answer cache
    for _ in range(attempts):
        agent = ReplayAgent(epoch)
        try:
            chosen = port
            for host in hosts:
                chosen = agent.add(switch, host, chosen)
            return agent, chosen
        except OSError:
            agent.close()
            if port:
                raise
    raise OSError(f"no UDP port free on all {len(hosts)} addresses")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m collectors.sim.replay", description=__doc__.splitlines()[0])
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--specs", type=Path, help="YAML/JSON list of {name, kind, address, port, community}")
    source.add_argument("--devices", type=int, help="this many 48-port switches on consecutive addresses")
    ap.add_argument("--first", default=FIRST_ADDRESS, help="with --devices: address of the first switch")
    ap.add_argument("--port", type=int, default=0, help="with --devices: their UDP port (0: a free one)")
    ap.add_argument(
        "--epoch",
        type=float,
        help="seconds between counter snapshots (default: 1 with --specs, 10 with --devices)",
    )
    ap.add_argument("--lifetime", type=float, default=900.0, help="exit after this many seconds")
    ap.add_argument("--down-dir", type=Path, help="a device named by a file here stops answering")
    ap.add_argument("--exit-with-parent", action="store_true", help="stop when the launching process exits")
    args = ap.parse_args(argv)
    try:
        if args.specs:
            agent = agent_for_specs(load_specs(args.specs), args.epoch or 1.0, args.down_dir)
            port = args.port
        else:
            hosts = addresses(args.first, args.devices)
            agent, port = agent_for_switches(hosts, args.port, args.epoch or 10.0)
    except (OSError, ValueError) as exc:
        print(f"replay agent: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"PORT {port}" if args.devices else f"READY {len(agent.devices)} devices", flush=True)
    try:
        agent.serve(args.lifetime, exit_with_parent=args.exit_with_parent)
    finally:
        agent.close()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(f"CPU {usage.ru_utime + usage.ru_stime:.3f} REQUESTS {agent.requests}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
