"""Exposition benchmark: render 1M device series (ours vs prometheus_client), per-device scrape latency
under 50 concurrent scrapers over loopback HTTP, and memory per 1,000 devices.

Run: ``python -m tests.bench.exposition_bench`` (``--quick`` for a smaller run); ``main()`` for the bench
runner.  Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric

from collectors.store import SampleStore
from exporters import exposition as ex
from tests.exporters.synthetic import filled_store

SERIES_PER_DEVICE = 200  # 10 interfaces x 20 if_mib columns


class Timing:
    """Best wall and CPU seconds of some runs (contention on a busy host inflates wall, not CPU)."""

    def __init__(self, wall: float, cpu: float) -> None:
        self.wall = wall
        self.cpu = cpu

    def __str__(self) -> str:
        if self.wall < 0.01:
            return f"CPU {self.cpu * 1e3:.2f} ms (wall {self.wall * 1e3:.2f} ms)"
        return f"CPU {self.cpu:.3f} s (wall {self.wall:.3f} s)"


def timed(fn, repeat: int = 1) -> tuple[Timing, object]:
    """Best wall and CPU time of ``repeat`` runs, and the last result."""
    wall = cpu = float("inf")
    result = None
    for _ in range(repeat):
        result = None  # free the previous body first: holding two 300 MB bodies measures page faults
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return Timing(wall, cpu), result


def drop_caches(store: SampleStore) -> None:
    for entry in store:
        entry.rendered.clear()


class StoreCollector:
    """prometheus_client's way: the same samples as prebuilt Metric objects (building them is not timed)."""

    def __init__(self, store: SampleStore, with_inventory: bool) -> None:
        families: dict[str, Metric] = {
            name: Metric(name, help_, "gauge") for name, help_ in ex.DEVICE_FAMILIES
        }
        for entry in store:
            extra = {"device": entry.result.device, **entry.labels} if with_inventory else {}
            r = entry.result
            for name, value in zip(
                families, (1, r.duration, r.started, r.pdus, r.varbinds, r.retries), strict=False
            ):
                families[name].add_sample(name, extra, value)
            for family in entry.result.families:
                metric = families.get(family.name)
                if metric is None:
                    # untyped: prometheus_client would rename a counter's HELP/TYPE to name_total
                    metric = families[family.name] = Metric(family.name, family.help, "untyped")
                for labels, value in family.samples:
                    metric.add_sample(family.name, {**extra, **dict(labels)}, value)
        self.metrics = list(families.values())

    def collect(self):
        return iter(self.metrics)


def bench_render(devices: int, reference_devices: int) -> list[str]:
    lines = []
    now = time.time()
    store = filled_store(devices, started=now)
    series = store.series_count()
    lines.append(f"store: {devices} devices x {SERIES_PER_DEVICE} series = {series:,} series")

    def cold_targets() -> int:
        drop_caches(store)
        return sum(len(ex.render_target(e, ex.TEXT, now)) for e in store)

    def warm_targets() -> int:  # what Prometheus gets (it asks for gzip): the cached compressed bytes
        return sum(len(ex.target_body(e, ex.TEXT, now, gzip_ok=True)[0]) for e in store)

    cold, size = timed(cold_targets, 2)
    warm, packed = timed(warm_targets, 3)
    lines.append(f"ours /snmp?target= every device, {size / 1e6:.0f} MB of text, {packed / 1e6:.0f} MB gzip:")
    lines.append(f"  rendered + gzip once per poll (cold): {cold}")
    lines.append(f"  cached gzip bytes (warm):             {warm}")

    def cold_all() -> bytes:
        drop_caches(store)
        return ex.render_all(store, ex.TEXT, now)

    cold_all_s, _ = timed(cold_all, 1)
    warm_all_s, body = timed(lambda: ex.render_all(store, ex.TEXT, now), 3)
    lines.append(f"ours /snmp/all, {series:,} series + device and 8 inventory labels:")
    lines.append(f"  cold (first scrape after every device polled): {cold_all_s}")
    lines.append(f"  warm (cached per-device chunks merged):        {warm_all_s}  (target <= 0.3 s)")
    gz_s, compressed = timed(lambda: gzip.compress(body, compresslevel=1, mtime=0), 1)
    lines.append(f"  gzip level 1: {gz_s} ({len(body) / 1e6:.0f} MB -> {len(compressed) / 1e6:.1f} MB)")
    body = compressed = b""

    subset = SampleStore()
    for entry in list(store)[:reference_devices]:
        subset.put(entry.result, entry.labels)
    ref_series = subset.series_count()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(subset, with_inventory=True))
    ref_s, ref_body = timed(lambda: generate_latest(registry), 1)
    scale = series / ref_series
    label = "measured" if scale == 1 else f"measured on {ref_series:,} series, x{scale:g} extrapolated"
    lines.append(
        f"prometheus_client generate_latest, same series and labels: CPU {ref_s.cpu * scale:.2f} s "
        f"(wall {ref_s.wall * scale:.2f} s)"
    )
    lines.append(f"  ({label})")
    drop_caches(subset)
    ours_subset = ex.render_all(subset, ex.TEXT, now)
    same = parse_sorted(ours_subset) == parse_sorted(ref_body)
    lines.append(f"  same samples as ours on that subset: {same}")
    speedup = (
        f"cold {ref_s.cpu * scale / cold_all_s.cpu:.1f}x, warm {ref_s.cpu * scale / warm_all_s.cpu:.1f}x"
    )
    lines.append(f"  ours /snmp/all is faster by (CPU): {speedup}")
    lines.append(f"  host load average while measuring: {os.getloadavg()[0]:.1f} (2 cores)")
    return lines


def parse_sorted(body: bytes) -> list[tuple]:
    from prometheus_client.parser import text_string_to_metric_families

    return sorted(
        (s.name.removesuffix("_total"), tuple(sorted(s.labels.items())), s.value)
        for f in text_string_to_metric_families(body.decode())
        for s in f.samples
    )


def bench_memory(devices: int = 1000) -> list[str]:
    now = time.time()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = filled_store(devices, started=now)
    after_store = tracemalloc.get_traced_memory()[0]
    for entry in store:  # a Prometheus scrape of every device: the exporter keeps the gzip bytes only
        ex.target_body(entry, ex.TEXT, now, gzip_ok=True)
    after_gzip = tracemalloc.get_traced_memory()[0]
    body = ex.render_all(store, ex.TEXT, now)
    del body
    gc.collect()
    after_all = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    mb = 1024 * 1024
    return [
        f"memory per {devices} devices ({devices * SERIES_PER_DEVICE:,} series), Python heap (tracemalloc):",
        f"  poll results in the store:          {(after_store - base) / mb:6.1f} MiB",
        f"  + cached /snmp?target= gzip bodies: {(after_gzip - after_store) / mb:6.1f} MiB",
        f"  + cached /snmp/all chunks:          {(after_all - after_gzip) / mb:6.1f} MiB",
        f"  total:                              {(after_all - base) / mb:6.1f} MiB",
    ]


# --- per-device scrape latency over HTTP -----------------------------------------------------------


def serve(devices: int) -> None:
    """Child process: ``devices`` devices behind ``exporters.http.serve``; prints its port, serves until
    stdin EOF."""
    from prometheus_client import CollectorRegistry as Registry

    from exporters.http import serve as serve_http

    store = filled_store(devices, started=time.time())
    serving = serve_http(store, Registry(), "127.0.0.1:0", lambda: True)
    print(serving.server.port, flush=True)
    sys.stdin.read()
    serving.stop()


async def scrape_round(port: int, targets: Sequence[str], concurrency: int, deadline: float) -> list[float]:
    """Scrape every target once through ``concurrency`` keep-alive connections; latencies in seconds."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for target in targets:
        queue.put_nowait(target)
    latencies: list[float] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not queue.empty() and time.monotonic() < deadline:
                target = queue.get_nowait()
                start = time.perf_counter()
                writer.write(
                    f"GET /snmp?target={target} HTTP/1.1\r\nHost: b\r\nAccept-Encoding: gzip\r\n\r\n".encode()
                )
                status = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                assert status.startswith(b"HTTP/1.1 200"), status
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_latency(devices: int, concurrency: int, time_limit: float = 60.0) -> list[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.exposition_bench", "--serve", str(devices)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    try:
        port = int(child.stdout.readline())
        targets = [f"dev{n:05d}" for n in range(devices)]
        random.Random(1).shuffle(targets)
        lines = [
            f"per-device scrape latency, {devices} devices, {concurrency} concurrent keep-alive scrapers:"
        ]
        for label in ("first scrape after a poll (render + gzip)", "repeat scrape (cached bytes)"):
            start, server_cpu = time.perf_counter(), process_cpu_seconds(child.pid)
            latencies = asyncio.run(scrape_round(port, targets, concurrency, time.monotonic() + time_limit))
            elapsed = time.perf_counter() - start
            cpu_per_scrape = (process_cpu_seconds(child.pid) - server_cpu) / len(latencies)
            q = statistics.quantiles(latencies, n=100)
            lines.append(
                f"  {label}: p50 {q[49] * 1e3:.2f} ms, p99 {q[98] * 1e3:.2f} ms, "
                f"{len(latencies)} scrapes in {elapsed:.2f} s ({len(latencies) / elapsed:.0f}/s), "
                f"server CPU {cpu_per_scrape * 1e6:.0f} µs per scrape"
            )
        lines.append(
            "  (gzip requested like Prometheus; the Python client and the server share the 2 cores; "
            f"load average {os.getloadavg()[0]:.1f})"
        )
        return lines
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k series instead of 1M")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.serve:
        serve(args.serve)
        return 0
    devices = 500 if args.quick else 5000
    print("== exposition ==")
    for line in bench_render(devices, reference_devices=min(devices, 500)):
        print(line, flush=True)
    for line in bench_memory(1000):
        print(line, flush=True)
    for line in bench_latency(devices, concurrency=50):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
