"""Exporter serving benchmark (issues 10.8/10.9 and 18.1).

1. Per-device scrapes over keep-alive connections, plain HTTP vs TLS + basic auth vs TLS + client
   certificate + basic auth (and, for reference, a new TLS connection per scrape): the serving thread's
   CPU per scrape (``ServingThread.cpu_seconds``; the scraper is another process) and latency p50/p99,
   in interleaved rounds (a busy host slows every scenario alike), best and median round, and the cipher
   suite negotiated.  The scraper offers TLS 1.3 suites in Go's order (AES-128-GCM first, as Prometheus
   does on AES hardware; an OpenSSL config in its environment) or in Python's (AES-256-GCM first); new
   connections with a full handshake and with a resumed session are separate rows.  Then the real
   scraper: Prometheus 2.42 scraping a plain and a TLS + basic auth server at once, each device every
   second (scrapes apart, as in production, rather than back to back), in 9 windows of 10 s: the median
   of the windows' ratios and their range, and the TLS handshakes while measured (0: keep-alive held).
   Goal: TLS + basic auth ≤ 20 % more CPU per scrape than plain, with keep-alive.
   Then where the TLS µs go, in process over memory BIOs (no sockets, :func:`tls_breakdown`): the
   request's decryption, ``SSLObject.write`` of the response with the outgoing BIO read, the copy of
   head + body that plain makes too, with warm and with cold caches; over a loopback TCP connection, plain
   vs memory BIOs + one send vs ``SSLSocket`` (TLS on the socket: a send per 16 KiB record); and AES-GCM of
   the body alone with the OpenSSL that Python's ``ssl`` uses (``openssl speed``) and with the newer one
   inside ``cryptography``.  Then instructions per keep-alive scrape under callgrind (load-independent;
   ``--no-callgrind`` skips these few minutes).
2. ``/snmp/all`` at 2 M series, scraped from another process: wall and this process's CPU of a cold
   scrape (every device rendered) and warm ones, RSS before/peak/after (peak = VmHWM, reset before each
   scrape), and the lateness of a stand-in polling loop (its own thread, 5 ms ticks) meanwhile.
   Goal: ≤ 50 MB extra at 2 M series.

3. ``/-/healthy`` under HTTP load (issue 10.8): 200 keep-alive scrapers hammering ``/snmp?target=`` and
   1,100 idle connections (one load process), a probe process opening a new connection for
   ``/-/healthy`` every 50 ms (what a health checker does); p50/p99/max of the probe, scrapes served.
   Once with the serving thread alone, once beside a stand-in polling thread that keeps the GIL busy
   (pure-Python work, as the collector's polling loop does), both as the runner serves (uvloop, its GIL
   switch interval), and beside the stand-in as before (asyncio's loop, CPython's 5 ms interval).
   Goal: p99 ≤ 50 ms.

Run: ``python -m tests.bench.web_bench [--quick] [--tls-only] [--no-callgrind]``.  Every loop is bounded in
count and time.  Every section prints the load average it ran under.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.client
import itertools
import os
import resource
import select
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import bcrypt
import yaml
from prometheus_client import CollectorRegistry

from collectors.runtime import SWITCH_INTERVAL
from exporters import webconfig
from exporters.http import serve
from tests.certs import Authority
from tests.exporters.synthetic import filled_store

PASSWORD = "bench-password"
MiB = 1024 * 1024


FRESH = 86_400.0
"""The synthetic devices' poll interval: their bodies stay those of up 48-port switches for the whole bench
(at 60 s a store turned stale two minutes after it was filled, and later rounds served small bodies)."""


def pki(directory: Path) -> dict:
    ca = Authority(directory, "collectors")
    clients = Authority(directory, "clients")
    ca.issue("collector", server=True)
    return {"ca": ca, "client": clients.issue("prometheus", server=False)}


def web_config(directory: Path, *, tls: bool, mtls: bool, auth: bool) -> webconfig.WebConfig | None:
    if not (tls or auth):
        return None
    config: dict = {}
    if tls:
        config["tls_server_config"] = {"cert_file": "collector.crt", "key_file": "collector.key"}
        if mtls:
            config["tls_server_config"] |= {
                "client_ca_file": "clients-ca.crt",
                "client_auth_type": "RequireAndVerifyClientCert",
            }
    if auth:  # cost 10, as a production hash: only the first scrape pays it
        config["basic_auth_users"] = {
            "prometheus": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()
        }
    path = directory / f"web-{int(tls)}{int(mtls)}{int(auth)}.yml"
    path.write_text(yaml.safe_dump(config))
    return webconfig.load(path)


GO_TLS13_ORDER = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"
"""The TLS 1.3 suites in the order a Go client (Prometheus) offers them on AES hardware."""


def openssl_conf(directory: Path, order: str) -> Path:
    """An OpenSSL config giving a process's TLS contexts the TLS 1.3 suite ``order`` (Python has no API
    for it)."""
    path = directory / f"openssl-{order.split(':')[0]}.cnf"
    path.write_text(
        "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = defaults\n"
        f"[defaults]\nCiphersuites = {order}\n"
    )
    return path


class ResumingHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection that offers the TLS session of the previous one (``session``)."""

    session: ssl.SSLSession | None = None

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host, session=self.session)


def client(argv: Sequence[str]) -> None:
    """Child process: a scraper over one connection (``keep`` 1) or a new one per scrape (``keep`` 0;
    ``resume``: offering the previous connection's TLS session).  Warms every device once, prints
    ``ready <cipher>``, then for each ``go`` line scrapes ``n`` times and prints
    ``done <p50 ms> <p99 ms> <connections resumed>``; ends at stdin EOF."""
    host, port, scheme, ca, cert, key, auth, n, keep, devices = argv
    ctx = None
    if scheme == "https":
        ctx = ssl.create_default_context(cafile=ca)
        if cert != "-":
            ctx.load_cert_chain(cert, key)

    def connect() -> http.client.HTTPConnection:
        if ctx is None:
            return http.client.HTTPConnection(host, int(port), timeout=60)
        if keep == "resume":
            return ResumingHTTPS(host, int(port), context=ctx, timeout=60)
        return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=60)

    headers = {"Accept-Encoding": "gzip", **({"Authorization": auth} if auth != "-" else {})}
    names = [f"dev{i:05d}" for i in range(int(devices))]
    conn = connect()
    for name in names:
        conn.request("GET", f"/snmp?target={name}", headers=headers)
        conn.getresponse().read()
    cipher = conn.sock.cipher()[0] if ctx is not None else "-"
    print(f"ready {cipher}", flush=True)
    for _round in range(1000):
        if not sys.stdin.readline():
            break
        latencies = []
        resumed = 0
        for i in range(int(n)):
            if keep != "1":
                if isinstance(conn, ResumingHTTPS):  # TLS 1.3 tickets arrive with the first response
                    ResumingHTTPS.session = conn.sock.session
                conn.close()
                conn = connect()
            started = time.perf_counter()
            conn.request("GET", f"/snmp?target={names[i % len(names)]}", headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                raise SystemExit(f"HTTP {response.status}")
            resumed += ctx is not None and keep != "1" and conn.sock.session_reused
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"done {statistics.median(latencies) * 1e3:.3f} {p99 * 1e3:.3f} {resumed}", flush=True)


def start_scraper(address: tuple[str, int], directory: Path, material: dict, *, tls: bool, mtls: bool,
                  auth: bool, keep: str, order: str | None, scrapes: int, devices: int) -> tuple:  # fmt: skip
    """A :func:`client` process scraping ``address`` (warmed up); returns it and the cipher negotiated."""
    header = "Basic " + base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
    client_cert = material["client"] if mtls else None
    cert, key = (str(client_cert.cert_file), str(client_cert.key_file)) if client_cert else ("-", "-")
    argv = [
        address[0], str(address[1]), "https" if tls else "http", str(material["ca"].cert_file), cert, key,
        header if auth else "-", str(scrapes), keep, str(devices),
    ]  # fmt: skip
    env = dict(os.environ)
    if order is not None:
        env["OPENSSL_CONF"] = str(openssl_conf(directory, order))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.web_bench", "--client", *argv],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    ready = proc.stdout.readline().split()
    if ready[:1] != ["ready"]:
        proc.kill()
        proc.wait(timeout=60)
        raise RuntimeError("scraper did not start")
    return proc, ready[1]


class Scenario:
    """A server with one web config and its scraper process; ``round()`` measures one batch."""

    def __init__(self, store, directory: Path, material: dict, *, tls: bool, mtls: bool, auth: bool,
                 keep: str, order: str | None, scrapes: int) -> None:  # fmt: skip
        self.scrapes = scrapes
        web = web_config(directory, tls=tls, mtls=mtls, auth=auth)
        self.serving = serve(store, CollectorRegistry(), "127.0.0.1:0", lambda: True, web=web)
        try:
            self.proc, self.cipher = start_scraper(
                (self.serving.server.host, self.serving.server.port), directory, material, tls=tls,
                mtls=mtls, auth=auth, keep=keep, order=order, scrapes=scrapes, devices=len(store.devices()),
            )  # fmt: skip
        except BaseException:
            self.serving.stop()
            raise
        self.cpu_us: list[float] = []
        self.p50: list[float] = []
        self.p99: list[float] = []
        self.resumed = 0

    def round(self) -> None:
        cpu0 = self.serving.cpu_seconds()
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "done":
            raise RuntimeError(f"scraper failed: {line}")
        self.cpu_us.append((self.serving.cpu_seconds() - cpu0) / self.scrapes * 1e6)
        self.p50.append(float(line[1]))
        self.p99.append(float(line[2]))
        self.resumed += int(line[3])

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.serving.stop()


SCENARIOS = (  # name, tls, mtls, basic auth, connection (1 keep-alive, 0 new, resume), TLS 1.3 order
    ("plain HTTP, keep-alive", False, False, False, "1", None),
    ("TLS + basic auth, keep-alive (Go's order)", True, False, True, "1", GO_TLS13_ORDER),
    ("TLS + basic auth, keep-alive (Python's order)", True, False, True, "1", None),
    ("TLS + client cert + basic auth, keep-alive", True, True, True, "1", GO_TLS13_ORDER),
    ("TLS + basic auth, new connection, full handshake", True, False, True, "0", GO_TLS13_ORDER),
    ("TLS + basic auth, new connection, resumed", True, False, True, "resume", GO_TLS13_ORDER),
)


def bench_tls(quick: bool) -> list[str]:
    # 1,920 series a device (a 48-port switch)
    store = filled_store(20, interfaces=96, started=time.time(), interval=FRESH)
    scrapes, rounds = (100, 2) if quick else (1000, 9)
    lines = [
        f"per-device scrape, scraper in its own process ({len(store)} devices x 1,920 series, cached gzip),",
        f"{rounds} interleaved rounds of {scrapes} scrapes (a tenth on new connections); "
        "serving-thread CPU µs per scrape:",
        f"  {'scenario':48s} {'best':>7s} {'median':>7s} {'x plain':>13s} {'p50 ms':>6s} {'p99 ms':>6s}"
        "  cipher",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        material = pki(directory)
        scenarios: dict[str, Scenario] = {}
        try:
            for name, tls, mtls, auth, keep, order in SCENARIOS:
                count = scrapes if keep == "1" else max(20, scrapes // 10)
                scenarios[name] = Scenario(
                    store, directory, material, tls=tls, mtls=mtls, auth=auth, keep=keep, order=order,
                    scrapes=count,
                )  # fmt: skip
            deadline = time.monotonic() + 600
            for _ in range(rounds):  # interleaved: a busy host slows every scenario alike
                if time.monotonic() > deadline:
                    break
                for scenario in scenarios.values():
                    scenario.round()
        finally:
            for scenario in scenarios.values():
                scenario.close()
        plain = scenarios[SCENARIOS[0][0]].cpu_us
        for name, sc in scenarios.items():
            best, median = min(sc.cpu_us), statistics.median(sc.cpu_us)
            ratio = f"{best / min(plain):.2f}/{median / statistics.median(plain):.2f}"
            resumed = f", {sc.resumed} resumed" if sc.resumed else ""
            lines.append(
                f"  {name:48s} {best:7.1f} {median:7.1f} {ratio:>13s} {statistics.median(sc.p50):6.2f} "
                f"{statistics.median(sc.p99):6.2f}  {sc.cipher}{resumed}"
            )
    lines.append("  (x plain: best/best and median/median)")
    lines.append("  goal: TLS + basic auth with keep-alive <= 1.20 x plain CPU per scrape")
    return lines


def _best_us(work: Callable[[], object], count: int, rounds: int = 7) -> float:
    """Process CPU µs per call of ``work``, best of ``rounds`` runs of ``count`` calls."""
    best = float("inf")
    for _ in range(rounds):
        cpu0 = time.process_time()
        for _ in range(count):
            work()
        best = min(best, (time.process_time() - cpu0) / count * 1e6)
    return best


def breakdown_child(argv: Sequence[str]) -> None:
    """Child process (its OpenSSL config picks the TLS 1.3 suite): the server side of a keep-alive TLS
    scrape over memory BIOs, as :class:`exporters.http.HttpConnection` does it, part by part; prints
    ``<cipher> hot|cold <request µs> <head+body copy µs> <response µs>``, with warm caches and with 8 MiB
    touched between scrapes (what the serving thread meets after the client, the polling loop and others
    ran)."""
    directory, body_size, count = Path(argv[0]), int(argv[1]), int(argv[2])
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    server.load_cert_chain(directory / "collector.crt", directory / "collector.key")
    client_ctx = ssl.create_default_context(cafile=directory / "collectors-ca.crt")
    s_in, s_out, c_in, c_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = server.wrap_bio(s_in, s_out, server_side=True)
    cli = client_ctx.wrap_bio(c_in, c_out, server_hostname="localhost")
    for _ in range(10):  # handshake: bounded, 2 round trips are enough
        for side in (cli, srv):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    request = (
        b"GET /snmp?target=dev00001 HTTP/1.1\r\nHost: 127.0.0.1:9116\r\nUser-Agent: Prometheus/2.42.0\r\n"
        b"Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n"
        b"Authorization: Basic cHJvbWV0aGV1czpiZW5jaC1wYXNzd29yZA==\r\n\r\n"
    )
    records = []
    for _ in range(count * 8):
        cli.write(request)
        records.append(c_out.read())
    with contextlib.suppress(ssl.SSLWantReadError):  # session tickets
        srv.read(65536)
    s_out.read()
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
        + (
            f"Content-Encoding: gzip\r\nContent-Length: {body_size}\r\nVary: Accept, Accept-Encoding\r\n\r\n"
        ).encode()
    )
    body = os.urandom(body_size)  # gzip is about as incompressible
    pending = iter(records)
    clock = time.thread_time_ns
    overhead = min(-clock() + clock() for _ in range(1000))  # a clock read, subtracted from each part
    junk = bytearray(8 * MiB)
    for cold in (False, True):
        parts = [0, 0, 0]  # request in, head+body copy, response out (ns)
        for _ in range(count):
            if cold:  # touch 8 MiB between scrapes, as the polling loop, the scraper and others do
                junk[::64] = b"\x01" * (len(junk) // 64)
            t0 = clock()
            s_in.write(next(pending))
            srv.read(65536)
            t1 = clock()
            data = head + body
            t2 = clock()
            srv.write(data)
            s_out.read()
            t3 = clock()
            parts[0] += t1 - t0 - overhead
            parts[1] += t2 - t1 - overhead
            parts[2] += t3 - t2 - overhead
        print(
            srv.cipher()[0], "cold" if cold else "hot", *(f"{x / count / 1e3:.2f}" for x in parts), flush=True
        )
    sockets = socket_paths(server, client_ctx, request, head + body, count)
    print("socket", *(f"{sockets[path]:.2f}" for path in ("plain", "memory BIOs", "SSLSocket")), flush=True)


def socket_paths(
    server: ssl.SSLContext, client_ctx: ssl.SSLContext, request: bytes, response: bytes, count: int
) -> dict[str, float]:
    """Server-side thread CPU µs per keep-alive scrape over a loopback TCP connection (receive the request,
    send the response; the client runs in this thread between them, untimed): plain, TLS over memory BIOs
    with one send (as ``exporters.http``), and TLS on the socket (``SSLSocket``: OpenSSL sends each 16 KiB
    record by itself)."""
    clock = time.thread_time_ns
    result = {}

    def handshake(raw: socket.socket, peer: dict[str, ssl.SSLSocket]) -> None:
        peer["c"] = client_ctx.wrap_socket(raw, server_hostname="localhost")

    for path in ("plain", "memory BIOs", "SSLSocket"):
        with socket.create_server(("127.0.0.1", 0)) as listener:
            raw_client = socket.create_connection(listener.getsockname(), timeout=30)
            raw_server, _ = listener.accept()
        raw_server.settimeout(30)
        peer: dict[str, ssl.SSLSocket] = {}
        shaker = threading.Thread(target=handshake, args=(raw_client, peer))
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = server.wrap_bio(incoming, outgoing, server_side=True)
        sock: socket.socket = raw_server
        if path != "plain":
            shaker.start()
            if path == "SSLSocket":
                sock = server.wrap_socket(raw_server, server_side=True)
            else:
                for _ in range(10):  # bounded: two flights
                    try:
                        tls.do_handshake()
                        break
                    except ssl.SSLWantReadError:
                        raw_server.sendall(outgoing.read())
                        incoming.write(raw_server.recv(65536))
                raw_server.sendall(outgoing.read())
            shaker.join(timeout=30)
        client = peer.get("c", raw_client)
        total = 0
        for _ in range(count):
            client.sendall(request)
            if path == "memory BIOs":
                data = raw_server.recv(65536)
                t0 = clock()
                incoming.write(data)
                tls.read(65536)
                tls.write(response)
                raw_server.send(outgoing.read())
            else:
                select.select([sock], [], [], 30)
                t0 = clock()
                sock.recv(65536)
                sock.sendall(response)
            total += clock() - t0
            received = 0
            for _ in range(10_000):  # bounded: the response in pieces
                if received >= len(response):
                    break
                received += len(client.recv(65536))
        client.close()
        sock.close()
        result[path] = total / count / 1e3
    return result


def openssl_speed_us(cipher: str, size: int) -> float | None:
    """CPU µs to encrypt ``size`` bytes with the system OpenSSL (the library Python's ``ssl`` links),
    from ``openssl speed`` on 16 KiB blocks (TLS records)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["openssl", "speed", "-seconds", "1", "-evp", cipher, "-bytes", "16384"],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        kbytes_per_s = float(out.strip().splitlines()[-1].split()[-1].rstrip("k"))
        return size / (kbytes_per_s * 1000) * 1e6
    return None


def tls_breakdown(quick: bool) -> list[str]:
    from cryptography.hazmat.backends.openssl.backend import backend
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    size = 32_500  # the cached gzip body of one 1,920-series device
    count = 200 if quick else 2000
    lines = [
        f"where a keep-alive TLS scrape's µs go (server side, memory BIOs, {size:,}-byte body, thread CPU µs,"
        f" mean of {count}; cold: 8 MiB touched between scrapes):",
        f"  {'cipher':24s} {'caches':6s} {'request in':>10s} {'response out':>12s} "
        f"{'(head+body copy, plain too)':>28s}",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        pki(directory)
        for order in (GO_TLS13_ORDER, None):
            env = dict(os.environ)
            if order is not None:
                env["OPENSSL_CONF"] = str(openssl_conf(directory, order))
            out = subprocess.run(
                [sys.executable, "-m", "tests.bench.web_bench", "--breakdown", str(directory), str(size),
                 str(count)],
                capture_output=True, text=True, timeout=600, check=True, env=env,
            ).stdout  # fmt: skip
            for row in out.splitlines():
                if row.startswith("socket "):
                    plain, bios, sslsocket = row.split()[1:]
                    cipher = lines[-1].split()[0]
                    lines.append(
                        f"  {cipher:24s} over loopback TCP, request + response: plain {plain}, "
                        f"memory BIOs + one send {bios}, SSLSocket (a send per record) {sslsocket}"
                    )
                    continue
                cipher, caches, request_in, copy, response_out = row.split()
                lines.append(f"  {cipher:24s} {caches:6s} {request_in:>10s} {response_out:>12s} {copy:>28s}")
    system = []
    for bits in (128, 256):
        us = openssl_speed_us(f"aes-{bits}-gcm", size)
        system.append(f"{bits}-bit {us:.2f} µs" if us is not None else f"{bits}-bit ?")
    lines.append(
        f"  AES-GCM of the body alone, {ssl.OPENSSL_VERSION} (Python's ssl), openssl speed: "
        + ", ".join(system)
    )
    body = os.urandom(size)
    nonce = os.urandom(12)
    newer = []
    for bits in (128, 256):
        aead = AESGCM(os.urandom(bits // 8))
        newer.append(f"{bits}-bit {_best_us(lambda a=aead: a.encrypt(nonce, body, None), count):.2f} µs")
    lines.append(
        f"  AES-GCM of the body alone, {backend.openssl_version_text()} (in cryptography, VAES): "
        + ", ".join(newer)
    )
    return lines


def bench_prometheus(quick: bool) -> list[str]:
    """The real scraper: Prometheus 2.42 scraping the same 20 devices from a plain and a TLS + basic auth
    server at once (one job each, every second), for a window; serving-thread CPU per scrape, each scrape
    meeting the caches as a production scrape does (apart, not back to back)."""
    import httpx

    from tests.deploy.servers import prometheus, wait_until

    store = filled_store(20, interfaces=96, started=time.time(), interval=FRESH)
    windows, seconds = (1, 5) if quick else (9, 10)
    lines = [
        f"Prometheus 2.42 as the scraper ({len(store)} devices x 1,920 series per job, every second, "
        f"{windows} window{'s' if windows > 1 else ''} of {seconds} s):",
        f"  {'job':24s} {'scrapes':>7s} {'CPU µs/scrape':>13s} {'x plain':>7s} {'range':>10s}  cipher",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        material = pki(directory)
        servers = {
            "plain HTTP": serve(store, CollectorRegistry(), "127.0.0.1:0", lambda: True),
            "TLS + basic auth": serve(
                store, CollectorRegistry(), "127.0.0.1:0", lambda: True,
                web=web_config(directory, tls=True, mtls=False, auth=True),
            ),
        }  # fmt: skip
        try:
            (directory / "password").write_text(PASSWORD)
            jobs = []
            for name, serving in servers.items():
                job = {
                    "job_name": name.replace(" ", "-").replace("+", "and"),
                    "metrics_path": "/snmp",
                    "scrape_interval": "1s",
                    "scrape_timeout": "900ms",
                    "static_configs": [{"targets": sorted(store.devices())}],
                    "relabel_configs": [
                        {"source_labels": ["__address__"], "target_label": "__param_target"},
                        {"target_label": "__address__", "replacement": f"127.0.0.1:{serving.server.port}"},
                    ],
                }
                if serving.server.url.startswith("https"):
                    job |= {
                        "scheme": "https",
                        "tls_config": {"ca_file": str(material["ca"].cert_file)},
                        "basic_auth": {
                            "username": "prometheus",
                            "password_file": str(directory / "password"),
                        },
                    }
                jobs.append(job)
            config = directory / "prometheus.yml"
            config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": jobs}))
            workdir = directory / "prometheus"
            workdir.mkdir()
            with prometheus(config, workdir) as base:

                def all_up() -> bool:
                    targets = httpx.get(f"{base}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
                    return sum(t["health"] == "up" for t in targets) == 2 * len(store)

                wait_until(all_up, seconds=120, what="Prometheus scraping every device of both jobs")

                def scrapes(serving) -> float:
                    return serving.server.metrics.requests.labels("snmp", "200")._value.get()

                def reading() -> dict[str, tuple[float, float, float]]:
                    return {name: (s.cpu_seconds(), scrapes(s), handshakes(s)) for name, s in servers.items()}

                readings = [reading()]
                for _ in range(windows):  # Prometheus keeps scraping meanwhile
                    time.sleep(seconds)
                    readings.append(reading())
            per_window: dict[str, list[float]] = {name: [] for name in servers}  # CPU µs per scrape
            for before, after in itertools.pairwise(readings):
                for name in servers:
                    count = after[name][1] - before[name][1]
                    per_window[name].append((after[name][0] - before[name][0]) / max(count, 1) * 1e6)
            plain = per_window["plain HTTP"]
            for name, serving in servers.items():
                count = readings[-1][name][1] - readings[0][name][1]
                us = (readings[-1][name][0] - readings[0][name][0]) / max(count, 1) * 1e6
                ratios = [a / b for a, b in zip(per_window[name], plain, strict=True)]
                ciphers = {
                    sample.labels["cipher"]
                    for metric in serving.server.registry.collect()
                    for sample in metric.samples
                    if sample.name == "infrastrand_exporter_tls_handshakes_total"
                }
                cipher = ",".join(sorted(ciphers)) or "-"
                shakes = readings[-1][name][2] - readings[0][name][2]
                lines.append(
                    f"  {name:24s} {count:7.0f} {us:13.1f} {statistics.median(ratios):7.2f} "
                    f"{min(ratios):5.2f}-{max(ratios):4.2f}  {cipher}"
                    + (f", {shakes:.0f} handshakes while measured" if cipher != "-" else "")
                )
            lines.append(
                "  (x plain: median of the windows' ratios, and their range; both jobs are scraped in every"
                " window, so a busy moment slows both)"
            )
        finally:
            for serving in servers.values():
                serving.stop()
    return lines


def handshakes(serving) -> float:
    """TLS handshakes the server has completed (``infrastrand_exporter_tls_handshakes_total``)."""
    return sum(
        sample.value
        for metric in serving.server.registry.collect()
        for sample in metric.samples
        if sample.name == "infrastrand_exporter_tls_handshakes_total"
    )


SSL_CALLS = ("_ssl__SSLSocket_", "_ssl_MemoryBIO_")
"""CPython's ``ssl`` entry points (SSLObject and MemoryBIO methods): their inclusive cost is the TLS work."""


def serve_child(argv: Sequence[str]) -> None:
    """Child process (run under callgrind): the bench's store served with one web config; prints the
    port, serves until stdin EOF."""
    directory, tls, mtls, auth = Path(argv[0]), *(flag == "1" for flag in argv[1:4])
    store = filled_store(20, interfaces=96, started=time.time(), interval=FRESH)
    web = web_config(directory, tls=tls, mtls=mtls, auth=auth)
    serving = serve(store, CollectorRegistry(), "127.0.0.1:0", lambda: True, web=web)
    print(serving.server.port, flush=True)
    sys.stdin.readline()
    serving.stop()


def callgrind_costs(path: Path) -> tuple[int, int, int]:
    """Instructions in a callgrind dump: all, inclusive in ``SSL_CALLS``, and in memcpy/memset (which
    valgrind counts per byte moved: ``rep movsb``)."""
    names: dict[str, str] = {}
    total = ssl_calls = moves = 0
    function = callee = ""
    after_calls = False
    for line in path.read_text().splitlines():
        if line.startswith(("fn=", "cfn=")):
            key, _, rest = line.partition("=")
            ident, _, name = rest.partition(" ")
            if name:
                names[ident] = name
            if key == "fn":
                function = names[ident]
            else:
                callee = names[ident]
        elif line.startswith("calls="):
            after_calls = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            cost = int(line.split()[-1]) if len(line.split()) > 1 else 0
            if after_calls:  # a call's inclusive cost, already counted in the callee's own lines
                after_calls = False
                if callee.startswith(SSL_CALLS) and not function.startswith(SSL_CALLS):
                    ssl_calls += cost
            else:
                total += cost
                if function.startswith(("__memcpy", "__memset", "__memmove")):
                    moves += cost
    return total, ssl_calls, moves


def bench_callgrind(quick: bool) -> list[str]:
    """Instructions per keep-alive scrape of the serving process under callgrind (load-independent): the
    scrapes of one round after a warm-up round, counters zeroed and dumped with ``callgrind_control``."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        return ["callgrind: valgrind not installed, instruction counts skipped"]
    scrapes = 100 if quick else 400
    lines = [
        f"instructions per keep-alive scrape under callgrind ({scrapes} scrapes; no AVX-512 under valgrind):",
        f"  {'scenario':48s} {'total':>9s} {'x plain':>7s} {'in ssl':>9s} {'memcpy/set':>10s}  cipher",
    ]
    plain = 0
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        material = pki(directory)
        for name, tls, mtls, auth, keep, order in SCENARIOS:
            if keep != "1":
                continue
            out = directory / f"callgrind.{len(lines)}"
            flags = (tls, mtls, auth)
            server = subprocess.Popen(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m",
                 "tests.bench.web_bench", "--serve", str(directory), *(str(int(f)) for f in flags)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            try:
                port = int(server.stdout.readline())
                proc, cipher = start_scraper(
                    ("127.0.0.1", port), directory, material, tls=tls, mtls=mtls, auth=auth, keep=keep,
                    order=order, scrapes=scrapes, devices=20,
                )  # fmt: skip
                try:
                    for step in ("warm", "measured"):
                        if step == "measured":
                            subprocess.run(["callgrind_control", "-z", str(server.pid)], capture_output=True,
                                           timeout=300, check=True)  # fmt: skip
                        proc.stdin.write("go\n")
                        proc.stdin.flush()
                        if not proc.stdout.readline().startswith("done"):
                            raise RuntimeError(f"{name}: scraper failed")
                    subprocess.run(["callgrind_control", "-d", str(server.pid)], capture_output=True,
                                   timeout=300, check=True)  # fmt: skip
                finally:
                    proc.stdin.close()
                    proc.wait(timeout=120)
            finally:
                server.stdin.close()
                server.wait(timeout=300)
            total, in_ssl, moves = (x / scrapes for x in callgrind_costs(Path(f"{out}.1")))
            plain = plain or total
            lines.append(
                f"  {name:48s} {total / 1e3:8.0f}k {total / plain:7.2f} {in_ssl / 1e3:8.0f}k "
                f"{moves / 1e3:9.0f}k  {cipher}"
            )
    return lines


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS (Linux >= 4.0)


class LoopLag:
    """A stand-in polling loop on its own thread: 5 ms ticks, lateness of each recorded."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(2_000_000):
            if self._stop.is_set():
                return
            due = loop.time() + 0.005
            await asyncio.sleep(0.005)
            self.lags.append(max(0.0, loop.time() - due))

    def __enter__(self) -> LoopLag:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def summary(self) -> str:
        if not self.lags:
            return "no ticks"
        lags = sorted(self.lags)
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        return f"tick lateness p99 {p99 * 1e3:.1f} ms, max {lags[-1] * 1e3:.1f} ms"


def all_client(argv: Sequence[str]) -> None:
    """Child process: GET /snmp/all once, reading the body in 1 MiB pieces and dropping them; prints
    the body size."""
    host, port, encoding = argv
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    conn.request("GET", "/snmp/all", headers={"Accept-Encoding": encoding})
    response = conn.getresponse()
    size = 0
    for _ in range(1_000_000):
        piece = response.read(MiB)
        if not piece:
            break
        size += len(piece)
    conn.close()
    print(size, flush=True)


def scrape_all(host: str, port: int, encoding: str) -> int:
    """/snmp/all from a scraper process (its CPU and memory are not this process's); the body size."""
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.web_bench", "--all-client", host, str(port), encoding],
        capture_output=True, text=True, timeout=900, check=True,
    )  # fmt: skip
    return int(out.stdout.split()[-1])


def bench_snmp_all(quick: bool) -> list[str]:
    devices = 100 if quick else 1000
    store = filled_store(devices, interfaces=100, started=time.time(), interval=FRESH)  # 2,000 series each
    series = store.series_count()
    serving = serve(store, CollectorRegistry(), "127.0.0.1:0", lambda: True)
    lines = [f"/snmp/all at {series:,} series ({devices} devices), streamed from cached gzip members:"]
    with LoopLag() as idle:
        time.sleep(2)
    lines.append(f"  {'no scrape':15s} polling stand-in, baseline on this host: {idle.summary()}")
    try:
        for label, encoding in (
            ("cold, gzip", "gzip"),
            ("warm, gzip", "gzip"),
            ("warm, identity", "identity"),
        ):
            rss0 = _status_kib("VmRSS")
            _reset_peak()
            wall0, cpu0 = time.perf_counter(), time.process_time()
            with LoopLag() as lag:
                size = scrape_all(serving.server.host, serving.server.port, encoding)
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            peak, rss1 = _status_kib("VmHWM"), _status_kib("VmRSS")
            lines.append(
                f"  {label:15s} body {size / MiB:8.1f} MiB  wall {wall:6.2f} s  process CPU {cpu:6.2f} s  "
                f"RSS {rss0 / 1024:7.1f} MiB, peak +{(peak - rss0) / 1024:6.1f}, "
                f"after +{(rss1 - rss0) / 1024:6.1f} MiB"
            )
            lines.append(f"  {'':15s} polling stand-in during it: {lag.summary()}")
    finally:
        serving.stop()
    lines.append("  goal: <= 50 MB extra at 2 M series (cold includes the per-device member caches it fills)")
    return lines


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def scrape_load(argv: Sequence[str]) -> None:
    """Child process: ``idle`` connections that never send a byte and ``scrapers`` keep-alive
    connections scraping devices back to back; prints ``loaded`` once all are open, and at stdin EOF
    (or after ``seconds``) ``scrapes <n> errors <n>``.  ``devices`` is a count (``dev00000``...) or
    ``@file`` naming the devices one per line."""
    host, port, scrapers, idle, devices, seconds = argv
    if devices.startswith("@"):
        names = Path(devices[1:]).read_text().split()
    else:
        names = [f"dev{i:05d}" for i in range(int(devices))]

    async def run() -> tuple[int, int]:
        held = []
        for _ in range(int(idle)):
            held.append(await asyncio.open_connection(host, int(port), limit=2**20))
        stop = asyncio.Event()
        counts = [0, 0]

        async def scraper(index: int) -> None:
            reader, writer = await asyncio.open_connection(host, int(port), limit=2**20)
            for n in range(10_000_000):
                if stop.is_set():
                    break
                name = names[(index + n) % len(names)]
                writer.write(
                    f"GET /snmp?target={name} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n".encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
                counts[0 if head.startswith(b"HTTP/1.1 200") else 1] += 1
            writer.close()

        tasks = [asyncio.create_task(scraper(i)) for i in range(int(scrapers))]
        print("loaded", flush=True)
        loop = asyncio.get_running_loop()
        end = loop.create_task(asyncio.to_thread(sys.stdin.readline))
        await asyncio.wait([end], timeout=float(seconds))
        stop.set()
        await asyncio.wait(tasks, timeout=60)
        for _reader, writer in held:
            writer.close()
        return counts[0], counts[1]

    ok, errors = asyncio.run(run())
    print(f"scrapes {ok} errors {errors}", flush=True)
    os._exit(0)  # the stdin reader thread may still be blocked


def health_probe(argv: Sequence[str]) -> None:
    """Child process: ``/-/healthy`` on a new connection every 50 ms for ``seconds``; prints the
    latencies in ms (a failure counts as the 5 s timeout)."""
    host, port, seconds = argv
    latencies = []
    deadline = time.monotonic() + float(seconds)
    for _ in range(100_000):
        if time.monotonic() >= deadline:
            break
        started = time.perf_counter()
        try:
            with socket.create_connection((host, int(port)), timeout=5) as sock:
                sock.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                for _ in range(100):
                    piece = sock.recv(4096)
                    if not piece:
                        break
                    data += piece
            ok = data.startswith(b"HTTP/1.1 200") and data.endswith(b"Healthy.\n")
        except OSError:
            ok = False
        latencies.append((time.perf_counter() - started) * 1e3 if ok else 5000.0)
        time.sleep(max(0.0, 0.05 - (time.perf_counter() - started)))
    print(" ".join(f"{x:.3f}" for x in latencies), flush=True)


class PollingStandIn:
    """A thread doing pure-Python work in 20 ms bursts with 5 ms pauses: it wants the GIL most of the
    time, as a busy polling loop does."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for _ in range(1_000_000):
            if self._stop.wait(0.005):
                return
            until = time.perf_counter() + 0.02
            while time.perf_counter() < until:
                sum(i * i for i in range(200))

    def __enter__(self) -> PollingStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


HEALTH_VARIANTS = (  # (label, stand-in, serving loop, GIL switch interval)
    ("serving alone", False, "auto", SWITCH_INTERVAL),
    ("beside a GIL-busy polling stand-in", True, "auto", SWITCH_INTERVAL),
    ("  same, before (asyncio loop, 5 ms)", True, "asyncio", 0.005),
)
"""The runner's settings alone and beside the stand-in, and beside it as before issue 10's last fix."""


def bench_health(quick: bool) -> list[str]:
    devices, scrapers, idle, seconds = (20, 50, 200, 5) if quick else (100, 200, 1100, 12)
    store = filled_store(devices, interfaces=96, started=time.time(), interval=FRESH)
    lines = [
        f"/-/healthy under HTTP load: {scrapers} keep-alive scrapers ({devices} devices x 1,920 series), "
        f"{idle} idle connections, a probe on a new connection every 50 ms for {seconds} s:"
    ]
    with contextlib.suppress(ValueError, OSError):  # 1,100 server-side sockets live in this process
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    default_interval = sys.getswitchinterval()
    for label, stand_in, event_loop, interval in HEALTH_VARIANTS:
        sys.setswitchinterval(interval)  # as the runner sets it (collectors.runtime.tune_switch_interval)
        serving = serve(store, CollectorRegistry(), "127.0.0.1:0", lambda: True, event_loop=event_loop)
        host, port = serving.server.host, str(serving.server.port)
        load = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.web_bench", "--scrape-load", host, port, str(scrapers),
             str(idle), str(devices), str(seconds + 120)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            with PollingStandIn() if stand_in else contextlib.nullcontext():
                if load.stdout.readline().strip() != "loaded":
                    raise RuntimeError("load process did not start")
                cpu0 = serving.cpu_seconds()
                probe = subprocess.run(
                    [sys.executable, "-m", "tests.bench.web_bench", "--health-probe", host, port,
                     str(seconds)],
                    capture_output=True, text=True, timeout=seconds + 120, check=True,
                )  # fmt: skip
                cpu = serving.cpu_seconds() - cpu0
                average = load_average()
                load.stdin.close()
                summary = load.stdout.readline().split()
        finally:
            if load.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    load.wait(timeout=90)
                if load.poll() is None:
                    load.kill()
            serving.stop()
            sys.setswitchinterval(default_interval)
        ms = sorted(float(x) for x in probe.stdout.split())
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        failed = sum(x >= 5000 for x in ms)
        lines.append(
            f"  {label:36s} p50 {statistics.median(ms):6.1f} ms  p99 {p99:6.1f} ms  max {ms[-1]:6.1f} ms  "
            f"({len(ms)} probes, {failed} failed); scrapes {summary[1] if summary else '?'} "
            f"({summary[3] if summary else '?'} errors), serving thread CPU {cpu:.1f} s; {average}"
        )
    lines.append("  goal: /-/healthy p99 <= 50 ms")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(argv if argv is not None else [])
    if argv[:1] == ["--client"]:
        client(argv[1:])
        return 0
    if argv[:1] == ["--serve"]:
        serve_child(argv[1:])
        return 0
    if argv[:1] == ["--breakdown"]:
        breakdown_child(argv[1:])
        return 0
    if argv[:1] == ["--all-client"]:
        all_client(argv[1:])
        return 0
    if argv[:1] == ["--scrape-load"]:
        scrape_load(argv[1:])
        return 0
    if argv[:1] == ["--health-probe"]:
        health_probe(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    parser.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts (minutes)")
    parser.add_argument("--tls-only", action="store_true", help="only the TLS sections")
    args = parser.parse_args(argv)
    print(f"== exporter serving ({load_average()}) ==", flush=True)
    for line in bench_tls(args.quick):
        print(line, flush=True)
    print(f"  ({load_average()})", flush=True)
    for line in bench_prometheus(args.quick):
        print(line, flush=True)
    print(f"  ({load_average()})", flush=True)
    for line in tls_breakdown(args.quick):
        print(line, flush=True)
    print(f"  ({load_average()})", flush=True)
    if not args.no_callgrind:
        for line in bench_callgrind(args.quick):
            print(line, flush=True)
    if args.tls_only:
        return 0
    for line in bench_health(args.quick):
        print(line, flush=True)
    for line in bench_snmp_all(args.quick):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
