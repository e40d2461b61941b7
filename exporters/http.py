"""The collector's HTTP server: a small HTTP/1.1 server on asyncio streams serving the exposition.

It runs on **its own thread and event loop** (:class:`ServingThread`, started by :func:`serve`), never on
the polling loop: a burst of scrapers or a pile of idle connections cannot delay a poll, and a busy
polling loop cannot delay ``/-/healthy``.  It only reads the store's cached bodies, so a request costs
little CPU (the GIL is shared with the polling thread).

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
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder

from collectors.store import SampleStore
from exporters import exposition
from exporters.webconfig import WebConfig

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


@dataclass(slots=True, eq=False)
class Connection:
    """An open connection; ``idle_since`` is the monotonic time it began waiting for a request."""

    writer: asyncio.StreamWriter
    idle_since: float | None = field(default_factory=time.monotonic)


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
        for endpoint in ENDPOINTS:
            self.duration.labels(endpoint)
            self.response_bytes.labels(endpoint)

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
    split = urlsplit(target)
    return Request(method, split.path, parse_qs(split.query), version, headers)


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
        self._server: asyncio.base_events.Server | None = None
        self._connections: dict[asyncio.Task, Connection] = {}
        self._routes = {
            "/snmp": ("snmp", self._snmp),
            "/snmp/all": ("snmp_all", self._snmp_all),
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
        self._server = await asyncio.start_server(
            self._connection,
            host,
            port,
            limit=MAX_HEAD_BYTES,
            backlog=LISTEN_BACKLOG,
            ssl=tls.listener_context() if tls is not None else None,
            ssl_handshake_timeout=HEADER_TIMEOUT if tls is not None else None,
        )

    def close(self) -> None:
        """Stop listening and end every open connection (a response being written is cut short)."""
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections.values()):
            conn.writer.transport.abort()

    async def wait_closed(self) -> None:
        """Wait for the connection handlers to finish; cancel any still busy after 5 s."""
        if self._connections:
            _done, busy = await asyncio.wait(list(self._connections), timeout=5.0)
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

    def _make_room(self) -> bool:
        """At the cap, close the connection idle the longest; False when none is idle."""
        if len(self._connections) < self.max_connections:
            return True
        idle = [conn for conn in self._connections.values() if conn.idle_since is not None]
        if not idle:
            return False
        oldest = min(idle, key=lambda conn: conn.idle_since or 0.0)
        oldest.idle_since = None  # being closed: never chosen twice
        oldest.writer.transport.abort()
        self.metrics.evicted.inc()
        return True

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if not self._make_room():
            self.metrics.rejected.inc()
            writer.transport.abort()
            return
        conn = self._connections[task] = Connection(writer)
        self.metrics.connections.inc()
        try:
            while await self._exchange(reader, conn):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass  # includes TLS errors (ssl.SSLError is an OSError) and connections evicted while idle
        except asyncio.CancelledError:
            pass  # closing: end quietly (3.11's stream callback would log a cancelled handler as an error)
        finally:
            self._connections.pop(task, None)
            self.metrics.connections.dec()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_head(self, reader: asyncio.StreamReader, conn: Connection) -> list[bytes] | None:
        """The head's lines, or None when the client closed or idled out between requests."""
        if conn.idle_since is None:
            conn.idle_since = time.monotonic()
        try:
            async with asyncio.timeout(IDLE_TIMEOUT):
                first = await reader.readuntil(b"\n")
        except (TimeoutError, asyncio.IncompleteReadError):
            return None
        except asyncio.LimitOverrunError as exc:
            raise BadRequest(HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long") from exc
        finally:
            conn.idle_since = None
        lines = [first.rstrip(b"\r\n")]
        size = len(first)
        try:
            async with asyncio.timeout(HEADER_TIMEOUT):
                while True:
                    line = await reader.readuntil(b"\n")
                    size += len(line)
                    line = line.rstrip(b"\r\n")
                    if not line:
                        return lines
                    lines.append(line)
                    if size > MAX_HEAD_BYTES or len(lines) > MAX_HEADERS + 1:
                        raise BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too large")
        except TimeoutError as exc:
            raise BadRequest(HTTPStatus.REQUEST_TIMEOUT, "request head not received in time") from exc
        except asyncio.LimitOverrunError as exc:
            raise BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "header line too long") from exc

    async def _discard_body(self, reader: asyncio.StreamReader, request: Request) -> bool:
        """Read and drop a request body; False when the connection cannot be reused after it."""
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
        if length:
            try:
                async with asyncio.timeout(HEADER_TIMEOUT):
                    await reader.readexactly(length)
            except TimeoutError:
                return False
        return True

    async def _exchange(self, reader: asyncio.StreamReader, conn: Connection) -> bool:
        """Serve one request; True to keep the connection for another."""
        writer = conn.writer
        try:
            lines = await self._read_head(reader, conn)
            if lines is None:
                return False
            started = time.perf_counter()
            request = parse_head(lines)
            reusable = await self._discard_body(reader, request)
        except BadRequest as exc:
            await self._send(writer, None, Response(exc.status, f"{exc}\n".encode()), keep_alive=False)
            self.metrics.requests.labels("other", str(int(exc.status))).inc()
            return False
        try:
            endpoint, response = await self._route(request)
            if response.status == HTTPStatus.UNAUTHORIZED:
                self.metrics.auth_failures.inc()
        except Exception:
            log.exception("exporter: %s %s failed", request.method, request.path)
            endpoint, response = "other", Response(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error\n")
            reusable = False
        keep_alive = reusable and request.keep_alive
        sent = await self._send(writer, request, response, keep_alive)
        self.metrics.requests.labels(endpoint, str(int(response.status))).inc()
        self.metrics.response_bytes.labels(endpoint).inc(sent)
        self.metrics.duration.labels(endpoint).observe(time.perf_counter() - started)
        return keep_alive

    async def _send(
        self, writer: asyncio.StreamWriter, request: Request | None, response: Response, keep_alive: bool
    ) -> int:
        body = response.body
        members = response.members
        if members is None:
            length = len(body)
        elif response.inflate:
            length = sum(member_size(member) for member in members)
        else:
            length = sum(len(member) for member in members)
        head = [
            f"HTTP/1.1 {int(response.status)} {response.status.phrase}",
            f"Content-Type: {response.content_type}",
        ]
        if response.compressed and not response.inflate:
            head.append("Content-Encoding: gzip")
        head.append(f"Content-Length: {length}")
        head.extend(f"{name}: {value}" for name, value in response.headers)
        if not keep_alive:
            head.append("Connection: close")
        elif request is not None and request.version == "HTTP/1.0":
            head.append("Connection: keep-alive")
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if request is not None and request.method == "HEAD":
            body, members = b"", None
            length = 0
        if members is None:
            if len(body) < 65536:
                writer.write(payload + body)
            else:
                writer.write(payload)
                writer.write(body)
        else:
            writer.write(payload)
            pending = 0
            for member in members:
                data = zlib.decompress(member, 31) if response.inflate else member
                writer.write(data)
                pending += len(data)
                if pending >= WRITE_CHUNK:  # bounded buffering: wait for the client to read
                    await self._drain(writer)
                    pending = 0
        await self._drain(writer)
        return length

    @staticmethod
    async def _drain(writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(WRITE_TIMEOUT):
                await writer.drain()
        except TimeoutError as exc:
            writer.transport.abort()
            raise ConnectionError("client did not read its response in time") from exc

    # --- endpoints ---------------------------------------------------------------------------------

    async def _route(self, request: Request) -> tuple[str, Response]:
        endpoint, handler = self._routes.get(request.path, ("other", None))
        if self.web is not None and not await self.web.authorized(request.path, request.headers):
            return endpoint, Response(
                HTTPStatus.UNAUTHORIZED,
                b"unauthorized\n",
                headers=(("WWW-Authenticate", 'Basic realm="infrastrand"'),),
            )
        if handler is None:
            return endpoint, Response(HTTPStatus.NOT_FOUND, b"not found\n")
        if request.method not in ("GET", "HEAD"):
            return endpoint, Response(
                HTTPStatus.METHOD_NOT_ALLOWED, b"only GET and HEAD\n", headers=(("Allow", "GET, HEAD"),)
            )
        return endpoint, await handler(request)

    @staticmethod
    def _exposition(body: bytes, fmt: str, compressed: bytes | None) -> Response:
        vary = (("Vary", "Accept, Accept-Encoding"),)
        if compressed is not None:
            return Response(HTTPStatus.OK, compressed, exposition.CONTENT_TYPES[fmt], vary, compressed=True)
        return Response(HTTPStatus.OK, body, exposition.CONTENT_TYPES[fmt], vary)

    async def _snmp(self, request: Request) -> Response:
        targets = request.query.get("target", [])
        if len(targets) != 1 or not targets[0]:
            return Response(HTTPStatus.BAD_REQUEST, b"exactly one 'target' parameter is required\n")
        entry = self.store.get(targets[0])
        if entry is None:
            return Response(HTTPStatus.NOT_FOUND, f"unknown target {targets[0]!r}\n".encode())
        fmt = device_format(request)
        body, compressed = exposition.target_body(entry, fmt, self.clock(), accepts_gzip(request))
        return self._exposition(body, fmt, body if compressed else None)

    async def _snmp_all(self, request: Request) -> Response:
        fmt = device_format(request)

        def gather() -> list[bytes]:
            return exposition.all_members(self.store, fmt, self.clock())

        if self.store.series_count() >= THREAD_MIN_SERIES:
            members = await asyncio.to_thread(gather)
        else:
            members = gather()
        return Response(
            HTTPStatus.OK,
            content_type=exposition.CONTENT_TYPES[fmt],
            headers=(("Vary", "Accept, Accept-Encoding"),),
            compressed=True,
            members=members,
            inflate=not accepts_gzip(request),
        )

    async def _metrics(self, request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        body = encoder(self.registry)
        if accepts_gzip(request) and len(body) >= GZIP_MIN_BYTES:
            return Response(HTTPStatus.OK, exposition.compress(body), content_type, compressed=True)
        return Response(HTTPStatus.OK, body, content_type)

    async def _healthy(self, request: Request) -> Response:
        return Response(HTTPStatus.OK, b"Healthy.\n")

    async def _ready(self, request: Request) -> Response:
        if self.ready():
            return Response(HTTPStatus.OK, b"Ready.\n")
        return Response(HTTPStatus.SERVICE_UNAVAILABLE, b"Not ready: targets not loaded yet.\n")

    async def _index(self, request: Request) -> Response:
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
    ) -> None:
        self.server = Server(store, registry, ready, clock, web)
        self.loop = asyncio.new_event_loop()
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
) -> ServingThread:
    """Serve ``store`` and ``registry`` on ``listen`` (``host:port``; port 0 picks a free one) from a
    thread of its own; ``ready`` is called from that thread.  Stop it with ``stop()``."""
    host, port = parse_listen(listen)
    serving = ServingThread(store, registry, ready, clock=clock, web=web)
    serving.start(host, port)
    return serving
