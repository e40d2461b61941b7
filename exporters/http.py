"""The collector's HTTP server: a small HTTP/1.1 server (an asyncio protocol) serving the exposition.

It runs on **its own thread and event loop** (:class:`ServingThread`, started by :func:`serve`), never on
the polling loop: a burst of scrapers or a pile of idle connections cannot delay a poll, and a busy
polling loop cannot delay ``/-/healthy``.  It only reads the store's cached bodies, so a request costs
little CPU (the GIL is shared with the polling thread).  Its loop is uvloop when installed (as the
polling loop's, ``collectors.runtime.new_event_loop``): asyncio's selector loop gives the GIL up around
every system call, and each time takes it back only after the polling thread's switch interval.

Cost per request (issue 18, issue 10.8): a request for a cached body is parsed and answered inside
:meth:`HttpConnection.data_received`, with no task, stream or timer of its own (one sweeper task checks
every connection's deadline); TLS runs over memory BIOs in the same protocol, one ``SSLObject.read`` and
one ``SSLObject.write`` per keep-alive scrape, instead of asyncio's SSL transport layered under streams.
At most ``SCRAPES_PER_TURN`` scrapes are answered per event-loop iteration and the rest wait in line,
while ``/-/healthy`` and ``/-/ready`` are answered as soon as they are read, so a health check never
waits behind hundreds of scrapes that arrived at the same moment.

Endpoints (DEVELOPERS.md contract 4): ``/snmp?target=<device>``, ``/snmp/all``, ``/metrics``,
``/-/healthy``, ``/-/ready``.  GET and HEAD only; keep-alive (HTTP/1.1 by default, HTTP/1.0 on request),
``Content-Length`` always, gzip at level 1 when ``Accept-Encoding`` allows it, bounded request heads
(size, header count, header timeout, idle timeout) and a bounded number of connections: at the cap,
the connection idle the longest is closed to admit a new one (only when none is idle is the new one
refused).  The cap follows the fd soft limit, which :func:`raise_fd_limit` raises to the hard limit.

Content negotiation: ``/metrics`` follows prometheus_client (OpenMetrics when the ``Accept`` header asks
for it).  The device endpoints prefer the text format and answer OpenMetrics only to a client that does
not accept text: Prometheus asks for OpenMetrics first, and OpenMetrics would turn snmp_exporter's
``ifHCInOctets`` into the series ``ifHCInOctets_total``, breaking the names of contract 4.

A device's body is cached gzip-compressed in ``StoreEntry.rendered`` (``exposition.target_body``), so
a repeated scrape of an unchanged poll costs a dict lookup.  ``/snmp/all`` is streamed from the
devices' cached gzip members (``exposition.all_members``): the body is never built in memory, its
``Content-Length`` is the sum of the members (or of their recorded sizes for a client without gzip);
above ``THREAD_MIN_SERIES`` series the member list is gathered (rendering devices polled since the last
scrape) in a worker thread, so ``/-/healthy`` stays answerable meanwhile.

With a :class:`~exporters.webconfig.WebConfig` (``--web.config.file``) the server speaks TLS and/or
checks HTTP basic auth (bcrypt verified once per credential, then cached).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import ssl
import threading
import time
import weakref
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder

from collectors.runtime import new_event_loop
from collectors.store import SampleStore
from exporters import exposition
from exporters.webconfig import OPEN_PATHS, WebConfig

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 16 * 1024
MAX_HEADERS = 100
MAX_BODY_BYTES = 64 * 1024  # a GET body is read and dropped up to this size; larger closes the connection
HEADER_TIMEOUT = 10.0  # seconds to send the rest of a request head once its first line arrived
IDLE_TIMEOUT = 75.0  # seconds a keep-alive connection may wait for its next request
WRITE_TIMEOUT = 60.0  # seconds a client may take to read a response before it is cut off
MAX_CONNECTIONS = 4096  # at most; fewer when the fd soft limit is low (see Server.max_connections)
FD_RESERVE = 256  # fds left for the SNMP sockets, the inventory client and files
LISTEN_BACKLOG = 1024  # a burst of new connections waits in the kernel instead of being reset
WRITE_CHUNK = 256 * 1024  # a streamed body is drained every this many bytes
GZIP_MIN_BYTES = 512  # /snmp/all and /metrics bodies shorter than this are sent uncompressed
THREAD_MIN_SERIES = 20_000  # /snmp/all of more series is gathered in a worker thread
SWEEP_SECONDS = 1.0  # connections past a deadline are closed this often (more often for short timeouts)
PIPELINE_BATCH = 64  # pipelined requests answered per connection per loop iteration
READ_AHEAD_BYTES = 4 * MAX_HEAD_BYTES + MAX_BODY_BYTES  # unanswered request bytes buffered per connection
SCRAPES_PER_TURN = 32  # scrapes answered per event-loop iteration; the rest wait in line, health checks not

ENDPOINTS = ("snmp", "snmp_all", "metrics", "healthy", "ready", "index", "other")


class BadRequest(Exception):
    """A request that cannot be parsed; answered with ``status`` and the connection closed."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    version: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


@dataclass(slots=True)
class Response:
    status: HTTPStatus
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    compressed: bool = False  # body (or members) already gzip-encoded
    members: Sequence[bytes] | None = None  # streamed instead of body: gzip members, in order
    inflate: bool = False  # send the members decompressed (a client without gzip)


def member_size(member: bytes) -> int:
    """Uncompressed size of one gzip member, from its trailer (ISIZE; members are far below 4 GiB)."""
    return int.from_bytes(member[-4:], "little")


def raise_fd_limit() -> int:
    """Raise this process's open-file soft limit to its hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            log.warning("exporter: open-file limit stays %d (raising it to %d failed: %s)", soft, hard, exc)
    return soft


class ExporterMetrics:
    """The server's own metrics, registered once per registry."""

    _by_registry: weakref.WeakKeyDictionary[CollectorRegistry, ExporterMetrics] = weakref.WeakKeyDictionary()

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "infrastrand_exporter_requests_total",
            "HTTP requests answered by the exporter, by endpoint and status code.",
            ["endpoint", "code"],
            registry=registry,
        )
        self.duration = Histogram(
            "infrastrand_exporter_request_duration_seconds",
            "Time from a request's head being read to its response being written, by endpoint.",
            ["endpoint"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.response_bytes = Counter(
            "infrastrand_exporter_response_bytes_total",
            "Response body bytes sent (after compression), by endpoint.",
            ["endpoint"],
            registry=registry,
        )
        self.connections = Gauge(
            "infrastrand_exporter_connections",
            "Open HTTP connections to the exporter.",
            registry=registry,
        )
        self.rejected = Counter(
            "infrastrand_exporter_rejected_connections_total",
            "Connections closed at once because the exporter had its maximum open and none of them idle.",
            registry=registry,
        )
        self.evicted = Counter(
            "infrastrand_exporter_evicted_connections_total",
            "Idle connections closed to admit a new one because the exporter had its maximum open.",
            registry=registry,
        )
        self.auth_failures = Counter(
            "infrastrand_exporter_auth_failures_total",
            "Requests refused with 401 because their basic auth credentials were missing or wrong.",
            registry=registry,
        )
        self.tls_handshakes = Counter(
            "infrastrand_exporter_tls_handshakes_total",
            "TLS handshakes completed, by protocol version and the cipher suite negotiated.",
            ["version", "cipher"],
            registry=registry,
        )
        self._durations = {endpoint: self.duration.labels(endpoint) for endpoint in ENDPOINTS}
        self._bytes = {endpoint: self.response_bytes.labels(endpoint) for endpoint in ENDPOINTS}
        self._requests: dict[tuple[str, int], Counter] = {}

    def count(self, endpoint: str, status: HTTPStatus, sent: int, seconds: float | None = None) -> None:
        """One request answered (with ``seconds`` from its head to its response, and ``sent`` body bytes)."""
        key = (endpoint, status.value)
        requests = self._requests.get(key)
        if requests is None:
            requests = self._requests[key] = self.requests.labels(endpoint, str(status.value))
        requests.inc()
        if seconds is not None:
            self._bytes[endpoint].inc(sent)
            self._durations[endpoint].observe(seconds)

    @classmethod
    def for_registry(cls, registry: CollectorRegistry) -> ExporterMetrics:
        metrics = cls._by_registry.get(registry)
        if metrics is None:
            metrics = cls._by_registry[registry] = cls(registry)
            with contextlib.suppress(ValueError):  # the runner may have registered it already
                ProcessCollector(registry=registry)
        return metrics


def parse_quality(header: str) -> dict[str, float]:
    """``Accept``/``Accept-Encoding`` entries by q weight (lower-case, other parameters dropped)."""
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[name.lower()] = max(q, weights.get(name.lower(), 0.0))
    return weights


def accepts_gzip(request: Request) -> bool:
    weights = parse_quality(request.headers.get("accept-encoding", ""))
    return weights.get("gzip", weights.get("*", 0.0)) > 0


def device_format(request: Request) -> str:
    """Text unless the client accepts OpenMetrics and not text (see the module docstring)."""
    accept = request.headers.get("accept")
    if not accept:
        return exposition.TEXT
    weights = parse_quality(accept)
    text = max(weights.get("text/plain", 0.0), weights.get("text/*", 0.0), weights.get("*/*", 0.0))
    if text <= 0 and weights.get("application/openmetrics-text", 0.0) > 0:
        return exposition.OPENMETRICS
    return exposition.TEXT


def parse_head(lines: list[bytes]) -> Request:
    """A request from its head lines (request line first, CRLF or LF stripped)."""
    try:
        request_line = lines[0].decode("ascii")
    except UnicodeDecodeError as exc:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "request line is not ASCII") from exc
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "only HTTP/1.0 and HTTP/1.1")
    if not target.startswith("/"):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "request target must be a path")
    headers: dict[str, str] = {}
    for raw in lines[1:]:
        line = raw.decode("latin-1")  # decodes any byte: header values are opaque to us
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or line[0] in " \t":
            raise BadRequest(HTTPStatus.BAD_REQUEST, "malformed header line")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if version == "HTTP/1.1" and "host" not in headers:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "HTTP/1.1 request without Host")
    path, _, query = target.partition("#")[0].partition("?")
    return Request(method, path, parse_qs(query) if query else {}, version, headers)


def head_end(buffer: bytes) -> tuple[int, int]:
    """Where the head in ``buffer`` ends (the index of its blank line's LF) and where what follows it
    starts; (-1, -1) when the blank line has not arrived.  Lines may end in CRLF or a bare LF."""
    crlf = buffer.find(b"\n\r\n")
    lf = buffer.find(b"\n\n")
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 3
    return -1, -1


class HttpConnection(asyncio.Protocol):
    """One client connection: HTTP/1.1 framing in ``data_received`` and, with TLS, the TLS session over
    memory BIOs (one ``SSLObject.write`` and one ``transport.write`` per response).

    A request for a cached body is answered inside ``data_received``: no task, no stream, no timer per
    request (deadlines are checked by :meth:`Server.sweep`).  Only what must wait (a bcrypt check in a
    worker thread, a streamed ``/snmp/all``) runs as a task, and pipelined requests behind it wait.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.idle_since: float | None = None  # monotonic time it began waiting for a request
        self.deadline = 0.0  # monotonic; what happens then depends on ``waiting``
        self.waiting = "handshake"  # handshake | idle | head | write | none
        self.discard = 0  # request body bytes still to drop
        self.task: asyncio.Task | None = None  # a response that had to wait
        self.pending: tuple[Request, str, bool, float] | None = None  # queued behind other scrapes
        self.write_paused = False
        self.reading = True  # False while reading is paused (requests piling up unanswered)
        self.drained: asyncio.Future[None] | None = None
        self.closed = False
        self.eof = False  # the client half-closed its side
        self.authorized: str | None = None  # the Authorization value last accepted on this connection
        self.tls: ssl.SSLObject | None = None
        self.incoming: ssl.MemoryBIO | None = None
        self.outgoing: ssl.MemoryBIO | None = None

    # --- transport events --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports do not subclass it
        server = self.server
        if not server.admit(self):
            self.closed = True
            transport.abort()
            return
        context = server.tls_context
        if context is not None:
            self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = context.wrap_bio(self.incoming, self.outgoing, server_side=True)
            self.deadline = time.monotonic() + HEADER_TIMEOUT
        else:
            self.become_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.forget(self)
        if self.drained is not None and not self.drained.done():
            self.drained.set_exception(ConnectionError("connection lost"))
        if self.task is not None:
            self.task.cancel()

    def pause_writing(self) -> None:
        self.write_paused = True
        self.waiting, self.deadline = "write", time.monotonic() + WRITE_TIMEOUT

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)
        self.drained = None
        self.waiting = "none"
        if self.task is None:
            self.process()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        if self.tls is None:
            self.buffer = self.buffer + data if self.buffer else data
            self.process()
            return
        self.tls_received(data)

    def eof_received(self) -> bool:
        """The client will send no more: finish what it asked for, then close."""
        self.eof = True
        # True keeps the transport open until the responses still owed are written
        return self.task is not None or self.pending is not None or self.write_paused

    # --- TLS -----------------------------------------------------------------------------------------

    def tls_received(self, data: bytes) -> None:
        tls, incoming = self.tls, self.incoming
        assert tls is not None and incoming is not None
        incoming.write(data)
        if self.waiting == "handshake":
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                self.flush_tls()
                return
            except (ssl.SSLError, OSError):  # a refused client certificate, a protocol mismatch
                self.flush_tls()
                self.close()
                return
            cipher = tls.cipher()
            self.server.metrics.tls_handshakes.labels(tls.version(), cipher[0] if cipher else "").inc()
            self.become_idle()
        plain = []
        ended = False
        for _ in range(len(data) + 2):  # bounded: each read consumes input or ends the loop
            try:
                chunk = tls.read(65536)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                ended = True
                break
            except (ssl.SSLError, OSError):
                self.close()
                return
            if not chunk:
                ended = True
                break
            plain.append(chunk)
            if not incoming.pending and not tls.pending():
                break  # all input decrypted: a further read would only raise SSLWantReadError (costly)
        self.flush_tls()  # TLS 1.3 session tickets and alerts
        if plain:
            joined = plain[0] if len(plain) == 1 else b"".join(plain)
            self.buffer = self.buffer + joined if self.buffer else joined
            self.process()
        if ended:
            self.close()

    def flush_tls(self) -> None:
        outgoing = self.outgoing
        if outgoing is not None and outgoing.pending and self.transport is not None:
            self.transport.write(outgoing.read())

    def write(self, data: bytes) -> None:
        """Send ``data`` (encrypted in one piece with TLS)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self.tls is None:
            transport.write(data)
            return
        try:
            written = self.tls.write(data)  # takes it all (memory BIO), unless the session broke
            if written < len(data):
                raise ssl.SSLError(f"TLS write took {written} of {len(data)} bytes")
        except ssl.SSLError:
            self.abort()
            return
        self.flush_tls()

    def close(self) -> None:
        """Close after what was written is sent (with TLS, after a close_notify)."""
        self.closed = True
        if self.transport is None or self.transport.is_closing():
            return
        if self.tls is not None and self.waiting != "handshake":
            with contextlib.suppress(ssl.SSLError, OSError):
                self.tls.unwrap()
            self.flush_tls()
        self.transport.close()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # --- HTTP ----------------------------------------------------------------------------------------

    def become_idle(self) -> None:
        self.idle_since = time.monotonic()
        self.waiting, self.deadline = "idle", self.idle_since + IDLE_TIMEOUT

    def process(self) -> None:
        """Answer the complete requests in the buffer, in order, until one has to wait."""
        for _ in range(PIPELINE_BATCH):
            if self.closed or self.task is not None or self.pending is not None or self.write_paused:
                self.read_ahead(self.pending is None and len(self.buffer) <= READ_AHEAD_BYTES)
                return
            self.read_ahead(True)
            if self.discard:
                dropped = min(self.discard, len(self.buffer))
                self.discard -= dropped
                self.buffer = self.buffer[dropped:]
            if not self.buffer:
                if self.eof:
                    self.close()
                elif self.discard:
                    self.waiting, self.deadline = "head", time.monotonic() + HEADER_TIMEOUT
                elif self.waiting != "idle":
                    self.become_idle()
                return
            if self.waiting != "head":  # a new request's first bytes: its head must follow in time
                self.idle_since = None
                self.waiting, self.deadline = "head", time.monotonic() + HEADER_TIMEOUT
            if not self.next_request():
                return
        # more pipelined requests than one pass answers: the rest in the next loop iteration
        asyncio.get_running_loop().call_soon(self.process)

    def read_ahead(self, allowed: bool) -> None:
        """Stop reading from a client whose requests pile up unanswered; start again when allowed."""
        if allowed == self.reading or self.transport is None or self.transport.is_closing():
            return
        self.reading = allowed
        if allowed:
            self.transport.resume_reading()
        else:
            self.transport.pause_reading()

    def next_request(self) -> bool:
        """Parse and answer (or queue) the request at the head of the buffer; False when it is not
        complete yet."""
        buffer = self.buffer
        end, rest = head_end(buffer)
        if end < 0 or end > MAX_HEAD_BYTES:
            first = buffer.find(b"\n")
            if (first < 0 and len(buffer) > MAX_HEAD_BYTES) or first > MAX_HEAD_BYTES:
                self.refuse(BadRequest(HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long"))
            elif len(buffer) > MAX_HEAD_BYTES:
                self.refuse(BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too large"))
            return False
        started = time.perf_counter()
        self.buffer = buffer[rest:]
        lines = buffer[:end].split(b"\n")
        if len(lines) > MAX_HEADERS + 1:
            self.refuse(BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too large"))
            return False
        try:
            request = parse_head([line[:-1] if line.endswith(b"\r") else line for line in lines])
            reusable = self.body_reusable(request)
        except BadRequest as exc:
            self.refuse(exc)
            return False
        self.waiting = "none"
        endpoint = self.server.endpoint(request.path)
        keep_alive = reusable and request.keep_alive
        if endpoint not in LIGHT_ENDPOINTS and not self.server.take_turn(self):
            self.pending = (request, endpoint, keep_alive, started)
            return False
        self.server.answer(self, request, endpoint, keep_alive, started)
        return True

    def body_reusable(self, request: Request) -> bool:
        """Arrange for a request body to be dropped; False when the connection cannot be reused."""
        if "transfer-encoding" in request.headers:
            return False
        length_header = request.headers.get("content-length")
        if length_header is None:
            return True
        if not length_header.isdigit():
            raise BadRequest(HTTPStatus.BAD_REQUEST, "bad Content-Length")
        length = int(length_header)
        if length > MAX_BODY_BYTES:
            return False
        self.discard = length
        return True

    def run_pending(self) -> None:
        """Answer the request queued by :meth:`next_request` (its turn has come), then carry on."""
        if self.pending is None or self.closed:
            return
        request, endpoint, keep_alive, started = self.pending
        self.pending = None
        self.server.answer(self, request, endpoint, keep_alive, started)
        self.process()

    def refuse(self, exc: BadRequest) -> None:
        self.respond(None, Response(exc.status, f"{exc}\n".encode()), keep_alive=False)
        self.server.metrics.count("other", exc.status, 0)

    def respond(self, request: Request | None, response: Response, keep_alive: bool) -> int:
        """Write a response with a body (not members); the body bytes sent."""
        head = response_head(request, response, len(response.body), keep_alive)
        body = b"" if request is not None and request.method == "HEAD" else response.body
        if len(body) < 65536:
            self.write(head + body)
        else:
            self.write(head)
            self.write(body)
        if not keep_alive:
            self.close()
        return len(body) if body else 0

    def start(self, coro) -> None:
        """Run ``coro`` as this connection's task; requests behind it wait until it ends."""
        self.task = asyncio.get_running_loop().create_task(coro)
        self.task.add_done_callback(self.task_done)

    def task_done(self, task: asyncio.Task) -> None:
        self.task = None
        if not task.cancelled() and task.exception() is not None:
            self.abort()
            return
        self.process()

    async def drain(self) -> None:
        if not self.write_paused:
            return
        if self.drained is None:
            self.drained = asyncio.get_running_loop().create_future()
        await self.drained


LIGHT_ENDPOINTS = frozenset(("healthy", "ready"))
"""Answered at once, never queued behind scrapes: a health check must not wait for 200 renders."""


def response_head(request: Request | None, response: Response, length: int, keep_alive: bool) -> bytes:
    status = response.status
    parts = [f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: {response.content_type}\r\n"]
    if response.compressed and not response.inflate:
        parts.append("Content-Encoding: gzip\r\n")
    parts.append(f"Content-Length: {length}\r\n")
    for name, value in response.headers:
        parts.append(f"{name}: {value}\r\n")
    if not keep_alive:
        parts.append("Connection: close\r\n")
    elif request is not None and request.version == "HTTP/1.0":
        parts.append("Connection: keep-alive\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("latin-1")


class Server:
    """The running HTTP server: ``host``/``port`` it listens on, ``close()`` and ``wait_closed()``."""

    def __init__(
        self,
        store: SampleStore,
        registry: CollectorRegistry,
        ready: Callable[[], bool],
        clock: Callable[[], float] = time.time,
        web: WebConfig | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.ready = ready
        self.clock = clock
        self.web = web
        self.metrics = ExporterMetrics.for_registry(registry)
        self.max_connections = MAX_CONNECTIONS
        self.tls_context: ssl.SSLContext | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[HttpConnection] = set()
        self._sweeper: asyncio.Task | None = None
        self._turns = 0  # scrapes answered in this loop iteration
        self._queue: deque[HttpConnection] = deque()  # scrapes waiting for a turn
        self._routes: dict[str, tuple[str, Callable[[Request], Response] | None]] = {
            "/snmp": ("snmp", self._snmp),
            "/snmp/all": ("snmp_all", None),
            "/metrics": ("metrics", self._metrics),
            "/-/healthy": ("healthy", self._healthy),
            "/-/ready": ("ready", self._ready),
            "/": ("index", self._index),
        }

    @property
    def host(self) -> str:
        return self._sockname()[0]

    @property
    def port(self) -> int:
        return self._sockname()[1]

    @property
    def url(self) -> str:
        host = self.host
        scheme = "https" if self.web is not None and self.web.tls is not None else "http"
        return f"{scheme}://[{host}]:{self.port}" if ":" in host else f"{scheme}://{host}:{self.port}"

    def _sockname(self) -> tuple:
        assert self._server is not None, "server not started"
        return self._server.sockets[0].getsockname()

    async def start(self, host: str, port: int) -> None:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.max_connections = min(MAX_CONNECTIONS, max(16, soft - FD_RESERVE))
        tls = self.web.tls if self.web is not None else None
        self.tls_context = tls.listener_context() if tls is not None else None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: HttpConnection(self), host, port, backlog=LISTEN_BACKLOG
        )
        self._sweeper = loop.create_task(self._sweep())

    def close(self) -> None:
        """Stop listening and end every open connection (a response being written is cut short)."""
        if self._server is not None:
            self._server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for conn in list(self._connections):
            conn.abort()

    async def wait_closed(self) -> None:
        """Wait for the connections' tasks to finish; cancel any still busy after 5 s."""
        tasks = [conn.task for conn in self._connections if conn.task is not None]
        if tasks:
            _done, busy = await asyncio.wait(tasks, timeout=5.0)
            for task in busy:
                task.cancel()
            if busy:
                await asyncio.wait(busy)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()

    # --- connections -------------------------------------------------------------------------------

    def admit(self, conn: HttpConnection) -> bool:
        """Count ``conn`` in; at the cap, close the connection idle the longest to make room (False when
        none is idle: the new one is refused)."""
        if len(self._connections) >= self.max_connections:
            idle = [c for c in self._connections if c.idle_since is not None]
            if not idle:
                self.metrics.rejected.inc()
                return False
            oldest = min(idle, key=lambda c: c.idle_since or 0.0)
            oldest.idle_since = None  # being closed: never chosen twice
            oldest.abort()
            self.forget(oldest)
            self.metrics.evicted.inc()
        self._connections.add(conn)
        self.metrics.connections.inc()
        return True

    def forget(self, conn: HttpConnection) -> None:
        if conn in self._connections:
            self._connections.remove(conn)
            self.metrics.connections.dec()

    async def _sweep(self) -> None:
        """Close connections past their deadline: idle too long (quietly), a head or TLS handshake not
        received in time (408 for a head), a client not reading its response."""
        for _ in range(2**62):
            await asyncio.sleep(min(SWEEP_SECONDS, HEADER_TIMEOUT / 2, IDLE_TIMEOUT / 2, WRITE_TIMEOUT / 2))
            now = time.monotonic()
            for conn in [c for c in self._connections if c.deadline <= now]:
                if conn.waiting == "head":
                    conn.refuse(BadRequest(HTTPStatus.REQUEST_TIMEOUT, "request head not received in time"))
                elif conn.waiting in ("idle", "handshake", "write"):
                    conn.abort()

    def take_turn(self, conn: HttpConnection) -> bool:
        """Whether a scrape may be answered now; otherwise ``conn`` waits in line (see
        ``SCRAPES_PER_TURN``)."""
        if self._turns == 0:
            asyncio.get_running_loop().call_soon(self._next_turns)
        if self._turns >= SCRAPES_PER_TURN or self._queue:
            self._queue.append(conn)
            return False
        self._turns += 1
        return True

    def _next_turns(self) -> None:
        """A new loop iteration: the scrapes waiting in line go first."""
        self._turns = 0
        queue = self._queue
        for _ in range(SCRAPES_PER_TURN):
            if not queue:
                break
            conn = queue.popleft()
            if conn.closed:
                continue
            if self._turns == 0:
                asyncio.get_running_loop().call_soon(self._next_turns)
            self._turns += 1
            conn.run_pending()
        if queue and self._turns == 0:
            asyncio.get_running_loop().call_soon(self._next_turns)

    # --- requests ------------------------------------------------------------------------------------

    def endpoint(self, path: str) -> str:
        route = self._routes.get(path)
        return route[0] if route is not None else "other"

    def answer(
        self, conn: HttpConnection, request: Request, endpoint: str, keep_alive: bool, started: float
    ) -> None:
        """Answer ``request`` on ``conn``: at once when its body is cached, else in a task."""
        web = self.web
        header = request.headers.get("authorization")
        if web is not None and (header is None or header != conn.authorized):
            verdict = web.verdict(request.path, request.headers)
            if verdict is None:  # not seen before: bcrypt in a worker thread
                conn.start(self._verify_then_answer(conn, request, endpoint, keep_alive, started))
                return
            if not verdict:
                self._finish(conn, request, endpoint, self._unauthorized(), keep_alive, started)
                return
            if request.path not in OPEN_PATHS:  # an open path's verdict says nothing of the header
                conn.authorized = header
        if endpoint == "snmp_all" and request.method in ("GET", "HEAD"):
            conn.start(self._stream_all(conn, request, keep_alive, started))
            return
        self._finish(conn, request, endpoint, self._response(request, endpoint), keep_alive, started)

    async def _verify_then_answer(
        self, conn: HttpConnection, request: Request, endpoint: str, keep_alive: bool, started: float
    ) -> None:
        assert self.web is not None
        if not await self.web.authorized(request.path, request.headers):
            self._finish(conn, request, endpoint, self._unauthorized(), keep_alive, started)
            return
        if request.path not in OPEN_PATHS:
            conn.authorized = request.headers.get("authorization")
        if endpoint == "snmp_all" and request.method in ("GET", "HEAD"):
            await self._stream_all(conn, request, keep_alive, started)
        else:
            self._finish(conn, request, endpoint, self._response(request, endpoint), keep_alive, started)

    def _unauthorized(self) -> Response:
        self.metrics.auth_failures.inc()
        return Response(
            HTTPStatus.UNAUTHORIZED,
            b"unauthorized\n",
            headers=(("WWW-Authenticate", 'Basic realm="infrastrand"'),),
        )

    def _response(self, request: Request, endpoint: str) -> Response:
        handler = self._routes.get(request.path, ("other", None))[1]
        if endpoint == "other" or handler is None:
            return Response(HTTPStatus.NOT_FOUND, b"not found\n")
        if request.method not in ("GET", "HEAD"):
            return Response(
                HTTPStatus.METHOD_NOT_ALLOWED, b"only GET and HEAD\n", headers=(("Allow", "GET, HEAD"),)
            )
        try:
            return handler(request)
        except Exception:
            log.exception("exporter: %s %s failed", request.method, request.path)
            return Response(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error\n")

    def _finish(
        self,
        conn: HttpConnection,
        request: Request,
        endpoint: str,
        response: Response,
        keep_alive: bool,
        started: float,
    ) -> None:
        if response.status == HTTPStatus.INTERNAL_SERVER_ERROR:
            keep_alive = False
        sent = conn.respond(request, response, keep_alive)
        self.metrics.count(endpoint, response.status, sent, time.perf_counter() - started)

    async def _stream_all(
        self, conn: HttpConnection, request: Request, keep_alive: bool, started: float
    ) -> None:
        fmt = device_format(request)

        def gather() -> list[bytes]:
            return exposition.all_members(self.store, fmt, self.clock())

        if self.store.series_count() >= THREAD_MIN_SERIES:
            members = await asyncio.to_thread(gather)
        else:
            members = gather()
        inflate = not accepts_gzip(request)
        response = Response(
            HTTPStatus.OK,
            content_type=exposition.CONTENT_TYPES[fmt],
            headers=(("Vary", "Accept, Accept-Encoding"),),
            compressed=True,
            inflate=inflate,
        )
        length = sum(member_size(m) for m in members) if inflate else sum(len(m) for m in members)
        conn.write(response_head(request, response, length, keep_alive))
        if request.method == "HEAD":
            length = 0
        else:
            pending = 0
            for member in members:
                data = zlib.decompress(member, 31) if inflate else member
                conn.write(data)
                pending += len(data)
                if pending >= WRITE_CHUNK:  # bounded buffering: wait for the client to read
                    await conn.drain()
                    pending = 0
        await conn.drain()
        if not keep_alive:
            conn.close()
        self.metrics.count("snmp_all", response.status, length, time.perf_counter() - started)

    # --- endpoints ---------------------------------------------------------------------------------

    @staticmethod
    def _exposition(body: bytes, fmt: str, compressed: bytes | None) -> Response:
        vary = (("Vary", "Accept, Accept-Encoding"),)
        if compressed is not None:
            return Response(HTTPStatus.OK, compressed, exposition.CONTENT_TYPES[fmt], vary, compressed=True)
        return Response(HTTPStatus.OK, body, exposition.CONTENT_TYPES[fmt], vary)

    def _snmp(self, request: Request) -> Response:
        targets = request.query.get("target", [])
        if len(targets) != 1 or not targets[0]:
            return Response(HTTPStatus.BAD_REQUEST, b"exactly one 'target' parameter is required\n")
        entry = self.store.get(targets[0])
        if entry is None:
            return Response(HTTPStatus.NOT_FOUND, f"unknown target {targets[0]!r}\n".encode())
        fmt = device_format(request)
        body, compressed = exposition.target_body(entry, fmt, self.clock(), accepts_gzip(request))
        entry.scraped = True  # its device's next poll is rendered on the polling thread
        return self._exposition(body, fmt, body if compressed else None)

    def _metrics(self, request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        body = encoder(self.registry)
        if accepts_gzip(request) and len(body) >= GZIP_MIN_BYTES:
            return Response(HTTPStatus.OK, exposition.compress(body), content_type, compressed=True)
        return Response(HTTPStatus.OK, body, content_type)

    def _healthy(self, request: Request) -> Response:
        return Response(HTTPStatus.OK, b"Healthy.\n")

    def _ready(self, request: Request) -> Response:
        if self.ready():
            return Response(HTTPStatus.OK, b"Ready.\n")
        return Response(HTTPStatus.SERVICE_UNAVAILABLE, b"Not ready: targets not loaded yet.\n")

    def _index(self, request: Request) -> Response:
        body = (
            "infrastrand collector exporter\n"
            "/snmp?target=<device>  one device's series\n"
            "/snmp/all              every device's series with inventory labels\n"
            "/metrics               the collector's own metrics\n"
            "/-/healthy  /-/ready\n"
        )
        return Response(HTTPStatus.OK, body.encode())


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``:port`` (all of 127.0.0.1) to (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"listen address {listen!r} is not host:port")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


class ServingThread:
    """A :class:`Server` on its own thread and event loop (see the module docstring)."""

    def __init__(
        self,
        store: SampleStore,
        registry: CollectorRegistry,
        ready: Callable[[], bool],
        *,
        clock: Callable[[], float] = time.time,
        web: WebConfig | None = None,
        event_loop: str = "auto",
    ) -> None:
        self.server = Server(store, registry, ready, clock, web)
        self.loop = new_event_loop(event_loop)
        self._thread = threading.Thread(target=self._run, name="exporter-http", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, coro, timeout: float = 30.0):
        """Run ``coro`` on the serving loop and return its result (from another thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)

    def start(self, host: str, port: int) -> None:
        """Start the thread and listen; raises what binding raised (the thread is then stopped)."""
        self._thread.start()
        try:
            self.call(self.server.start(host, port))
        except BaseException:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Close the server and its connections, stop the loop and join the thread (blocking)."""
        if not self._thread.is_alive():
            return

        async def close() -> None:
            self.server.close()
            await self.server.wait_closed()

        try:
            self.call(close(), timeout=timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=timeout)

    def cpu_seconds(self) -> float:
        """CPU time the serving thread has used (for benchmarks)."""
        assert self._thread.ident is not None, "not started"
        return time.clock_gettime(time.pthread_getcpuclockid(self._thread.ident))


def serve(
    store: SampleStore,
    registry: CollectorRegistry,
    listen: str,
    ready: Callable[[], bool],
    *,
    clock: Callable[[], float] = time.time,
    web: WebConfig | None = None,
    event_loop: str = "auto",
) -> ServingThread:
    """Serve ``store`` and ``registry`` on ``listen`` (``host:port``; port 0 picks a free one) from a
    thread of its own, on an ``event_loop`` of :func:`collectors.runtime.new_event_loop`'s kind (uvloop
    when installed); ``ready`` is called from that thread.  Stop it with ``stop()``."""
    host, port = parse_listen(listen)
    serving = ServingThread(store, registry, ready, clock=clock, web=web, event_loop=event_loop)
    serving.start(host, port)
    return serving
