"""Trap receiver benchmark (issue 14.1 goal: at least 5,000 SNMPv2c traps per second on one core).

The receiver runs in this process exactly as the collector runs it: :class:`collectors.traps.TrapReceiver`
on an asyncio datagram endpoint (uvloop when installed, as ``python -m collectors``), 1,000 targets, the
sample store's ifName lookup, the storm limiter and the event queue of :class:`TrapEventSender` (not
flushed: the inventory is not under test).  A separate sender process (its CPU not counted) sends
``COUNT`` distinct v2c linkDown traps from 20 loopback source addresses of known devices.  CPU is this
process's user+system time (``getrusage``, independent of machine load) over the traps handled, so it
includes the kernel's receive path; the capacity on one core is 1 s divided by that.  The wall-clock rate
seen is printed too (it depends on the sender and the load).  A second figure times the handler alone
(:meth:`TrapReceiver.datagram` on the same datagrams, no sockets), also in CPU time.

Run: ``python -m tests.bench.trap_bench`` (``--quick`` for small counts).  Every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import sys
import time

from collectors.inventory_client import InventoryClient, TokenSource
from collectors.runtime import run_loop
from collectors.snmp.ber import INTEGER, OBJECT_IDENTIFIER, TIMETICKS, TRAP_V2
from collectors.snmp.messages import Message, encode_message
from collectors.store import MetricFamily, PollResult, SampleStore
from collectors.targets import parse_target
from collectors.trap_events import TrapEventSender
from collectors.traps import TrapReceiver
from tests.bench.clients import cpu_seconds

GOAL_TRAPS_PER_SECOND = 5000
DEVICES = 1000
SOURCES = 20
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"


def datagrams(count: int) -> list[bytes]:
    """``count`` distinct v2c linkDown traps (request-ids and ifIndexes vary), as a real switch sends."""
    out = []
    for i in range(count):
        if_index = 1 + i % 48
        out.append(
            encode_message(
                Message(
                    1,
                    b"public",
                    TRAP_V2,
                    i + 1,
                    varbinds=[
                        ("1.3.6.1.2.1.1.3.0", TIMETICKS, 123_456 + i),
                        ("1.3.6.1.6.3.1.1.4.1.0", OBJECT_IDENTIFIER, LINK_DOWN),
                        (f"1.3.6.1.2.1.2.2.1.1.{if_index}", INTEGER, if_index),
                        (f"1.3.6.1.2.1.2.2.1.7.{if_index}", INTEGER, 1),
                        (f"1.3.6.1.2.1.2.2.1.8.{if_index}", INTEGER, 2),
                    ],
                )
            )
        )
    return out


def source(i: int) -> str:
    return f"127.0.3.{1 + i % SOURCES}"


def target_entry(i: int) -> dict:
    address = f"127.0.{3 + i // 250}.{1 + i % 250}"  # the first SOURCES are the senders' addresses
    return {"id": i, "name": f"sw{i:04d}", "address": address, "community": "public"}


def receiver() -> TrapReceiver:
    targets = [
        parse_target(
            {
                "id": i,
                "name": f"sw{i:04d}",
                "address": f"127.0.{3 + i // 250}.{1 + i % 250}",  # the first SOURCES: the senders
                "community": "public",
            },
            "bench",
        )
        for i in range(DEVICES)
    ]
    store = SampleStore()
    for t in targets[:SOURCES]:
        labels = tuple((("ifIndex", str(n)), ("ifName", f"ge-0/0/{n}")) for n in range(1, 49))
        family = MetricFamily.from_samples("ifOperStatus", "gauge", "", [(lb, 1.0) for lb in labels])
        store.put(PollResult(t.name, time.time(), 0.1, True, families=(family,)), {})
    sender = TrapEventSender(
        InventoryClient("http://127.0.0.1:9", TokenSource("bench")), "bench", max_pending=10**7
    )
    traps = TrapReceiver(store=store, sink=sender.put, rate=1e9, burst=1e9)  # the limiter runs, never limits
    traps.apply(targets)
    return traps


WINDOW = 5000
"""Traps the sender may have sent ahead of what the receiver reported handled (they fit the 4 MiB receive
buffer, so the kernel drops none)."""


def send(port: int, count: int, start: multiprocessing.Event, handled) -> None:
    """The sender process: ``count`` traps round-robin over the source addresses, at most ``WINDOW`` ahead
    of the receiver (flow control, bounded waits)."""
    packets = datagrams(count)
    socks = []
    for i in range(SOURCES):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((source(i), 0))
        socks.append(s)
    start.wait(60)
    deadline = time.monotonic() + 300
    for i, packet in enumerate(packets):
        while i - handled.value >= WINDOW and time.monotonic() < deadline:
            time.sleep(0.002)
        socks[i % SOURCES].sendto(packet, ("127.0.0.1", port))


async def over_the_wire(count: int) -> dict:
    traps = receiver()
    _, port = await traps.start("127.0.0.1:0")
    start = multiprocessing.Event()
    shared = multiprocessing.Value("q", 0, lock=False)
    proc = multiprocessing.Process(target=send, args=(port, count, start, shared), daemon=True)
    proc.start()
    await asyncio.sleep(0.5)  # the sender builds its packets
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    start.set()
    last, idle_since = -1, time.monotonic()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        await asyncio.sleep(0.01)
        handled = sum(traps.received.values())
        shared.value = handled
        if handled >= count:
            break
        if handled != last:
            last, idle_since = handled, time.monotonic()
        elif not proc.is_alive() and time.monotonic() - idle_since > 2:
            break  # the sender is done and nothing more arrives: the rest was dropped by the kernel
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    handled = sum(traps.received.values())
    proc.join(30)
    await traps.close()
    return {"handled": handled, "cpu": cpu, "wall": wall, "dropped": dict(traps.dropped)}


def handler_only(count: int) -> dict:
    traps = receiver()
    packets = datagrams(count)
    for packet in packets[:100]:  # warm-up
        traps.datagram(packet, "127.0.3.1")
    cpu0 = time.process_time()
    for i, packet in enumerate(packets):
        traps.datagram(packet, source(i))
    return {"handled": count, "cpu": time.process_time() - cpu0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.trap_bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small counts (smoke test)")
    p.add_argument("--count", type=int, default=100_000)
    args = p.parse_args(argv)
    count = 2_000 if args.quick else args.count
    wire = run_loop(over_the_wire(count))
    handler = handler_only(count)
    us_wire = wire["cpu"] / max(1, wire["handled"]) * 1e6
    us_handler = handler["cpu"] / handler["handled"] * 1e6
    capacity = 1e6 / us_wire if us_wire else float("inf")
    print(f"trap receiver, v2c linkDown, {DEVICES} targets, {SOURCES} sources (CPU: getrusage/process_time)")
    print(
        f"  over UDP        sent {count:7d} handled {wire['handled']:7d} in {wire['wall']:.2f} s wall "
        f"({wire['handled'] / wire['wall']:.0f} traps/s seen)  CPU {us_wire:.1f} us/trap "
        f"-> {capacity:.0f} traps/s on one core (goal >= {GOAL_TRAPS_PER_SECOND})"
    )
    print(f"  handler only    {handler['handled']:7d} traps  CPU {us_handler:.1f} us/trap")
    print(f"  dropped         {wire['dropped'] or 'none'} (kernel drops are not seen here: sent - handled)")
    print(f"  goal {'met' if capacity >= GOAL_TRAPS_PER_SECOND else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
