"""SNMP v1/v2c GET and bounded walks over the shared :class:`~collectors.snmp.transport.Transport`.

A walk of several roots walks them one after the other (GETBULK with the device's max-repetitions
for v2c, GETNEXT for v1), each bounded to its subtree.  The first error stops the whole walk and is
reported in :attr:`WalkResult.error` with what was collected up to then:

``timeout`` (no answer after all retries), ``nonIncreasing`` (an OID did not increase), ``maxPdus``
(the target's PDU budget ran out: an agent that never ends a walk), ``tooBig`` (even one repetition
did not fit; a tooBig answer first halves max-repetitions, and the lowered value is remembered for the
device, then doubled again after ``MAX_REPS_RAISE_AFTER`` walks without tooBig), ``deadline`` (the
walk's overall ``deadline`` passed), ``resolve`` (the address did not resolve), or the agent's
error-status name (``genErr``, ``noAccess`` …), ``addressFamily`` (no socket of the target's family,
e.g. IPv6 off).  In v1 a ``noSuchName`` answer to GETNEXT ends that root normally.

A root naming a leaf instance (``1.3.6.1.2.1.1.3.0``) walks nothing below it: GET it instead.  A root
given twice is walked once.  A malformed OID string raises ``ValueError`` (a programming error).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass, field

from collectors.snmp.ber import (
    GET,
    GET_BULK,
    GET_NEXT,
    NO_SUCH_OBJECT,
    MalformedPacket,
    error_status_name,
    oid_to_bytes,
)
from collectors.snmp.engines import UsmEngines
from collectors.snmp.messages import (
    VERSIONS,
    WALK_END,
    WALK_NON_INCREASING,
    encode_request,
    parse_get_varbinds,
    parse_walk_varbinds,
)
from collectors.snmp.transport import TIMEOUT, SnmpStats, Transport
from collectors.snmp.usm import UsmUser

Varbind = tuple[str, int, object]
"""(index below the root, BER tag, value)."""

_VERSION_NUMBERS = {**VERSIONS, "3": 3}
_TOO_BIG = 1
_NO_SUCH_NAME = 2
_RESOLVE_TTL = 300.0
MAX_REPS_RAISE_AFTER = 20  # walks without tooBig before a lowered max-repetitions is doubled again


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    """One device as the wire path sees it."""

    address: str  # IPv4/IPv6 literal or host name
    port: int = 161
    version: str = "2c"  # "1" | "2c" | "3"
    community: bytes = b"public"
    timeout: float = 5.0  # seconds per request attempt
    retries: int = 3  # retransmissions of a request after a timeout
    max_repetitions: int = 25
    max_pdus: int = 20000  # request PDUs (retries included) one walk/get may send (v1: one per varbind)
    usm: UsmUser | None = None  # SNMPv3: the user (version "3" only)

    def __post_init__(self) -> None:
        if isinstance(self.community, str):
            object.__setattr__(self, "community", self.community.encode())
        if self.version not in _VERSION_NUMBERS:
            raise ValueError(f"SNMP version {self.version!r} is not handled by the wire path (1, 2c or 3)")
        if (self.version == "3") != (self.usm is not None):
            raise ValueError("an SNMPv3 target needs its USM user, and only an SNMPv3 target has one")
        if not 0 < self.port < 65536:
            raise ValueError(f"port {self.port!r} is not a UDP port")
        if not self.timeout > 0 or self.retries < 0 or self.max_repetitions < 1 or self.max_pdus < 1:
            raise ValueError("timeout must be > 0, retries >= 0, max_repetitions and max_pdus >= 1")


@dataclass(slots=True)
class WalkResult:
    """What a walk or get returned.

    ``varbinds[root]`` lists ``(index, tag, value)``: for a walk ``index`` is the dotted OID suffix
    below the root (``"8.2"``: column 8, row 2); for a get ``varbinds[oid]`` is one ``("", tag, value)``
    (noSuchObject/noSuchInstance/endOfMibView with value ``None``).  ``pdus`` counts request PDUs sent,
    retries included.
    """

    varbinds: dict[str, list[Varbind]] = field(default_factory=dict)
    pdus: int = 0
    retries: int = 0
    varbinds_count: int = 0
    error: str = ""
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error


class SnmpError(Exception):
    """Raised for misuse of the client (not started, closed); poll failures are in WalkResult.error."""


def _get_parser(data: bytes, pos: int, end: int, requested: list[bytes]) -> list:
    vbs = parse_get_varbinds(data, pos, end)
    if len(vbs) != len(requested) or any(vb[0] != oid for vb, oid in zip(vbs, requested, strict=False)):
        raise MalformedPacket("varbinds")
    return vbs


class SnmpClient:
    """The lean v1/v2c client: one UDP socket per address family shared by every device."""

    def __init__(
        self,
        rcvbuf: int = 4 * 1024 * 1024,
        *,
        bind4: str = "0.0.0.0",
        bind6: str | None = "::",
        max_packet: int = 65535,
    ) -> None:
        self.transport = Transport(rcvbuf=rcvbuf, bind4=bind4, bind6=bind6, max_packet=max_packet)
        self.usm = UsmEngines(self.transport)
        self._started = False
        self._oids: dict[str, bytes] = {}
        self._addresses: dict[str, tuple[float, int, str]] = {}
        self._max_reps: dict[tuple[str, int], int] = {}  # (ip, port) -> max-repetitions lowered by tooBig
        self._max_reps_ok: dict[tuple[str, int], int] = {}  # (ip, port) -> walks since without tooBig

    @property
    def stats(self) -> SnmpStats:
        return self.transport.stats

    async def start(self) -> None:
        await self.transport.start()
        self._started = True

    async def close(self) -> None:
        self.transport.close()
        self.usm.close()
        self._started = False

    async def __aenter__(self) -> SnmpClient:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def forget(self, target: SnmpTarget) -> None:
        """Drop what the client remembers of a removed or changed target (SNMPv3 engine state, keys)."""
        self.usm.forget(target)

    def forget_peer(self, target: SnmpTarget) -> None:
        """Drop a v3 target's engine state but keep its user's keys (a discovery sweep's finished address:
        the next address uses the same credentials)."""
        self.usm.drop_peer(target)

    def sockname(self, family: int = socket.AF_INET):
        """Local address of the client's socket (for tests)."""
        return self.transport.sockname(family)

    # ------------------------------------------------------------------------------------------ helpers

    def _oid(self, oid: str) -> bytes:
        raw = self._oids.get(oid)
        if raw is None:
            raw = oid_to_bytes(oid)
            if len(self._oids) > 100_000:
                self._oids.clear()
            self._oids[oid] = raw
        return raw

    async def _resolve(self, address: str) -> tuple[int, str]:
        now = time.monotonic()
        hit = self._addresses.get(address)
        if hit is not None and hit[0] > now:
            return hit[1], hit[2]
        try:
            ip = ipaddress.ip_address(address)
            ttl = float("inf")
        except ValueError:
            infos = await asyncio.get_running_loop().getaddrinfo(address, None, type=socket.SOCK_DGRAM)
            ip = ipaddress.ip_address(infos[0][4][0])
            ttl = _RESOLVE_TTL
        family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
        if len(self._addresses) > 100_000:
            self._addresses.clear()
        self._addresses[address] = (now + ttl, family, str(ip))
        return family, str(ip)

    async def _begin(self, target: SnmpTarget, res: WalkResult):
        if not self._started:
            raise SnmpError("SnmpClient is not started")
        try:
            family, ip = await self._resolve(target.address)
        except (OSError, ValueError):
            res.error = "resolve"
            return None
        if not await self.transport.ensure(family):
            res.error = "addressFamily"  # no socket of the target's address family (e.g. IPv6 disabled)
            return None
        return family, (ip, target.port)

    # ------------------------------------------------------------------------------------------ walk

    async def walk(self, target: SnmpTarget, roots: list[str], deadline: float | None = None) -> WalkResult:
        """Walk each root's subtree, in at most ``deadline`` seconds (see the module docstring for errors)."""
        t0 = time.perf_counter()
        res = WalkResult(varbinds={root: [] for root in roots})
        try:
            async with asyncio.timeout(deadline):
                dest = await self._begin(target, res)
                if dest is not None:
                    for root in res.varbinds:  # the roots without duplicates, in order
                        error = await self._walk_root(target, dest[0], dest[1], root, res)
                        if error:
                            res.error = error
                            break
                    if not res.error:
                        self._relax_max_reps((dest[1][0], dest[1][1]), target)
        except TimeoutError:
            res.error = "deadline"
        res.varbinds_count = sum(len(v) for v in res.varbinds.values())
        res.duration = time.perf_counter() - t0
        return res

    async def _walk_root(self, target: SnmpTarget, family: int, addr, root: str, res: WalkResult) -> str:
        transport = self.transport
        version = _VERSION_NUMBERS[target.version]
        community = target.community
        root_raw = self._oid(root)
        out = res.varbinds[root]
        key = (addr[0], addr[1])
        max_reps = min(target.max_repetitions, self._max_reps.get(key, target.max_repetitions))
        prev_key: tuple[int, ...] = ()
        current = root_raw
        while True:
            if res.pdus >= target.max_pdus:
                return "maxPdus"
            args = (root_raw, prev_key, out)
            if version == 3:
                answer = await self.usm.request(
                    target, family, addr, GET_BULK, [current], 0, max_reps, parse_walk_varbinds, args, res
                )
                if isinstance(answer, str):  # a USM Report's reason
                    return answer
            else:
                rid = transport.new_request_id()
                if version == 0:
                    packet = encode_request(0, community, GET_NEXT, rid, [current])
                else:
                    packet = encode_request(1, community, GET_BULK, rid, [current], 0, max_reps)
                answer = await transport.request(
                    family, addr, rid, packet, version, target.timeout, target.retries,
                    parse_walk_varbinds, args,
                )  # fmt: skip
            if answer is TIMEOUT:
                res.pdus += target.retries + 1
                res.retries += target.retries
                return "timeout"
            status, _index, parsed, retransmissions = answer
            res.pdus += 1 + retransmissions
            res.retries += retransmissions
            if status:
                if status == _TOO_BIG and version > 0 and max_reps > 1:
                    max_reps //= 2
                    self._max_reps[key] = max_reps
                    self._max_reps_ok[key] = 0
                    continue
                if status == _NO_SUCH_NAME and version == 0:
                    return ""
                return error_status_name(status)
            state, last, prev_key = parsed
            if state == WALK_NON_INCREASING:
                return "nonIncreasing"
            if state == WALK_END or last is None:
                return ""
            current = last

    def _relax_max_reps(self, key: tuple[str, int], target: SnmpTarget) -> None:
        """After enough walks without tooBig, double a lowered max-repetitions (the agent's limit may
        have been transient, e.g. a big table that shrank): it rises back to the target's own value."""
        if key not in self._max_reps:
            return
        walks = self._max_reps_ok.get(key, 0) + 1
        if walks < MAX_REPS_RAISE_AFTER:
            self._max_reps_ok[key] = walks
            return
        raised = self._max_reps[key] * 2
        self._max_reps_ok[key] = 0
        if raised >= target.max_repetitions:
            del self._max_reps[key], self._max_reps_ok[key]
        else:
            self._max_reps[key] = raised

    # ------------------------------------------------------------------------------------------ get

    async def get(self, target: SnmpTarget, oids: list[str]) -> WalkResult:
        """GET ``oids``; a tooBig answer splits the request, a v1 noSuchName marks that OID noSuchObject."""
        t0 = time.perf_counter()
        res = WalkResult(varbinds={oid: [] for oid in oids})
        dest = await self._begin(target, res)
        if dest is not None:
            res.error = await self._get(target, dest[0], dest[1], [(o, self._oid(o)) for o in oids], res)
        res.varbinds_count = sum(len(v) for v in res.varbinds.values())
        res.duration = time.perf_counter() - t0
        return res

    async def _get(self, target: SnmpTarget, family: int, addr, todo: list, res: WalkResult) -> str:
        transport = self.transport
        version = _VERSION_NUMBERS[target.version]
        chunk = len(todo)
        while todo:
            if res.pdus >= target.max_pdus:
                return "maxPdus"
            batch = todo[:chunk]
            raw = [b for _, b in batch]
            if version == 3:
                answer = await self.usm.request(
                    target, family, addr, GET, raw, 0, 0, _get_parser, (raw,), res
                )
                if isinstance(answer, str):  # a USM Report's reason
                    return answer
            else:
                rid = transport.new_request_id()
                packet = encode_request(version, target.community, GET, rid, raw)
                answer = await transport.request(
                    family, addr, rid, packet, version, target.timeout, target.retries, _get_parser, (raw,)
                )
            if answer is TIMEOUT:
                res.pdus += target.retries + 1
                res.retries += target.retries
                return "timeout"
            status, index, parsed, retransmissions = answer
            res.pdus += 1 + retransmissions
            res.retries += retransmissions
            if status == _TOO_BIG and len(batch) > 1:
                chunk = max(1, len(batch) // 2)
                continue
            if status == _NO_SUCH_NAME and version == 0 and 1 <= index <= len(batch):
                name = batch[index - 1][0]
                res.varbinds[name] = [("", NO_SUCH_OBJECT, None)]
                todo = [item for item in todo if item[0] != name]
                continue
            if status:
                return error_status_name(status)
            for (name, _), (_oid, tag, value) in zip(batch, parsed, strict=True):
                res.varbinds[name] = [("", tag, value)]
            todo = todo[len(batch) :]
        return ""
