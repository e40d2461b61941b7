"""Exporter serving benchmark (issues 10.8/10.9 and 18.1).

1. Per-device scrapes over keep-alive connections, plain HTTP vs TLS + basic auth vs TLS + client
   certificate + basic auth (and, for reference, a new TLS connection per scrape): the serving thread's
   CPU per scrape (``ServingThread.cpu_seconds``; the scraper is another process) and latency p50/p99,
   in interleaved rounds (a busy host slows every scenario alike), best and median round.
   Goal: TLS + basic auth ≤ 20 % more CPU per scrape than plain, with keep-alive.
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

Run: ``python -m tests.bench.web_bench [--quick]``.  Every loop is bounded in count and time.
Every section prints the load average it ran under.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.client
import os
import resource
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import bcrypt
import yaml
from prometheus_client import CollectorRegistry

from collectors.runtime import SWITCH_INTERVAL
from exporters import webconfig
from exporters.http import serve
from tests.exporters.certs import Authority
from tests.exporters.synthetic import filled_store

PASSWORD = "bench-password"
MiB = 1024 * 1024


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


def client(argv: Sequence[str]) -> None:
    """Child process: a scraper over one connection (``keep`` 1) or a new one per scrape.  Warms every
    device once, prints ``ready``, then for each ``go`` line scrapes ``n`` times and prints
    ``done <p50 ms> <p99 ms>``; ends at stdin EOF."""
    host, port, scheme, ca, cert, key, auth, n, keep, devices = argv
    ctx = None
    if scheme == "https":
        ctx = ssl.create_default_context(cafile=ca)
        if cert != "-":
            ctx.load_cert_chain(cert, key)

    def connect() -> http.client.HTTPConnection:
        if ctx is None:
            return http.client.HTTPConnection(host, int(port), timeout=60)
        return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=60)

    headers = {"Accept-Encoding": "gzip", **({"Authorization": auth} if auth != "-" else {})}
    names = [f"dev{i:05d}" for i in range(int(devices))]
    conn = connect()
    for name in names:
        conn.request("GET", f"/snmp?target={name}", headers=headers)
        conn.getresponse().read()
    print("ready", flush=True)
    for _round in range(1000):
        if not sys.stdin.readline():
            break
        latencies = []
        for i in range(int(n)):
            if keep != "1":
                conn.close()
                conn = connect()
            started = time.perf_counter()
            conn.request("GET", f"/snmp?target={names[i % len(names)]}", headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                raise SystemExit(f"HTTP {response.status}")
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"done {statistics.median(latencies) * 1e3:.3f} {p99 * 1e3:.3f}", flush=True)


class Scenario:
    """A server with one web config and its scraper process; ``round()`` measures one batch."""

    def __init__(self, store, directory: Path, material: dict, *, tls: bool, mtls: bool, auth: bool,
                 keep_alive: bool, scrapes: int) -> None:  # fmt: skip
        self.scrapes = scrapes
        web = web_config(directory, tls=tls, mtls=mtls, auth=auth)
        self.serving = serve(store, CollectorRegistry(), "127.0.0.1:0", lambda: True, web=web)
        header = "Basic " + base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
        client_cert = material["client"] if mtls else None
        cert, key = (str(client_cert.cert_file), str(client_cert.key_file)) if client_cert else ("-", "-")
        argv = [
            self.serving.server.host, str(self.serving.server.port), "https" if tls else "http",
            str(material["ca"].cert_file), cert, key,
            header if auth else "-", str(scrapes), "1" if keep_alive else "0", str(len(store.devices())),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.web_bench", "--client", *argv],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        if self.proc.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError("scraper did not start")
        self.cpu_us: list[float] = []
        self.p50: list[float] = []
        self.p99: list[float] = []

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

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.serving.stop()


def bench_tls(quick: bool) -> list[str]:
    store = filled_store(20, interfaces=96, started=time.time())  # 1,920 series a device (a 48-port switch)
    scrapes, rounds = (100, 2) if quick else (500, 7)
    lines = [
        f"per-device scrape, scraper in its own process ({len(store)} devices x 1,920 series, cached gzip),",
        f"{rounds} interleaved rounds of {scrapes} scrapes; serving-thread CPU µs per scrape:",
        f"  {'scenario':44s} {'best':>8s} {'median':>8s} {'best/plain':>10s} {'p50 ms':>7s} {'p99 ms':>7s}",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        material = pki(directory)
        scenarios: dict[str, Scenario] = {}
        try:
            for name, tls, mtls, auth, keep_alive in (
                ("plain HTTP, keep-alive", False, False, False, True),
                ("TLS + basic auth, keep-alive", True, False, True, True),
                ("TLS + client cert + basic auth, keep-alive", True, True, True, True),
                ("TLS + basic auth, new connection per scrape", True, False, True, False),
            ):
                count = scrapes if keep_alive else max(20, scrapes // 10)
                scenarios[name] = Scenario(
                    store,
                    directory,
                    material,
                    tls=tls,
                    mtls=mtls,
                    auth=auth,
                    keep_alive=keep_alive,
                    scrapes=count,
                )
            deadline = time.monotonic() + 600
            for _ in range(rounds):  # interleaved: a busy host slows every scenario alike
                if time.monotonic() > deadline:
                    break
                for scenario in scenarios.values():
                    scenario.round()
        finally:
            for scenario in scenarios.values():
                scenario.close()
        plain = min(scenarios["plain HTTP, keep-alive"].cpu_us)
        for name, sc in scenarios.items():
            best = min(sc.cpu_us)
            lines.append(
                f"  {name:44s} {best:8.1f} {statistics.median(sc.cpu_us):8.1f} {best / plain:10.2f} "
                f"{statistics.median(sc.p50):7.2f} {statistics.median(sc.p99):7.2f}"
            )
    lines.append("  goal: TLS + basic auth with keep-alive <= 1.20 x plain CPU per scrape")
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
    store = filled_store(devices, interfaces=100, started=time.time())  # 2,000 series a device
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
    (or after ``seconds``) ``scrapes <n> errors <n>``."""
    host, port, scrapers, idle, devices, seconds = argv

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
                name = f"dev{(index + n) % int(devices):05d}"
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
    store = filled_store(devices, interfaces=96, started=time.time())
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
    args = parser.parse_args(argv)
    print(f"== exporter serving ({load_average()}) ==", flush=True)
    for line in bench_tls(args.quick):
        print(line, flush=True)
    print(f"  ({load_average()})", flush=True)
    for line in bench_health(args.quick):
        print(line, flush=True)
    for line in bench_snmp_all(args.quick):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
