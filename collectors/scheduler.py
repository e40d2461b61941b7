"""Poll scheduling on APScheduler's AsyncIOScheduler: one interval job per device.

- Start times are spread over the interval by a stable hash of the device name, so thousands of
  devices do not fire together and a restart keeps each device's phase.
- `max_instances=1` per job: never two polls of one device at once (a skipped run counts as an
  overrun); misfires coalesce into one run, however late.
- A global semaphore bounds the polls in flight.
- A failed poll stores `up=0` at once and the device backs off: first retry after a quarter of its
  interval, doubling up to `BACKOFF_CAP` intervals; other devices are not slowed.
- `apply()` adds, removes and reschedules jobs when the target list changes, without a restart.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED, JobEvent, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from collectors.metrics import CollectorMetrics
from collectors.poller import Poller
from collectors.targets import Target

log = logging.getLogger(__name__)

BACKOFF_CAP = 5.0  # longest backoff, in poll intervals
BACKOFF_FIRST = 0.25  # first retry after this fraction of the interval
BACKOFF_MIN_SECONDS = 0.5


def backoff_delay(interval: float, failures: int) -> float:
    """Seconds until the next attempt after `failures` consecutive failed polls."""
    first = max(BACKOFF_MIN_SECONDS, interval * BACKOFF_FIRST)
    return min(first * 2 ** (failures - 1), interval * BACKOFF_CAP)


def phase(name: str, interval: float) -> float:
    """A stable offset in [0, interval) for the device's first poll."""
    fraction = int.from_bytes(hashlib.md5(name.encode()).digest()[:8], "big") / 2**64
    return fraction * interval


@dataclass(slots=True)
class DeviceState:
    failures: int = 0  # consecutive failed polls
    polled: bool = False
    last_error: str = ""


class Scheduler:
    """Runs the device polls; `apply()` the target list, `start()` inside the loop, `shutdown()`."""

    def __init__(self, poller: Poller, metrics: CollectorMetrics, *, max_in_flight: int = 500) -> None:
        self.poller = poller
        self.metrics = metrics
        self.targets: dict[str, Target] = {}
        self.states: dict[str, DeviceState] = {}
        self.max_in_flight = max_in_flight
        self._semaphore: asyncio.Semaphore | None = None
        self._running: set[asyncio.Task] = set()
        self._scheduled: dict[str, datetime] = {}  # device -> scheduled time of its submitted run
        self._stopping = False
        self.aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.aps.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
        self.aps.add_listener(self._on_overrun, EVENT_JOB_MAX_INSTANCES)

    def start(self) -> None:
        self._semaphore = asyncio.Semaphore(self.max_in_flight)
        self.aps.start()

    # --- target changes --------------------------------------------------------------------------

    def apply(self, targets: list[Target]) -> tuple[int, int, int]:
        """Make the jobs match `targets`; returns (added, removed, changed)."""
        new = {t.name: t for t in targets}
        added = removed = changed = 0
        for name in list(self.targets):
            if name not in new:
                self._remove(name)
                removed += 1
        now = datetime.now(UTC)
        for name, target in new.items():
            old = self.targets.get(name)
            if old == target:
                continue
            self.targets[name] = target
            if old is None:
                self.states[name] = DeviceState()
                self.aps.add_job(
                    self._job,
                    IntervalTrigger(seconds=target.interval, timezone=UTC),
                    args=[name],
                    id=name,
                    name=name,
                    next_run_time=now + timedelta(seconds=phase(name, target.interval)),
                )
                added += 1
                continue
            self.poller.forget(old)
            if old.interval != target.interval:
                self.aps.reschedule_job(name, trigger=IntervalTrigger(seconds=target.interval, timezone=UTC))
                self.aps.modify_job(name, next_run_time=now + timedelta(seconds=phase(name, target.interval)))
            changed += 1
        if added or removed or changed:
            log.info("targets: %d added, %d removed, %d changed, %d total", added, removed, changed, len(new))
        return added, removed, changed

    def _remove(self, name: str) -> None:
        target = self.targets.pop(name)
        self.states.pop(name, None)
        self._scheduled.pop(name, None)
        if self.aps.get_job(name) is not None:
            self.aps.remove_job(name)
        self.poller.forget(target)
        self.poller.store.remove(name)

    # --- polling ---------------------------------------------------------------------------------

    async def _job(self, name: str) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await self._poll(name)
        finally:
            self._running.discard(task)

    async def _poll(self, name: str) -> None:
        target = self.targets.get(name)
        if target is None or self._stopping:
            return
        assert self._semaphore is not None
        async with self._semaphore:
            if self.targets.get(name) is not target:  # changed or removed while waiting
                return
            scheduled = self._scheduled.pop(name, None)
            if scheduled is not None:  # lag includes the wait for an in-flight slot
                self.metrics.scheduler_lag.observe(max(0.0, (datetime.now(UTC) - scheduled).total_seconds()))
            self.metrics.in_flight.inc()
            started = time.monotonic()
            try:
                result = await self.poller.poll(target)
            except Exception:
                log.exception("%s: poll failed unexpectedly", name)
                return
            finally:
                self.metrics.in_flight.dec()
                self.metrics.poll_duration.observe(time.monotonic() - started)
        outcome = "ok" if result.up else ("timeout" if result.error == "timeout" else "error")
        self.metrics.polls.labels(outcome).inc()
        state = self.states.get(name)
        if state is None:
            return
        state.polled = True
        if result.up:
            if state.failures:
                log.info("%s: answering again after %d failed polls", name, state.failures)
            state.failures = 0
            state.last_error = ""
            return
        state.failures += 1
        if state.failures == 1 or result.error != state.last_error:
            log.warning("%s: poll failed (%s); backing off", name, result.error)
        state.last_error = result.error
        delay = backoff_delay(target.interval, state.failures)
        if not self._stopping and self.aps.get_job(name) is not None:
            self.aps.modify_job(name, next_run_time=datetime.now(UTC) + timedelta(seconds=delay))

    def _on_submitted(self, event: JobSubmissionEvent) -> None:
        if event.scheduled_run_times:
            self._scheduled[event.job_id] = event.scheduled_run_times[-1]

    def _on_overrun(self, event: JobEvent) -> None:
        self.metrics.overruns.inc()

    # --- state and shutdown ----------------------------------------------------------------------

    def target_states(self) -> dict[str, int]:
        """Targets by state: up (last poll ok), down (first failure or not polled yet), backoff."""
        counts = {"up": 0, "down": 0, "backoff": 0}
        for state in list(self.states.values()):  # read from the serving thread: snapshot first
            if state.polled and not state.failures:
                counts["up"] += 1
            elif state.failures >= 2:
                counts["backoff"] += 1
            else:
                counts["down"] += 1
        return counts

    async def shutdown(self, grace: float = 10.0) -> None:
        """Stop scheduling, let running polls finish for up to `grace` seconds, cancel the rest."""
        self._stopping = True
        if self.aps.running:
            self.aps.shutdown(wait=False)
        running = [t for t in self._running if not t.done()]
        if running:
            _done, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
