"""Exporter serving benchmark (issues 10.8/10.9 and 18.1).

1. Per-device scrapes over keep-alive connections, plain HTTP vs TLS + basic auth vs TLS + client
   certificate + basic auth (and, for reference, a new TLS connection per scrape): the serving thread's
   CPU per scrape (``ServingThread.cpu_seconds``, the client's CPU is not in it) and latency p50/p99.
   Goal: TLS + basic auth ≤ 20 % more CPU per scrape than plain, with keep-alive.
2. ``/snmp/all`` at 2 M series: wall and process CPU of a cold scrape (every device rendered) and a
   warm one, RSS before/peak/after (peak = VmHWM, reset before each scrape), and the lateness of a
   stand-in polling loop (its own thread, 5 ms ticks) meanwhile.  Goal: ≤ 50 MB extra at 2 M series.

Run: ``python -m tests.bench.web_bench [--quick]``.  Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import ssl
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import bcrypt
import yaml
from prometheus_client import CollectorRegistry

from exporters import webconfig
from exporters.http import ServingThread, serve
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


def connection_factory(serving: ServingThread, material: dict, *, tls: bool, mtls: bool) -> Callable:
    host, port = serving.server.host, serving.server.port
    if not tls:
        return lambda: http.client.HTTPConnection(host, port, timeout=30)
    ctx = ssl.create_default_context(cafile=material["ca"].cert_file)
    if mtls:
        ctx.load_cert_chain(material["client"].cert_file, material["client"].key_file)
    return lambda: http.client.HTTPSConnection(host, port, context=ctx, timeout=30)


def scrape_run(
    serving: ServingThread,
    connect: Callable,
    devices: Sequence[str],
    scrapes: int,
    headers: dict,
    keep_alive: bool,
) -> dict:
    latencies: list[float] = []
    conn = connect()
    for device in devices:  # warm: every device's cached body, the bcrypt verdict, the handshake
        conn.request("GET", f"/snmp?target={device}", headers=headers)
        conn.getresponse().read()
    cpu0 = serving.cpu_seconds()
    deadline = time.monotonic() + 120
    for n in range(scrapes):
        if time.monotonic() > deadline:
            break
        if not keep_alive:
            conn.close()
            conn = connect()
        started = time.perf_counter()
        conn.request("GET", f"/snmp?target={devices[n % len(devices)]}", headers=headers)
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        assert response.status == 200, response.status
    cpu = serving.cpu_seconds() - cpu0
    conn.close()
    latencies.sort()
    return {
        "scrapes": len(latencies),
        "cpu_us": cpu / len(latencies) * 1e6,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
    }


def bench_tls(quick: bool) -> list[str]:
    store = filled_store(20, interfaces=96, started=time.time())  # 1,920 series a device (a 48-port switch)
    devices = store.devices()
    scrapes = 200 if quick else 3000
    lines = [
        f"per-device scrape ({len(devices)} devices x 1,920 series, cached gzip), {scrapes} scrapes each:",
        f"  {'scenario':44s} {'server CPU µs/scrape':>20s} {'vs plain':>8s} {'p50 ms':>7s} {'p99 ms':>7s}",
    ]
    plain_cpu = None
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        material = pki(directory)
        auth_header = {
            "Authorization": "Basic " + base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
        }
        for name, tls, mtls, auth, keep_alive in (
            ("plain HTTP, keep-alive", False, False, False, True),
            ("TLS + basic auth, keep-alive", True, False, True, True),
            ("TLS + client cert + basic auth, keep-alive", True, True, True, True),
            ("TLS + basic auth, new connection per scrape", True, False, True, False),
        ):
            web = web_config(directory, tls=tls, mtls=mtls, auth=auth)
            serving = serve(store, CollectorRegistry(), "127.0.0.1:0", lambda: True, web=web)
            try:
                headers = {"Accept-Encoding": "gzip", **(auth_header if auth else {})}
                connect = connection_factory(serving, material, tls=tls, mtls=mtls)
                count = scrapes if keep_alive else max(50, scrapes // 10)
                row = scrape_run(serving, connect, devices, count, headers, keep_alive)
            finally:
                serving.stop()
            if plain_cpu is None:
                plain_cpu = row["cpu_us"]
            ratio = row["cpu_us"] / plain_cpu
            lines.append(
                f"  {name:44s} {row['cpu_us']:20.1f} {ratio:8.2f} {row['p50_ms']:7.2f} {row['p99_ms']:7.2f}"
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


def scrape_all(url_host: str, port: int, encoding: str) -> int:
    """GET /snmp/all, reading the body in 1 MiB pieces and dropping them; returns the body size."""
    conn = http.client.HTTPConnection(url_host, port, timeout=600)
    conn.request("GET", "/snmp/all", headers={"Accept-Encoding": encoding})
    response = conn.getresponse()
    size = 0
    for _ in range(1_000_000):
        piece = response.read(MiB)
        if not piece:
            break
        size += len(piece)
    conn.close()
    return size


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts (smoke run)")
    args = parser.parse_args(argv if argv is not None else [])
    print("== exporter serving ==", flush=True)
    for line in bench_tls(args.quick):
        print(line, flush=True)
    for line in bench_snmp_all(args.quick):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
