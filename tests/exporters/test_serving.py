"""Issue 10, defects 8 and 9: serving is off the polling loop, stays answerable under 200 concurrent
scrapers and 1,100 idle connections, and streams ``/snmp/all`` without building the body."""

from __future__ import annotations

import asyncio
import gzip
import http.client
import socket
import sys
import threading
import time
import tracemalloc

import pytest
import uvloop
from prometheus_client import CollectorRegistry

from collectors import __main__ as collector_main
from collectors import runtime
from exporters import http as exporter_http
from tests.exporters.synthetic import filled_store
from tests.exporters.test_http import connect, get

IDLE_CONNECTIONS = 1_100
SCRAPERS = 200


def test_serving_answers_while_the_polling_loop_is_blocked() -> None:
    """The collector starts the server from its polling loop; a stalled loop (a long CPU-bound step)
    must not stall ``/-/healthy`` or ``/metrics``, and requests must not run on the polling thread."""
    store = filled_store(3, interfaces=2, started=time.time())
    registry = CollectorRegistry()
    args = collector_main.parse_args(["--targets-file", "unused.yaml", "--listen", "127.0.0.1:0"])
    ready_threads: set[int] = set()

    def ready() -> bool:
        ready_threads.add(threading.get_ident())
        return True

    answers: list[object] = []

    async def collector_loop() -> None:
        serving = collector_main.start_http(store, registry, args, ready)
        try:

            def scrape() -> None:
                try:
                    for path in ("/-/healthy", "/metrics", "/-/ready", "/snmp?target=dev00001"):
                        answers.append(get(serving.url, path)[0])
                except OSError as exc:
                    answers.append(exc)

            client = threading.Thread(target=scrape)
            client.start()
            client.join(timeout=60)  # blocks the polling loop the whole time the client scrapes
        finally:
            serving.stop()

    polling_thread = threading.get_ident()
    asyncio.run(collector_loop())
    assert answers == [200, 200, 200, 200]
    assert ready_threads and polling_thread not in ready_threads


def test_answerable_with_200_scrapers_and_1100_idle_connections(serve) -> None:
    exporter_http.raise_fd_limit()  # 1,100 client plus 1,100 server sockets live in this process
    store = filled_store(20, interfaces=4, started=time.time())
    server = serve(store)
    host, port = server.server.host, server.server.port
    idle: list[socket.socket] = []
    stop = threading.Event()
    failures: list[str] = []
    scraped = [0] * SCRAPERS
    started = threading.Barrier(SCRAPERS + 1, timeout=120)

    def scraper(index: int) -> None:
        try:
            conn = connect(server.url)
            conn.timeout = 60
            started.wait()
            for n in range(50):  # bounded; stops once the checks below are done
                if stop.is_set():
                    break
                conn.request(
                    "GET", f"/snmp?target=dev{(index + n) % 20:05d}", headers={"Accept-Encoding": "gzip"}
                )
                response = conn.getresponse()
                if response.status != 200:
                    failures.append(f"scraper {index}: {response.status}")
                gzip.decompress(response.read())
                scraped[index] += 1
            conn.close()
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError) as exc:
            failures.append(f"scraper {index}: {exc!r}")

    try:
        for _ in range(IDLE_CONNECTIONS):  # connect and never send a byte
            idle.append(socket.create_connection((host, port), timeout=30))
        threads = [threading.Thread(target=scraper, args=(i,)) for i in range(SCRAPERS)]
        for thread in threads:
            thread.start()
        started.wait()
        for _ in range(5):
            for path in ("/-/healthy", "/metrics"):
                status, _headers, body = get(server.url, path)
                assert status == 200, (path, status)
                assert body
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        stop.set()
        for sock in idle:
            sock.close()
    assert failures == []
    assert sum(scraped) >= SCRAPERS  # every scraper got at least one answer
    assert server.registry.get_sample_value("infrastrand_exporter_rejected_connections_total") == 0


def test_snmp_all_is_streamed_not_built(serve) -> None:
    """Defect 9: a warm ``/snmp/all`` scrape allocates far less than its body (the old code joined the
    whole body, then compressed it: at 2 M series 1.18 GB peak)."""
    store = filled_store(150, interfaces=10, started=time.time())  # 30,000 series
    server = serve(store)
    _status, _headers, first = get(server.url, "/snmp/all")  # renders and caches every device's members
    body_size = len(first)
    assert first.count(b"\nifHCInOctets{") == 150 * 10
    tracemalloc.start()
    try:
        for encoding in ("identity", "gzip"):
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            status, headers, body = get(server.url, "/snmp/all", {"Accept-Encoding": encoding})
            peak = tracemalloc.get_traced_memory()[1] - base
            assert status == 200
            if encoding == "gzip":
                assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == first
            else:
                assert body == first and int(headers["Content-Length"]) == body_size
            # the client's own copy of the body is in the peak too: the server adds well under one more
            assert peak < len(body) + body_size // 2, (encoding, peak, len(body), body_size)
    finally:
        tracemalloc.stop()


def test_collector_tunes_the_gil_switch_interval_at_start(tmp_path, monkeypatch) -> None:
    """Issue 10.8, ``/-/healthy`` p99 beside a GIL-busy polling thread: every GIL hand-over to the
    serving thread waited up to CPython's 5 ms switch interval; ``python -m collectors`` sets a shorter
    one before its loop runs (``--switch-interval``, default ``runtime.SWITCH_INTERVAL``)."""
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets: []\n")
    seen: list[tuple[float, str]] = []

    def run_loop(main, loop: str = "auto") -> int:
        seen.append((sys.getswitchinterval(), loop))
        main.close()  # the collector's loop is not what this test is about
        return 0

    monkeypatch.setattr(collector_main, "tune_gc", lambda: None)  # no gc.freeze() in the test process
    monkeypatch.setattr(collector_main, "run_loop", run_loop)
    before = sys.getswitchinterval()
    try:
        assert collector_main.main(["--targets-file", str(targets), "--listen", "127.0.0.1:0"]) == 0
        assert seen == [(runtime.SWITCH_INTERVAL, "auto")]
        assert runtime.SWITCH_INTERVAL <= 0.002 < before
        collector_main.main(["--targets-file", str(targets), "--switch-interval", "0.001"])
        assert seen[-1][0] == 0.001
        with pytest.raises(SystemExit) as exit_:  # a usage error, not a ValueError traceback
            collector_main.parse_args(["--targets-file", str(targets), "--switch-interval", "0"])
        assert exit_.value.code == 2
    finally:
        sys.setswitchinterval(before)


def test_serving_loop_is_the_runners_kind() -> None:
    """Issue 10.8: the serving thread runs uvloop when the runner does (``--event-loop auto``, uvloop is
    a dependency): its system calls run in C and it takes the GIL once per batch of callbacks, where
    asyncio's selector loop gives the GIL up around every accept, recv, send, close and epoll call (each
    a wait of up to a switch interval beside a busy polling thread).  ``--event-loop asyncio`` keeps
    asyncio's loop for both, and the server answers on either."""
    store = filled_store(2, interfaces=2, started=time.time())
    for choice, kind in (("auto", uvloop.Loop), ("asyncio", asyncio.BaseEventLoop)):
        args = collector_main.parse_args(
            ["--targets-file", "unused.yaml", "--listen", "127.0.0.1:0", "--event-loop", choice]
        )
        serving = collector_main.start_http(store, CollectorRegistry(), args, lambda: True)
        try:
            assert isinstance(serving.loop, kind), (choice, type(serving.loop))
            for path in ("/-/healthy", "/metrics", "/snmp?target=dev00001"):
                assert get(serving.url, path)[0] == 200, (choice, path)
        finally:
            serving.stop()
