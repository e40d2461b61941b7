"""The collector's HTTP server: a small HTTP/1.1 server on asyncio streams serving the exposition.

Endpoints (DEVELOPERS.md contract 4): ``/snmp?target=<device>``, ``/snmp/all``, ``/metrics``,
``/-/healthy``, ``/-/ready``.  GET and HEAD only; keep-alive (HTTP/1.1 by default, HTTP/1.0 on request),
``Content-Length`` always, gzip at level 1 when ``Accept-Encoding`` allows it, bounded request heads
(size, header count, header timeout, idle timeout) and a bounded number of connections.

Content negotiation: ``/metrics`` follows prometheus_client (OpenMetrics when the ``Accept`` header asks
for it).  The device endpoints prefer the text format and answer OpenMetrics only to a client that does
not accept text: Prometheus asks for OpenMetrics first, and OpenMetrics would turn snmp_exporter's
``ifHCInOctets`` into the series ``ifHCInOctets_total``, breaking the names of contract 4.

A device's body is cached gzip-compressed in ``StoreEntry.rendered`` (``exposition.target_body``), so
a repeated scrape of an unchanged poll costs a dict lookup.  ``/snmp/all`` bodies above
``THREAD_MIN_SERIES`` series are merged and compressed in a worker thread: the collector's event loop
keeps polling meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder

from collectors.store import SampleStore
from exporters import exposition

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 16 * 1024
MAX_HEADERS = 100
MAX_BODY_BYTES = 64 * 1024  # a GET body is read and dropped up to this size; larger closes the connection
HEADER_TIMEOUT = 10.0  # seconds to send the rest of a request head once its first line arrived
IDLE_TIMEOUT = 75.0  # seconds a keep-alive connection may wait for its next request
WRITE_TIMEOUT = 60.0  # seconds a client may take to read a response before it is cut off
MAX_CONNECTIONS = 1024
GZIP_MIN_BYTES = 512  # /snmp/all and /metrics bodies shorter than this are sent uncompressed
THREAD_MIN_SERIES = 20_000  # /snmp/all bodies of more series are rendered and compressed off the loop

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
    compressed: bool = False  # body is already gzip-encoded


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
            "Connections closed at once because the exporter already had its maximum open.",
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
    ) -> None:
        self.store = store
        self.registry = registry
        self.ready = ready
        self.clock = clock
        self.metrics = ExporterMetrics.for_registry(registry)
        self._server: asyncio.base_events.Server | None = None
        self._connections: dict[asyncio.Task, asyncio.StreamWriter] = {}
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
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def _sockname(self) -> tuple:
        assert self._server is not None, "server not started"
        return self._server.sockets[0].getsockname()

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._connection, host, port, limit=MAX_HEAD_BYTES)

    def close(self) -> None:
        """Stop listening and end every open connection (a response being written is cut short)."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._connections.values()):
            writer.transport.abort()

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

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._connections) >= MAX_CONNECTIONS:
            self.metrics.rejected.inc()
            writer.close()
            return
        self._connections[task] = writer
        self.metrics.connections.inc()
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # closing: end quietly (3.11's stream callback would log a cancelled handler as an error)
        finally:
            self._connections.pop(task, None)
            self.metrics.connections.dec()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_head(self, reader: asyncio.StreamReader) -> list[bytes] | None:
        """The head's lines, or None when the client closed or idled out between requests."""
        try:
            async with asyncio.timeout(IDLE_TIMEOUT):
                first = await reader.readuntil(b"\n")
        except (TimeoutError, asyncio.IncompleteReadError):
            return None
        except asyncio.LimitOverrunError as exc:
            raise BadRequest(HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long") from exc
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

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; True to keep the connection for another."""
        try:
            lines = await self._read_head(reader)
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
        head = [
            f"HTTP/1.1 {int(response.status)} {response.status.phrase}",
            f"Content-Type: {response.content_type}",
        ]
        if response.compressed:
            head.append("Content-Encoding: gzip")
        head.append(f"Content-Length: {len(body)}")
        head.extend(f"{name}: {value}" for name, value in response.headers)
        if not keep_alive:
            head.append("Connection: close")
        elif request is not None and request.version == "HTTP/1.0":
            head.append("Connection: keep-alive")
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if request is not None and request.method == "HEAD":
            body = b""
        if len(body) < 65536:
            writer.write(payload + body)
        else:
            writer.write(payload)
            writer.write(body)
        try:
            async with asyncio.timeout(WRITE_TIMEOUT):
                await writer.drain()
        except TimeoutError as exc:
            writer.transport.abort()
            raise ConnectionError("client did not read its response in time") from exc
        return len(body)

    # --- endpoints ---------------------------------------------------------------------------------

    async def _route(self, request: Request) -> tuple[str, Response]:
        endpoint, handler = self._routes.get(request.path, ("other", None))
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
        gzip_it = accepts_gzip(request)

        def render() -> tuple[bytes, bytes | None]:
            body = exposition.render_all(self.store, fmt, self.clock())
            return body, exposition.compress(body) if gzip_it and len(body) >= GZIP_MIN_BYTES else None

        if self.store.series_count() >= THREAD_MIN_SERIES:
            body, compressed = await asyncio.to_thread(render)
        else:
            body, compressed = render()
        return self._exposition(body, fmt, compressed)

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


async def start_http(
    store: SampleStore,
    registry: CollectorRegistry,
    listen: str,
    ready: Callable[[], bool],
    *,
    clock: Callable[[], float] = time.time,
) -> Server:
    """Start serving ``store`` and ``registry`` on ``listen`` (``host:port``; port 0 picks a free one)."""
    host, port = parse_listen(listen)
    server = Server(store, registry, ready, clock)
    await server.start(host, port)
    return server
