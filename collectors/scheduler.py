"""Poll scheduling: every device on its own schedule, one small loop driven by an injectable clock.

- Start times are spread over the interval by a stable hash of the device name, so thousands of
  devices do not fire together and a restart keeps each device's phase.  Then a device is due every
  interval after its last scheduled time; runs missed while its poll was still running are skipped
  (counted as overruns), never run twice at once.
- A due device waits in a queue for an in-flight slot.  Two budgets: devices whose last poll
  succeeded (or that were never polled) use ``max_in_flight``; devices whose last poll failed use
  ``max_in_flight_failing``, so a healthy device never waits for a slot held by a failing one.
  While it waits the device is *pending* (the exporter says so instead of "down"), and the
  scheduler-lag histogram measures its lateness against its own schedule.
- A failed poll stores ``up=0`` at once and the device backs off: next attempt after a quarter of
  its interval, doubling up to one interval, each delay drawn with jitter so failed devices do not
  retry in bursts.  In backoff a poll starts with a probe (one GET, no retries, short timeout) and
  walks only when the device answers: a device that comes back is seen within one interval.
- Every poll has a deadline (its interval, or one request's whole retry budget if that is longer) so
  no walk holds a slot for up to ``max_pdus`` requests.
- With ``first_poll_spread`` (an HA member: one lease, 3 refreshes) a device added to a running
  scheduler (not the first target list, which is always spread over the interval) is first polled
  within that spread instead of within its interval: a member that takes over a dead peer's devices
  polls them within one lease (issue 16: "polled by the other within the lease period"), not up to one
  interval later.  After that first poll the device returns to its stable phase (at least half an
  interval on), so the takeover's burst does not repeat every interval.
- ``apply()`` adds, removes and replaces devices when the target list changes; a poll of a removed
  or changed target that finishes later is discarded (the store checks the target's generation).
- ``shutdown(grace)`` stops starting polls, lets running ones finish for up to ``grace`` seconds,
  then cancels the rest and says how many in one INFO line.

Why not APScheduler (used before): its executor cancels running jobs on shutdown and logs each one
as an ERROR, it measures lag against its own misfire bookkeeping rather than the device's schedule,
it has one pool for every job, and it cannot be driven by a fake clock; what we need of it is a heap
of due times, which is this module.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from collectors.metrics import CollectorMetrics
from collectors.poller import Poller
from collectors.store import PollResult
from collectors.targets import Target

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.25  # first retry after this fraction of the interval
BACKOFF_MIN_SECONDS = 0.5
BACKOFF_JITTER = 0.25  # a backoff delay is drawn from [1 - JITTER, 1] x its nominal value
HEALTHY = "healthy"
FAILING = "failing"


def backoff_delay(interval: float, failures: int) -> float:
    """Nominal seconds until the next attempt after ``failures`` consecutive failed polls.

    Capped at one interval: attempts in backoff are single-packet probes, cheap enough to make
    every interval, and a device that comes back must be seen within one.
    """
    first = max(BACKOFF_MIN_SECONDS, interval * BACKOFF_FIRST)
    return min(first * 2 ** (failures - 1), max(interval, BACKOFF_MIN_SECONDS))


def poll_deadline(target: Target) -> float:
    """Seconds one poll may take: its interval, but never less than one request's whole retry budget
    (timeout x (retries + 1)), so that a target's timeout and retries keep their meaning."""
    return max(target.interval, target.timeout * (target.retries + 1))


def phase(name: str, interval: float) -> float:
    """A stable offset in [0, interval) for the device's first poll."""
    fraction = int.from_bytes(hashlib.md5(name.encode()).digest()[:8], "big") / 2**64
    return fraction * interval


class Clock:
    """Real time: ``monotonic()`` schedules, ``time()`` stamps, ``call_later`` wakes the loop."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(delay, callback)


@dataclass(slots=True, eq=False)
class Device:
    """One target's scheduling state; replaced by a new object when the target changes."""

    target: Target
    generation: int
    due: float  # clock time of the next scheduled poll (or of the one waiting for a slot)
    failures: int = 0  # consecutive failed polls
    polled: bool = False
    last_error: str = ""
    queued: bool = False  # due and waiting for an in-flight slot
    realign: bool = False  # polled early (``first_poll_spread``): next poll back on its stable phase
    task: asyncio.Task | None = field(default=None, repr=False)  # the poll running now


class Scheduler:
    """Runs the device polls: ``start()`` inside the loop, ``apply()`` the target list, ``shutdown()``."""

    def __init__(
        self,
        poller: Poller,
        metrics: CollectorMetrics,
        *,
        max_in_flight: int = 500,
        max_in_flight_failing: int | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        first_poll_spread: float | None = None,
    ) -> None:
        self.poller = poller
        self.first_poll_spread = first_poll_spread
        self.metrics = metrics
        self.clock = clock or Clock()
        self.rng = rng or random.Random()
        self.devices: dict[str, Device] = {}
        self.max_in_flight = max_in_flight
        self.limits = {HEALTHY: max_in_flight, FAILING: max_in_flight_failing or max(1, max_in_flight // 5)}
        self._heap: list[tuple[float, int, Device]] = []
        self._seq = itertools.count()
        self._generations = itertools.count(1)
        self._ready: dict[str, deque[Device]] = {HEALTHY: deque(), FAILING: deque()}
        self._running: dict[str, int] = {HEALTHY: 0, FAILING: 0}
        self._tasks: set[asyncio.Task] = set()
        self._wake: asyncio.Event | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        self._loop_task: asyncio.Task | None = None
        self._stopping = False
        self._epoch = self.clock.monotonic()  # phases are offsets from here (the first apply())
        self._applied = False  # the first target list is spread over the interval, always

    @property
    def targets(self) -> dict[str, Target]:
        return {name: d.target for name, d in self.devices.items()}

    def start(self) -> None:
        self._wake = asyncio.Event()
        self.metrics.behind.set_function(self.behind_seconds)
        self._loop_task = asyncio.get_running_loop().create_task(self._run(), name="scheduler")

    # --- target changes --------------------------------------------------------------------------

    def apply(self, targets: list[Target]) -> tuple[int, int, int]:
        """Make the devices match ``targets``; returns (added, removed, changed)."""
        new = {t.name: t for t in targets}
        added = removed = changed = 0
        for name in list(self.devices):
            if name not in new:
                self._remove(name)
                removed += 1
        now = self.clock.monotonic()
        if not self._applied:
            self._epoch = now  # the first list's devices are due at epoch + phase: the stable phases
        for name, target in new.items():
            old = self.devices.get(name)
            if old is not None and old.target == target:
                continue
            realign = False
            if old is None:
                spread = target.interval
                quick = self.first_poll_spread is not None and self._applied
                if quick and self.first_poll_spread < spread:
                    spread, realign = self.first_poll_spread, True
                due = now + phase(name, spread)
                added += 1
            else:
                self.poller.forget(old.target)
                due = (
                    old.due if old.target.interval == target.interval else now + phase(name, target.interval)
                )
                changed += 1
            device = Device(target, next(self._generations), due, realign=realign)
            if old is not None:
                device.task = old.task  # still running: the new target waits for it (never two at once)
            self.devices[name] = device
            self.poller.store.register(name, device.generation, dict(target.labels), target.interval)
            self._push(device)
        self._applied = True
        if added or removed or changed:
            log.info("targets: %d added, %d removed, %d changed, %d total", added, removed, changed, len(new))
            self._poke()
        return added, removed, changed

    def _remove(self, name: str) -> None:
        device = self.devices.pop(name)
        self.poller.forget(device.target)
        self.poller.store.remove(name)  # also makes a poll still in flight unable to write it back

    # --- the loop --------------------------------------------------------------------------------

    def _push(self, device: Device) -> None:
        heapq.heappush(self._heap, (device.due, next(self._seq), device))

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _current(self, device: Device) -> bool:
        return self.devices.get(device.target.name) is device

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            now = self.clock.monotonic()
            self._release(now)
            self._launch(now)
            if self._heap and self._heap[0][0] < self._timer_at:
                if self._timer is not None:
                    self._timer.cancel()
                self._timer_at = self._heap[0][0]
                self._timer = self.clock.call_later(max(0.0, self._timer_at - now), self._on_timer)
            await self._wake.wait()

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = float("inf")
        self._poke()

    def _release(self, now: float) -> None:
        """Move the devices that are due into their budget's queue."""
        heap = self._heap
        wall = self.clock.time()
        while heap and heap[0][0] <= now:
            due, _, device = heapq.heappop(heap)
            if not self._current(device) or device.due != due or device.queued:
                continue  # removed, replaced or rescheduled since
            if device.task is not None:  # the previous target's poll still runs: skip this run
                self.metrics.overruns.inc()
                device.due += device.target.interval
                self._push(device)
                continue
            device.queued = True
            self.poller.store.mark(device.target.name, queued_since=wall - (now - due))
            self._ready[FAILING if device.failures else HEALTHY].append(device)

    def _launch(self, now: float) -> None:
        loop = asyncio.get_running_loop()
        for pool, ready in self._ready.items():
            while ready and self._running[pool] < self.limits[pool]:
                device = ready.popleft()
                if not self._current(device) or not device.queued:
                    continue
                device.queued = False
                self.metrics.scheduler_lag.observe(max(0.0, now - device.due))
                self._running[pool] += 1
                self.metrics.in_flight.inc()
                self.poller.store.mark(device.target.name, polling_since=self.clock.time())
                task = loop.create_task(self._poll(device, pool), name=f"poll {device.target.name}")
                device.task = task
                self._tasks.add(task)

    async def _poll(self, device: Device, pool: str) -> None:
        target = device.target
        started = self.clock.monotonic()
        result: PollResult | None = None
        try:
            result = await self.poller.poll(
                target,
                generation=device.generation,
                probe=device.failures > 0,
                deadline=poll_deadline(target),
            )
        except Exception:
            log.exception("%s: poll failed unexpectedly", target.name)
            result = PollResult(  # not stored; the device backs off like after any failed poll
                device=target.name, started=self.clock.time(), duration=0.0, up=False, error="internal"
            )
        finally:
            task = asyncio.current_task()
            self._tasks.discard(task)
            self._running[pool] -= 1
            self.metrics.in_flight.dec()
            self.metrics.poll_duration.observe(self.clock.monotonic() - started)
            device.task = None
            current = self.devices.get(target.name)
            if current is not None and current.task is task:  # the changed target waited: poll it now
                current.task = None
                current.due = min(current.due, self.clock.monotonic())
                self._push(current)
            self._poke()
        if result is not None and not self._stopping and self._current(device):
            self._finish(device, result)

    def _finish(self, device: Device, result: PollResult) -> None:
        """Count the outcome and schedule the device's next poll."""
        target = device.target
        name = target.name
        outcome = "ok" if result.up else ("timeout" if result.error == "timeout" else "error")
        self.metrics.polls.labels(outcome).inc()
        device.polled = True
        now = self.clock.monotonic()
        if result.up:
            if device.failures:
                log.info("%s: answering again after %d failed polls", name, device.failures)
            device.failures = 0
            device.last_error = ""
            interval = target.interval
            device.due += interval
            if device.realign:
                device.realign = False
                device.due = self.stable_due(name, interval, after=device.due - interval / 2)
            if device.due <= now:  # the poll overran: skip the runs it missed
                missed = int((now - device.due) // interval) + 1
                self.metrics.overruns.inc(missed)
                device.due += missed * interval
        else:
            device.failures += 1
            if device.failures == 1 or result.error != device.last_error:
                log.warning("%s: poll failed (%s); backing off", name, result.error)
            device.last_error = result.error
            delay = backoff_delay(target.interval, device.failures)
            device.due = now + delay * self.rng.uniform(1.0 - BACKOFF_JITTER, 1.0)
        self._push(device)

    def stable_due(self, name: str, interval: float, *, after: float) -> float:
        """The first time at or after ``after`` on the device's stable phase (``phase`` from the epoch)."""
        start = self._epoch + phase(name, interval)
        return start + max(0, math.ceil((after - start) / interval)) * interval

    # --- state and shutdown ----------------------------------------------------------------------

    def target_states(self) -> dict[str, int]:
        """Targets by state (each in one): pending (not polled yet, or answered last time and now due
        and waiting for a slot: the collector is behind), up (last poll ok), down (failed once),
        backoff (failed twice or more)."""
        counts = {"up": 0, "down": 0, "backoff": 0, "pending": 0}
        for device in list(self.devices.values()):  # read from the serving thread: snapshot first
            if not device.polled or (device.queued and not device.failures):
                counts["pending"] += 1
            elif not device.failures:
                counts["up"] += 1
            elif device.failures >= 2:
                counts["backoff"] += 1
            else:
                counts["down"] += 1
        return counts

    def behind_seconds(self) -> float:
        """How late the longest-waiting due poll is against its schedule (0 when none waits)."""
        now = self.clock.monotonic()
        late = 0.0
        for ready in self._ready.values():
            for device in ready:
                if device.queued and self._current(device):
                    late = max(late, now - device.due)
                    break  # queues are in due order: the first current one is the latest
        return late

    async def idle(self) -> None:
        """Wait until no poll is running (for tests and tools)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def shutdown(self, grace: float = 10.0) -> None:
        """Stop starting polls, let running polls finish for up to ``grace`` seconds, cancel the rest."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._loop_task is not None:
            self._poke()
            await self._loop_task
            self._loop_task = None
        running = [t for t in self._tasks if not t.done()]
        if not running:
            return
        log.info("stopping: waiting up to %g s for %d running polls", grace, len(running))
        _done, pending = await asyncio.wait(running, timeout=grace)
        if pending:
            for task in pending:
                task.cancel()
            await asyncio.wait(pending)
            log.info("stopping: %d polls still running after %g s were cancelled", len(pending), grace)
