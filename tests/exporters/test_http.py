"""The exporter's HTTP server over real loopback sockets: endpoints, negotiation, gzip, keep-alive,
malformed requests, limits, and scrapes racing store updates."""

from __future__ import annotations

import gzip
import http.client
import resource
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from collectors.store import MetricFamily, PollResult, SampleStore
from exporters import http as exporter_http
from exporters.exposition import CONTENT_TYPES, OPENMETRICS, TEXT
from tests.exporters.conftest import promtool_check_metrics
from tests.exporters.synthetic import INVENTORY, device_result, filled_store

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)  # what Prometheus 2.42 sends


def connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def get(url: str, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
    conn = connect(url)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class RawClient:
    """A plain socket for requests http.client will not send (pipelined, malformed, slow)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self.file = self.sock.makefile("rb")

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        """One Content-Length framed response."""
        status_line = self.file.readline()
        if not status_line:
            raise ConnectionError("closed before a response")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.lower()] = value.strip()
        return status, headers, self.file.read(int(headers["content-length"]))

    def closed_by_peer(self, timeout: float = 5.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            return self.file.read(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def store() -> SampleStore:
    return filled_store(5, interfaces=3, started=time.time())


def test_target_endpoint_serves_text_with_length(serve, store) -> None:
    server = serve(store)
    status, headers, body = get(server.url, "/snmp?target=dev00001")
    assert status == 200
    assert headers["Content-Type"] == CONTENT_TYPES[TEXT]
    assert int(headers["Content-Length"]) == len(body)
    families = {f.name: f for f in parse_text(body.decode())}
    assert families["infrastrand_device_up"].samples[0].value == 1
    assert len(families["ifHCInOctets"].samples) == 3
    assert b"ifHCInOctets{" in body and b"_total" not in body
    assert b"dev00001" in body  # only via ifAlias: no inventory labels on the per-device endpoint
    assert b"site=" not in body


def test_unknown_target_path_and_method(serve, store) -> None:
    server = serve(store)
    assert get(server.url, "/snmp?target=nope")[0] == 404
    assert get(server.url, "/snmp")[0] == 400
    assert get(server.url, "/snmp?target=a&target=b")[0] == 400
    assert get(server.url, "/nowhere")[0] == 404
    status, headers, _ = get(server.url, "/snmp?target=dev00001", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert get(server.url, "/")[0] == 200


def test_prometheus_accept_header_gets_text_on_device_endpoints(serve, store) -> None:
    server = serve(store)
    for path in ("/snmp?target=dev00000", "/snmp/all"):
        status, headers, body = get(server.url, path, {"Accept": PROMETHEUS_ACCEPT})
        assert status == 200 and headers["Content-Type"] == CONTENT_TYPES[TEXT]
        assert b"\nifHCInOctets{" in body
        status, headers, body = get(
            server.url, path, {"Accept": "application/openmetrics-text; version=1.0.0"}
        )
        assert headers["Content-Type"] == CONTENT_TYPES[OPENMETRICS]
        assert body.endswith(b"# EOF\n") and b"\nifHCInOctets_total{" in body
        assert {f.name for f in parse_openmetrics(body.decode())} >= {"ifHCInOctets", "infrastrand_device_up"}


def test_gzip_when_accepted_and_cached(serve, store) -> None:
    server = serve(store)
    _, _, plain = get(server.url, "/snmp?target=dev00002")
    status, headers, body = get(server.url, "/snmp?target=dev00002", {"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) == len(body) < len(plain)
    assert gzip.decompress(body) == plain
    assert get(server.url, "/snmp?target=dev00002", {"Accept-Encoding": "gzip"})[2] == body
    assert store.get("dev00002").rendered["text:gzip"] == body
    for refused in ("gzip;q=0", "identity", "br"):
        _, headers, body = get(server.url, "/snmp?target=dev00002", {"Accept-Encoding": refused})
        assert "Content-Encoding" not in headers and body == plain
    assert set(store.get("dev00002").rendered) == {"text:gzip"}  # the text is not kept beside it
    _, headers, body = get(server.url, "/snmp/all", {"Accept-Encoding": "*"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body).startswith(b"# HELP")
    _, headers, body = get(server.url, "/metrics", {"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and b"infrastrand_exporter" in gzip.decompress(body)


def test_all_endpoint_has_inventory_labels_off_loop(serve, store, monkeypatch) -> None:
    monkeypatch.setattr(exporter_http, "THREAD_MIN_SERIES", 0)  # render in the worker thread
    server = serve(store)
    status, _, body = get(server.url, "/snmp/all")
    assert status == 200
    families = {f.name: f for f in parse_text(body.decode())}
    devices = {s.labels["device"] for s in families["ifHCInOctets"].samples}
    assert devices == {f"dev{n:05d}" for n in range(5)}
    assert all(s.labels["country"] == INVENTORY["country"] for s in families["infrastrand_device_up"].samples)


def test_keep_alive_reuses_one_connection(serve, store) -> None:
    server = serve(store)
    conn = connect(server.url)
    conn.request("GET", "/snmp?target=dev00000")
    first = conn.getresponse()
    first.read()
    sock = conn.sock
    for path in ("/snmp?target=dev00001", "/-/healthy", "/metrics", "/snmp?target=nope"):
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        assert conn.sock is sock, "connection was not kept alive"
    conn.close()
    _, _, metrics = get(server.url, "/metrics")
    opened = [
        s
        for f in parse_text(metrics.decode())
        for s in f.samples
        if s.name == "infrastrand_exporter_connections"
    ]
    assert opened[0].value == 1  # only the scrape's own connection is open now


def test_pipelined_requests_and_http10(serve, store) -> None:
    server = serve(store)
    sock = RawClient(server.url)
    sock.sendall(
        b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\nGET /snmp?target=dev00003 HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert sock.response()[2] == b"Healthy.\n"
    status, _, body = sock.response()
    assert status == 200 and b"infrastrand_device_up 1" in body
    sock.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    _, headers, _ = sock.response()
    assert headers["connection"] == "close" and sock.closed_by_peer()
    sock = RawClient(server.url)
    sock.sendall(b"GET /-/healthy HTTP/1.0\r\n\r\n")
    assert sock.response()[0] == 200 and sock.closed_by_peer()
    sock = RawClient(server.url)
    sock.sendall(b"GET /-/healthy HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    _, headers, _ = sock.response()
    assert headers["connection"] == "keep-alive"
    sock.sendall(b"GET /-/ready HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert sock.response()[0] == 200
    sock.close()


def test_head_has_length_but_no_body(serve, store) -> None:
    server = serve(store)
    _, _, body = get(server.url, "/snmp?target=dev00004")
    sock = RawClient(server.url)
    sock.sendall(
        b"HEAD /snmp?target=dev00004 HTTP/1.1\r\nHost: x\r\n\r\nGET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert sock.file.readline() == b"HTTP/1.1 200 OK\r\n"
    head = b""
    while (line := sock.file.readline()) != b"\r\n":
        head += line
    assert f"Content-Length: {len(body)}".encode() in head
    assert sock.file.readline() == b"HTTP/1.1 200 OK\r\n"  # the next response follows: no body after HEAD
    sock.close()


@pytest.mark.parametrize(
    "request_bytes, status",
    [
        (b"garbage\r\n\r\n", 400),
        (b"GET /-/healthy HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /-/healthy HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\n bad-fold\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 200 + b"\r\n", 431),
        (b"\xff\xfe / HTTP/1.1\r\n\r\n", 400),
    ],
)
def test_malformed_requests_get_an_error_and_close(serve, store, request_bytes: bytes, status: int) -> None:
    server = serve(store)
    sock = RawClient(server.url)
    sock.sendall(request_bytes)
    assert sock.response()[0] == status
    assert sock.closed_by_peer()
    assert get(server.url, "/-/healthy")[0] == 200  # the server lives on


def test_get_with_small_body_is_drained_and_large_body_closes(serve, store) -> None:
    server = serve(store)
    sock = RawClient(server.url)
    sock.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    sock.sendall(b"GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.response()[2] == b"Healthy.\n"
    assert sock.response()[2] == b"Ready.\n"
    sock.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
    _, headers, _ = sock.response()
    assert headers["connection"] == "close" and sock.closed_by_peer()


def test_slow_and_idle_clients_are_cut_off(serve, store, monkeypatch) -> None:
    monkeypatch.setattr(exporter_http, "HEADER_TIMEOUT", 0.3)
    monkeypatch.setattr(exporter_http, "IDLE_TIMEOUT", 0.5)
    server = serve(store)
    slow = RawClient(server.url)
    slow.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n")  # never finishes its head
    assert slow.response()[0] == 408
    assert slow.closed_by_peer()
    idle = RawClient(server.url)
    started = time.monotonic()
    assert idle.closed_by_peer(timeout=5)
    assert 0.4 < time.monotonic() - started < 4


def test_client_that_does_not_read_is_cut_off(serve, monkeypatch) -> None:
    monkeypatch.setattr(exporter_http, "WRITE_TIMEOUT", 0.5)
    server = serve(filled_store(400, started=time.time()))  # /snmp/all: ~25 MB, more than socket buffers
    sock = RawClient(server.url)
    sock.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"GET /snmp/all HTTP/1.1\r\nHost: x\r\n\r\n")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        metrics = get(server.url, "/metrics")[2].decode()
        if "infrastrand_exporter_connections 1.0" in metrics:  # only the /metrics request's own
            break
        time.sleep(0.2)
    else:
        pytest.fail("the stalled connection was never closed")
    sock.close()


def metric(server, name: str) -> float:
    return server.registry.get_sample_value(name) or 0.0


def test_connection_cap_closes_the_oldest_idle_connection(serve, store, monkeypatch) -> None:
    """Defect 10.8: idle connections at the cap used to lock every new client out (new ones were refused);
    now the connection idle the longest makes room, and only busy connections make a new one wait."""
    monkeypatch.setattr(exporter_http, "MAX_CONNECTIONS", 3)
    server = serve(store)
    held = [RawClient(server.url) for _ in range(3)]
    for sock in held:  # each is accepted and served, then idle, oldest first
        sock.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.response()[0] == 200
    assert get(server.url, "/-/healthy")[0] == 200  # the cap is reached: the oldest idle one makes room
    assert held[0].closed_by_peer()
    assert metric(server, "infrastrand_exporter_evicted_connections_total") >= 1
    held[1].sendall(b"GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n")  # the younger ones still work
    assert held[1].response()[0] == 200
    for sock in held:
        sock.close()


def test_connection_cap_refuses_when_every_connection_is_busy(serve, store, monkeypatch) -> None:
    monkeypatch.setattr(exporter_http, "MAX_CONNECTIONS", 2)
    server = serve(store)
    busy = [RawClient(server.url) for _ in range(2)]
    for sock in busy:  # a request line without the rest of its head: busy, not idle
        sock.sendall(b"GET /-/healthy HTTP/1.1\r\n")
    deadline = time.monotonic() + 20
    while metric(server, "infrastrand_exporter_connections") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    extra = RawClient(server.url)
    assert extra.closed_by_peer()
    assert metric(server, "infrastrand_exporter_rejected_connections_total") >= 1
    for sock in busy:  # finishing the heads answers them
        sock.sendall(b"Host: x\r\n\r\n")
        assert sock.response()[0] == 200
        sock.close()
    extra.close()


def test_fd_limit_raised_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
        assert exporter_http.raise_fd_limit() == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (max(soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0]), hard)
        )


def test_ready_follows_the_callable(serve, store) -> None:
    loaded = threading.Event()
    server = serve(store, ready=loaded.is_set)
    status, _, body = get(server.url, "/-/ready")
    assert status == 503 and b"Not ready" in body
    loaded.set()
    assert get(server.url, "/-/ready")[0] == 200
    assert get(server.url, "/-/healthy")[0] == 200


def test_stale_device_through_the_server(serve) -> None:
    now = [1_800_000_000.0]
    store = SampleStore()
    store.put(device_result("r1", 2, started=now[0], interval=30), {"device": "r1"})
    server = serve(store, clock=lambda: now[0])
    _, _, body = get(server.url, "/snmp?target=r1", {"Accept-Encoding": "gzip"})
    assert b"infrastrand_device_up 1" in gzip.decompress(body)
    now[0] += 61
    _, _, body = get(server.url, "/snmp?target=r1", {"Accept-Encoding": "gzip"})
    text = gzip.decompress(body)
    assert b"infrastrand_device_up 0" in text and b"ifHCInOctets" not in text
    _, _, body = get(server.url, "/snmp/all")
    assert b"ifHCInOctets" not in body and b'infrastrand_device_up{device="r1"} 0' in body


def test_metrics_endpoint_is_promtool_clean_and_counts_scrapes(serve, store) -> None:
    server = serve(store)
    get(server.url, "/snmp?target=dev00000")
    get(server.url, "/snmp?target=missing")
    get(server.url, "/snmp/all")
    status, headers, body = get(server.url, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert promtool_check_metrics(body) == (0, [])
    registry = server.registry
    assert (
        registry.get_sample_value("infrastrand_exporter_requests_total", {"endpoint": "snmp", "code": "200"})
        == 1
    )
    assert (
        registry.get_sample_value("infrastrand_exporter_requests_total", {"endpoint": "snmp", "code": "404"})
        == 1
    )
    sent = registry.get_sample_value("infrastrand_exporter_response_bytes_total", {"endpoint": "snmp_all"})
    assert sent > 1000
    count = registry.get_sample_value(
        "infrastrand_exporter_request_duration_seconds_count", {"endpoint": "snmp"}
    )
    assert count == 2
    assert registry.get_sample_value("process_cpu_seconds_total") is not None
    _, headers, body = get(server.url, "/metrics", {"Accept": PROMETHEUS_ACCEPT})
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    names = {f.name for f in parse_openmetrics(body.decode())}
    assert {"infrastrand_exporter_requests", "infrastrand_exporter_response_bytes"} <= names


def test_two_servers_can_share_a_registry(serve, store) -> None:
    first = serve(store)
    second = serve(store, registry=first.registry)
    assert get(second.url, "/-/healthy")[0] == 200
    assert b"infrastrand_exporter_requests_total" in get(first.url, "/metrics")[2]


def generation_result(device: str, generation: int) -> PollResult:
    """A poll whose every sample carries ``generation``: a torn read would mix generations."""
    rows = [(("ifIndex", str(i)),) for i in range(1, 6)]
    families = tuple(
        MetricFamily.from_samples(
            name, "counter", name, tuple((row, float(generation * 1000 + i)) for i, row in enumerate(rows))
        )
        for name in ("ifHCInOctets", "ifHCOutOctets")
    )
    return PollResult(device, time.time(), 0.01, True, families=families, varbinds=generation, interval=60)


def test_concurrent_scrapes_while_the_store_is_updated(serve) -> None:
    store = SampleStore()
    devices = [f"d{n}" for n in range(20)]
    for name in devices:
        store.put(generation_result(name, 0), {"device": name, "site": "s"})
    server = serve(store)
    stop = threading.Event()
    errors: list[str] = []
    scrapes = [0]

    def writer() -> None:
        generation = 1
        while not stop.is_set() and generation < 100_000:
            for name in devices:
                store.put(generation_result(name, generation), {"device": name, "site": "s"})
            generation += 1
            time.sleep(0.001)

    def check(body: bytes, fmt_all: bool) -> None:
        by_device: dict[str, set[int]] = {}
        for family in parse_text(body.decode()):
            for sample in family.samples:
                device = sample.labels.get("device", "one")
                if family.name.startswith("ifHC"):
                    by_device.setdefault(device, set()).add(int(sample.value) // 1000)
                if family.name == "infrastrand_device_up" and sample.value != 1:
                    errors.append(f"down: {sample}")
        if not by_device or any(len(g) != 1 for g in by_device.values()):
            errors.append(f"torn or empty read: {by_device}")
        if fmt_all and len(by_device) != len(devices):
            errors.append(f"missing devices: {sorted(by_device)}")

    def scraper(index: int) -> None:
        conn = connect(server.url)
        deadline = time.monotonic() + 3
        n = 0
        while time.monotonic() < deadline and n < 400 and not errors:
            path = "/snmp/all" if n % 5 == 0 else f"/snmp?target={devices[(index + n) % len(devices)]}"
            conn.request("GET", path, headers={"Accept-Encoding": "gzip" if n % 2 else "identity"})
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                errors.append(f"{path}: {response.status}")
                break
            if response.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            check(body, path == "/snmp/all")
            n += 1
        scrapes[0] += n
        conn.close()

    update = threading.Thread(target=writer)
    update.start()
    scrapers = [threading.Thread(target=scraper, args=(i,)) for i in range(8)]
    for thread in scrapers:
        thread.start()
    for thread in scrapers:
        thread.join(timeout=30)
    stop.set()
    update.join(timeout=10)
    assert errors == []
    assert scrapes[0] > 50


@pytest.mark.parametrize(
    "listen, expected",
    [("127.0.0.1:9781", ("127.0.0.1", 9781)), ("[::1]:0", ("::1", 0)), (":9781", ("127.0.0.1", 9781))],
)
def test_parse_listen(listen: str, expected: tuple[str, int]) -> None:
    assert exporter_http.parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ""])
def test_parse_listen_rejects(listen: str) -> None:
    with pytest.raises(ValueError, match="not host:port"):
        exporter_http.parse_listen(listen)


def test_ipv6_loopback(serve, store) -> None:
    server = serve(store, listen="[::1]:0")
    assert server.url.startswith("http://[::1]:")
    assert get(server.url, "/snmp?target=dev00000")[0] == 200
