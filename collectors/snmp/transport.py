"""One UDP socket per address family shared by all devices, with request-id matching.

:class:`Transport` sends a request datagram, retransmits the same bytes on timeout, and resolves the
request when a response with its request-id arrives from the address it was sent to.  The sockets are
non-blocking and read through the running event loop's ``add_reader`` (asyncio or uvloop), draining
every queued datagram per wake-up: asyncio's datagram transport reads one datagram per loop iteration,
which cost 0.7 µs CPU per varbind more in the benchmark.

Every datagram is checked in :meth:`Transport.received` and a bad one is dropped and counted in
:class:`SnmpStats`, never raised: malformed packets by reason, unexpected ones by ``address``
(right request-id, wrong sender), ``request_id`` (never issued) or ``late`` (issued, no longer waited
for).  A response whose varbinds the request's parser rejects is counted as malformed and the
request keeps waiting (it then times out if no good answer comes).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from collectors.snmp.ber import RESPONSE, MalformedPacket
from collectors.snmp.messages import parse_header
from collectors.snmp.v3message import is_v3
from collectors.snmp.v3message import parse_header as parse_v3_header

log = logging.getLogger(__name__)

TIMEOUT = object()
"""Result of a request that got no acceptable answer after all retries."""

_LATE_WINDOW = 1 << 22  # request-ids issued this recently count as "late" rather than "request_id"
_ID_MASK = 0x7FFFFFFF
_NEVER = float("inf")
_TICK = 0.005  # the deadline timer fires at most this often (timeouts may run this much late)
_DRAIN_MAX = 256  # datagrams read per wake-up before other callbacks get a turn


@dataclass(slots=True)
class SnmpStats:
    """Counters of one client (monotonic, never reset)."""

    requests: int = 0  # request datagrams sent, retransmissions included
    retries: int = 0  # retransmissions
    timeouts: int = 0  # requests that got no answer after all retries
    responses: int = 0  # responses accepted
    reopened: int = 0  # sockets reopened after a fatal socket error
    send_errors: int = 0  # datagrams the socket refused to send (the retry timer resends)
    malformed: Counter = field(default_factory=Counter)  # reason -> datagrams
    unexpected: Counter = field(default_factory=Counter)  # address | request_id | late -> datagrams


class _Pending:
    __slots__ = (
        "addr",
        "args",
        "ep",
        "future",
        "packet",
        "parser",
        "retries_left",
        "sent",
        "timeout",
        "version",
    )

    def __init__(self, future, addr, packet, version, timeout, retries, parser, args):
        self.future = future
        self.addr = addr
        self.packet = packet
        self.version = version
        self.timeout = timeout
        self.retries_left = retries
        self.parser = parser
        self.args = args
        self.sent = 0
        self.ep = None


class _RateLimitedLog:
    """Logs a bad datagram reason at most once per ``period`` seconds, with the count since."""

    def __init__(self, period: float = 10.0) -> None:
        self.period = period
        self.last: dict[str, float] = {}
        self.suppressed: Counter = Counter()

    def __call__(self, kind: str, reason: str, addr, exc: BaseException | None = None) -> None:
        """``exc``: an unexpected error, logged with its traceback (rate-limited like the rest)."""
        now = time.monotonic()
        key = f"{kind}:{reason}"
        if now - self.last.get(key, -1e9) >= self.period:
            n = self.suppressed.pop(key, 0)
            log.warning(
                "dropped %s SNMP datagram (%s) from %s; %d more since last report",
                kind,
                reason,
                addr,
                n,
                exc_info=exc,
            )
            self.last[key] = now
        else:
            self.suppressed[key] += 1


class _Socket:
    """A non-blocking UDP socket read through ``loop.add_reader``, draining every queued datagram
    per wake-up (asyncio's datagram transport reads one per event-loop iteration)."""

    def __init__(self, owner: Transport, sock: socket.socket) -> None:
        self.owner = owner
        self.sock = sock
        self.loop = owner.loop
        self._closing = False
        self.loop.add_reader(sock.fileno(), self._drain)

    def _drain(self) -> None:
        recv = self.sock.recvfrom
        received = self.owner.received
        for _ in range(_DRAIN_MAX):
            try:
                data, addr = recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. an ICMP error queued on the socket
                log.debug("SNMP socket error: %s", exc)
                return
            try:
                received(data, addr)
            except Exception as exc:  # a bug must not stop the socket, nor log a traceback per datagram
                self.owner.stats.malformed["internal"] += 1
                self.owner._log_drop("malformed", "internal", addr, exc)

    def sendto(self, data: bytes, addr) -> None:
        try:
            self.sock.sendto(data, addr)
        except OSError as exc:  # a full send buffer or an unreachable network: the retry timer resends
            self.owner.stats.send_errors += 1
            log.debug("SNMP send to %s failed: %s", addr, exc)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()

    def get_extra_info(self, name: str):
        return {"sockname": self.sock.getsockname(), "socket": self.sock}.get(name)


class _Endpoint:
    """The socket of one address family."""

    def __init__(self, transport: _Socket) -> None:
        self.transport = transport


class Transport:
    """Request/response matching over one UDP socket per address family."""

    def __init__(
        self,
        *,
        rcvbuf: int = 4 * 1024 * 1024,
        bind4: str = "0.0.0.0",
        bind6: str | None = "::",
        max_packet: int = 65535,
    ) -> None:
        self.stats = SnmpStats()
        self.rcvbuf = rcvbuf
        self.bind4 = bind4
        self.bind6 = bind6
        self.max_packet = max_packet
        self._pending: dict[int, _Pending] = {}
        self._next_id = random.randint(1, _ID_MASK)
        self._endpoints: dict[int, _Endpoint] = {}
        self._log_drop = _RateLimitedLog()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._binds: dict[int, str] = {}
        self._deadlines: dict[float, deque] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = _NEVER

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._reopen_lock = asyncio.Lock()
        self._binds = {socket.AF_INET: self.bind4}
        await self._open(socket.AF_INET, self.bind4)
        if self.bind6 is not None and socket.has_ipv6:
            try:
                await self._open(socket.AF_INET6, self.bind6)
                self._binds[socket.AF_INET6] = self.bind6
            except OSError as exc:  # IPv6 disabled on this host
                log.info("no IPv6 SNMP socket: %s", exc)

    async def ensure(self, family: int) -> bool:
        """Is there an open socket for ``family``?  Reopens one that was closed by a fatal error."""
        ep = self._endpoints.get(family)
        if ep is not None and ep.transport is not None and not ep.transport.is_closing():
            return True
        host = self._binds.get(family)
        if host is None:
            return False
        async with self._reopen_lock:
            ep = self._endpoints.get(family)
            if ep is not None and ep.transport is not None and not ep.transport.is_closing():
                return True
            try:
                await self._open(family, host)
            except OSError as exc:
                log.error("cannot reopen the SNMP socket: %s", exc)
                return False
            self.stats.reopened += 1
            log.warning("reopened the SNMP socket for address family %s", family)
            return True

    async def _open(self, family: int, host: str) -> None:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            self._set_rcvbuf(sock)
            sock.bind((host, 0))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._endpoints[family] = _Endpoint(_Socket(self, sock))

    def _set_rcvbuf(self, sock: socket.socket) -> None:
        force = getattr(socket, "SO_RCVBUFFORCE", None)
        try:
            if force is None:
                raise OSError
            sock.setsockopt(socket.SOL_SOCKET, force, self.rcvbuf)
        except OSError:  # not privileged: capped at net.core.rmem_max
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)

    def sockname(self, family: int = socket.AF_INET):
        """The local (host, port) of the socket of ``family``."""
        return self._endpoints[family].transport.get_extra_info("sockname")

    def rcvbuf_effective(self, family: int = socket.AF_INET) -> int:
        sock = self._endpoints[family].transport.get_extra_info("socket")
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)

    def close(self) -> None:
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_result(TIMEOUT)
        self._pending.clear()
        self._deadlines.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, _NEVER
        for ep in self._endpoints.values():
            if ep.transport is not None:
                ep.transport.close()
        self._endpoints.clear()

    def new_request_id(self) -> int:
        rid = self._next_id
        self._next_id = (rid % _ID_MASK) + 1
        return rid

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def pending_ids(self) -> list[int]:
        """Request-ids waiting for an answer (tests, debugging)."""
        return list(self._pending)

    def request(
        self,
        family: int,
        addr: tuple[str, int],
        request_id: int,
        packet: bytes,
        version: int,
        timeout: float,
        retries: int,
        parser: Callable,
        args: tuple = (),
    ) -> asyncio.Future:
        """Send ``packet``; the returned future gets the response.

        Its result is ``TIMEOUT`` or ``(error_status, error_index, parsed, retransmissions)`` where
        ``parsed`` is ``parser(data, vb_start, vb_end, *args)`` (``None`` when error_status is not 0).
        Cancelling the future abandons the request (forgotten at its next timer).
        """
        ep = self._endpoints.get(family)
        if ep is None:
            raise OSError(f"no SNMP socket for address family {family}")  # callers check ensure() first
        future = self.loop.create_future()
        pending = _Pending(future, addr, packet, version, timeout, retries, parser, args)
        self._pending[request_id] = pending
        self._send(ep, request_id, pending)
        return future

    def _send(self, ep: _Endpoint, request_id: int, pending: _Pending) -> None:
        self.stats.requests += 1
        pending.sent += 1
        pending.ep = ep
        ep.transport.sendto(pending.packet, pending.addr)
        # One FIFO of (deadline, request-id, transmission) per timeout value keeps deadlines in order,
        # so one event-loop timer serves every request; answered requests' entries just expire unused.
        deadline = self.loop.time() + pending.timeout
        queue = self._deadlines.get(pending.timeout)
        if queue is None:
            queue = self._deadlines[pending.timeout] = deque()
        queue.append((deadline, request_id, pending.sent))
        if deadline < self._timer_at:
            self._arm(deadline)

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_at(when, self._tick)
        self._timer_at = when

    def _tick(self) -> None:
        """Expire the transmissions whose deadline passed; re-arm for the next one."""
        self._timer = None
        self._timer_at = _NEVER
        now = self.loop.time()
        limit = now + 0.001
        following = _NEVER
        for timeout, queue in list(self._deadlines.items()):
            while queue and queue[0][0] <= limit:
                _, request_id, sent = queue.popleft()
                pending = self._pending.get(request_id)
                if pending is not None and pending.sent == sent:
                    self._expire(request_id, pending)
            if queue:
                following = min(following, queue[0][0])
            else:
                del self._deadlines[timeout]
        if following < self._timer_at:
            self._arm(max(following, now + _TICK))  # batch expiries under load

    def _expire(self, request_id: int, pending: _Pending) -> None:
        if pending.future.done():  # cancelled by its caller
            del self._pending[request_id]
            return
        transport = pending.ep.transport
        if pending.retries_left > 0 and transport is not None and not transport.is_closing():
            pending.retries_left -= 1
            self.stats.retries += 1
            self._send(pending.ep, request_id, pending)
            return
        del self._pending[request_id]
        self.stats.timeouts += 1
        pending.future.set_result(TIMEOUT)

    def received(self, data: bytes, addr) -> None:
        stats = self.stats
        if len(data) > self.max_packet:
            stats.malformed["oversized"] += 1
            self._log_drop("malformed", "oversized", addr)
            return
        try:
            version, pdu_type, _community, rid, status, index, vb_start, vb_end = parse_header(data)
            if pdu_type != RESPONSE:
                raise MalformedPacket("pdu_type")
        except MalformedPacket as exc:
            if exc.reason == "version" and is_v3(data):
                self._received_v3(data, addr)
                return
            stats.malformed[exc.reason] += 1
            self._log_drop("malformed", exc.reason, addr)
            return
        pending = self._match(rid, addr, version)
        if pending is None:
            return
        parsed = None
        if status == 0:
            try:
                parsed = pending.parser(data, vb_start, vb_end, *pending.args)
            except MalformedPacket as exc:
                stats.malformed[exc.reason] += 1
                self._log_drop("malformed", exc.reason, addr)
                return
        del self._pending[rid]
        stats.responses += 1
        pending.future.set_result((status, index, parsed, pending.sent - 1))

    def _match(self, rid: int, addr, version: int) -> _Pending | None:
        """The request waiting for this answer, or None (the datagram counted as unexpected/malformed)."""
        stats = self.stats
        pending = self._pending.get(rid)
        if pending is not None and pending.future.done():  # its caller cancelled it: no one waits
            del self._pending[rid]
            pending = None
        if pending is None:
            reason = "late" if 0 < (self._next_id - rid) % _ID_MASK <= _LATE_WINDOW else "request_id"
            stats.unexpected[reason] += 1
            self._log_drop("unexpected", reason, addr)
            return None
        expected = pending.addr
        if addr[1] != expected[1] or addr[0] != expected[0]:
            stats.unexpected["address"] += 1
            self._log_drop("unexpected", "address", addr)
            return None
        if version != pending.version:
            stats.malformed["version"] += 1
            self._log_drop("malformed", "version", addr)
            return None
        return pending

    def _received_v3(self, data: bytes, addr) -> None:
        """An SNMPv3 answer: matched by msgID; its request's handler authenticates, decrypts and parses it
        (``parser(data, header, *args)`` -> ``(status, index, parsed)``, see :mod:`.engines`)."""
        stats = self.stats
        try:
            header = parse_v3_header(data)
        except MalformedPacket as exc:
            stats.malformed[exc.reason] += 1
            self._log_drop("malformed", exc.reason, addr)
            return
        rid = header.msg_id
        pending = self._match(rid, addr, 3)
        if pending is None:
            return
        try:
            status, index, parsed = pending.parser(data, header, *pending.args)
        except MalformedPacket as exc:
            stats.malformed[exc.reason] += 1
            self._log_drop("malformed", exc.reason, addr)
            return
        del self._pending[rid]
        stats.responses += 1
        pending.future.set_result((status, index, parsed, pending.sent - 1))
