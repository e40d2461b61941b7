"""Run a module under cProfile timed by CPU: ``python -m tests.bench.cpu_profile OUT MODULE ARGS…``.

``python -m cProfile`` times functions by wall clock, so on a loaded machine a ``sendto`` that wakes the
agent and gets the collector descheduled looks like 80 µs, and it profiles the main thread only (the
collector serves HTTP on its own thread).  Here every thread started through :mod:`threading` gets its
own profiler timed by ``time.thread_time`` (the thread's own CPU), and all are merged into ``OUT`` when
the module returns (the collector returns after its SIGTERM drain).
"""

from __future__ import annotations

import cProfile
import pstats
import runpy
import sys
import threading
import time

_profilers: list[cProfile.Profile] = []
_lock = threading.Lock()


def _new_profiler() -> cProfile.Profile:
    profiler = cProfile.Profile(time.thread_time)
    with _lock:
        _profilers.append(profiler)
    return profiler


def _profiled_run(run):
    def wrapper(self: threading.Thread) -> None:
        profiler = _new_profiler()
        profiler.enable()
        try:
            run(self)
        finally:
            profiler.disable()

    return wrapper


def main() -> None:
    out, module, *args = sys.argv[1:]
    sys.argv = [module, *args]
    threading.Thread.run = _profiled_run(threading.Thread.run)
    profiler = _new_profiler()
    profiler.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profiler.disable()
        with _lock:
            profilers = list(_profilers)
        stats = pstats.Stats(profilers[0])
        for other in profilers[1:]:
            other.create_stats()
            stats.add(other)
        stats.dump_stats(out)


if __name__ == "__main__":
    main()
