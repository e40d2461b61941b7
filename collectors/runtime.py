"""Process-level tuning for a long-running collector."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

GC_THRESHOLDS = (100_000, 50, 50)
SWITCH_INTERVAL = 0.002
"""Seconds a thread that wants the GIL waits before asking the holder to drop it (CPython: 0.005)."""


def tune_gc() -> None:
    """Freeze start-up objects out of the cyclic GC and collect young objects less often.

    Every poll replaces thousands of sample tuples. With CPython's default thresholds (700, 10, 10)
    the cyclic collector ran often enough over the live store to cost ~1.1 µs per varbind
    (poll + modules + store: 2.61 µs/varbind by default, 1.56 with these thresholds, 1.50 with no
    cyclic GC at all, 1,000 48-port devices in `tests/bench`).  The samples hold no reference cycles
    (reference counting frees them), so collecting the young generation every 100,000 allocations
    instead of 700 loses nothing; the frozen start-up objects (pysnmp's MIB tables, modules) are
    never traversed again.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def tune_switch_interval(seconds: float = SWITCH_INTERVAL) -> None:
    """Let a thread waiting for the GIL get it after ``seconds`` rather than CPython's 5 ms.

    The exporter's HTTP thread shares the GIL with the busy polling thread; each time it comes back from
    a system call or an event-loop wait it queues for the GIL and, with the polling thread running
    Python, gets it only after the switch interval.  A ``/-/healthy`` on a new connection needs a few
    such hand-overs (accept, read, write and close: ``web_bench``'s "beside a GIL-busy polling
    stand-in" row), so the interval is what sets its latency under load.  The interval only matters
    while both threads want the GIL, so the polling thread pays for it only while requests are served.
    """
    sys.setswitchinterval(seconds)


def new_event_loop(loop: str = "auto") -> asyncio.AbstractEventLoop:
    """A new event loop of the kind :func:`run_loop` runs (uvloop when installed, for ``"auto"``), for a
    thread of its own.  uvloop's loop does its system calls in C and takes the GIL once per batch of
    callbacks, not once per call: fewer GIL hand-overs per request than asyncio's selector loop."""
    if loop != "asyncio":
        try:
            import uvloop
        except ImportError:
            if loop == "uvloop":
                raise
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run_loop(main: Coroutine[Any, Any, T], loop: str = "auto") -> T:
    """Run ``main`` on uvloop when it is installed (``loop="auto"``), else on asyncio's default loop.

    uvloop is a dependency: the benchmarks measure the runner on the loop it really uses
    (``make bench`` runs ``python -m collectors`` itself).  ``loop="asyncio"`` forces the default.
    """
    if loop != "asyncio":
        try:
            import uvloop
        except ImportError:
            if loop == "uvloop":
                raise
        else:
            return uvloop.run(main)
    return asyncio.run(main)
