"""The scheduling rules on a fake clock, against real UDP agents whose answers a test can hold back.

The scheduler's time (due times, backoff, lag) is a :class:`FakeClock` the test advances; the polls
are real: the wire client walks scripted agents on loopback (``tests/snmp/agents.py``), each gated by a
``threading.Event`` so a test decides when a poll in flight may finish.  Waits are on conditions with
generous bounds, never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from collectors.metrics import CollectorMetrics
from collectors.mibmodules import load_modules
from collectors.poller import Poller
from collectors.scheduler import BACKOFF_JITTER, Clock, Scheduler, backoff_delay
from collectors.snmp import OCTET_STRING, TIMETICKS, SnmpClient
from collectors.snmp.ber import GET, GET_BULK
from collectors.snmp.messages import encode_message
from collectors.store import SampleStore
from collectors.targets import parse_target
from collectors.v3 import PysnmpClient
from exporters import exposition as ex
from tests.snmp.agents import Mib, ScriptedAgent

INTERVAL = 10.0
SYSTEM = [
    ("1.3.6.1.2.1.1.1.0", OCTET_STRING, b"scripted agent"),
    ("1.3.6.1.2.1.1.3.0", TIMETICKS, 12345),
    ("1.3.6.1.2.1.1.5.0", OCTET_STRING, b"scripted"),
    ("1.3.6.1.2.1.2.1.0", OCTET_STRING, b"after the system group"),
]
MIB = Mib(SYSTEM)
GEN_ERR = 5


class _Timer:
    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock(Clock):
    """Time that moves only when the test calls :meth:`advance`."""

    def __init__(self) -> None:
        self.now = 0.0
        self.wall0 = time.time()
        self._timers: list[tuple[float, int, _Timer]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall0 + self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Timer:  # type: ignore[override]
        timer = _Timer(callback)
        heapq.heappush(self._timers, (self.now + delay, next(self._seq), timer))
        return timer

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while self._timers and self._timers[0][0] <= end:
            when, _, timer = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            if not timer.cancelled:
                timer.callback()
        self.now = end


class Agent:
    """A scripted agent answering the system group; ``gate`` holds answers back, ``mode`` breaks it."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.mode = "ok"  # "ok" | "genErr" | "silent"
        self.scripted = ScriptedAgent(self._reply)

    def _reply(self, msg, raw):
        self.gate.wait(30)
        if self.mode == "silent":
            return []
        status = GEN_ERR if self.mode == "genErr" else 0
        return [(encode_message(MIB.answer(msg, error_status=status, error_index=1 if status else 0)), None)]

    @property
    def requests(self) -> list:
        return self.scripted.requests


@pytest.fixture
def agents():
    made: list[Agent] = []

    def make() -> Agent:
        agent = Agent()
        agent.scripted.__enter__()
        made.append(agent)
        return agent

    yield make
    for agent in made:
        agent.gate.set()
        agent.scripted.__exit__()


def target(agent: Agent, name: str, **overrides):
    entry = {
        "id": 7,
        "name": name,
        "address": "127.0.0.1",
        "port": agent.scripted.port,
        "version": "2c",
        "community": "public",
        "timeout": 5.0,
        "retries": 0,
        "interval": INTERVAL,
        "modules": ["system"],
        "labels": {"device": name},
    }
    entry.update(overrides)
    return parse_target(entry, "test")


@dataclass
class Run:
    scheduler: Scheduler
    clock: FakeClock
    store: SampleStore
    poller: Poller
    metrics: CollectorMetrics
    observed: list

    async def until(self, condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        """Let the loop run until ``condition()`` holds (bounded in time)."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.005)

    def advance_to(self, when: float) -> None:
        self.clock.advance(max(0.0, when - self.clock.now))

    async def settle(self) -> None:
        """Let the scheduler loop process what the last clock step released."""
        for _ in range(20):
            await asyncio.sleep(0)

    def lag_sum(self) -> float:
        return (
            self.metrics.registry.get_sample_value("infrastrand_collector_scheduler_lag_seconds_sum") or 0.0
        )


@contextlib.asynccontextmanager
async def running(**kw) -> AsyncIterator[Run]:
    clock = FakeClock()
    store = SampleStore()
    wire = SnmpClient(bind6=None)
    await wire.start()
    pysnmp = PysnmpClient()
    observed: list = []
    poller = Poller(modules=load_modules(), store=store, wire=wire, pysnmp=pysnmp, observe=observed.append)
    metrics = CollectorMetrics()
    scheduler = Scheduler(poller, metrics, clock=clock, rng=random.Random(7), **kw)
    scheduler.start()
    try:
        yield Run(scheduler, clock, store, poller, metrics, observed)
    finally:
        await scheduler.shutdown(grace=5)
        await wire.close()
        pysnmp.close()


def started(agent: Agent, since: int = 0) -> Callable[[], bool]:
    return lambda: len(agent.requests) > since


def test_a_target_removed_while_its_poll_is_in_flight_is_not_written_back(agents):
    """Defect 2 (ghosts): the finishing poll of a removed target neither stores nor observes it."""
    agent = agents()
    t = target(agent, "ghost")

    async def go():
        async with running() as run:
            agent.gate.clear()
            run.scheduler.apply([t])
            assert run.store.get("ghost") is not None  # known, pending, before its first poll
            run.clock.advance(INTERVAL)
            await run.until(started(agent), "the poll to be in flight")
            run.scheduler.apply([])
            assert run.store.get("ghost") is None
            agent.gate.set()
            await run.scheduler.idle()
            assert run.store.get("ghost") is None and run.store.devices() == []
            assert run.observed == []
            assert run.poller.discarded == 1

    asyncio.run(go())


def test_a_target_changed_while_its_poll_is_in_flight_is_polled_again(agents):
    """The old target's late result is discarded; the changed one is polled as soon as the old poll ends
    (never two polls of one device at once)."""
    agent = agents()
    old = target(agent, "rtr", labels={"device": "rtr", "site": "old"})
    new = target(agent, "rtr", labels={"device": "rtr", "site": "new"})

    async def go():
        async with running() as run:
            agent.gate.clear()
            run.scheduler.apply([old])
            run.clock.advance(INTERVAL)
            await run.until(started(agent), "the old poll")
            run.scheduler.apply([new])
            await run.settle()
            assert len(agent.requests) == 1  # the new target waits for the old poll
            agent.gate.set()
            await run.until(lambda: run.store.get("rtr").polled, "the new target's poll")
            entry = run.store.get("rtr")
            assert entry.labels["site"] == "new" and entry.result.up
            assert [o["device"] for o in run.observed] == ["rtr"]  # only the new target's poll
            assert run.poller.discarded == 1

    asyncio.run(go())


def test_shutdown_lets_running_polls_finish_and_records_them(agents, caplog):
    """Defect 3: a poll in flight at shutdown finishes within the grace; its result is stored and
    observed (the runner then flushes observations); no ERROR is logged."""
    agent = agents()

    async def go():
        async with running() as run:
            agent.gate.clear()
            run.scheduler.apply([target(agent, "busy")])
            run.clock.advance(INTERVAL)
            await run.until(started(agent), "the poll")
            stopping = asyncio.ensure_future(run.scheduler.shutdown(grace=30))
            await run.settle()
            assert not stopping.done()  # waiting for the running poll
            agent.gate.set()
            await asyncio.wait_for(stopping, 30)
            assert run.store.get("busy").result.up
            assert [o["device"] for o in run.observed] == ["busy"]

    with caplog.at_level(logging.INFO, logger="collectors"):
        asyncio.run(go())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "stopping: waiting up to 30 s for 1 running polls" in caplog.text


def test_shutdown_past_the_grace_cancels_with_one_info_line(agents, caplog):
    agent = agents()

    async def go():
        async with running() as run:
            agent.gate.clear()
            run.scheduler.apply([target(agent, f"stuck{i}") for i in range(3)])
            run.clock.advance(INTERVAL)
            await run.until(lambda: len(agent.requests) >= 1, "the polls")
            await run.until(lambda: len(run.scheduler._tasks) == 3, "three polls in flight")
            await run.scheduler.shutdown(grace=0.2)
            assert not run.scheduler._tasks
            assert run.observed == []

    with caplog.at_level(logging.INFO, logger="collectors"):
        asyncio.run(go())
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    cancelled = [r.getMessage() for r in caplog.records if "cancelled" in r.getMessage()]
    assert cancelled == ["stopping: 3 polls still running after 0.2 s were cancelled"]


def test_a_failing_device_is_probed_in_its_own_budget(agents):
    """Defect 6: after a failed poll the device is probed (one GET, no retries) in the failing budget;
    a healthy device due meanwhile starts at once although the probe holds a slot."""
    failing, healthy = agents(), agents()
    f, h = target(failing, "f", retries=3), target(healthy, "h")

    async def go():
        async with running(max_in_flight=1, max_in_flight_failing=1) as run:
            failing.mode = "genErr"
            run.scheduler.apply([f, h])
            run.clock.advance(INTERVAL)
            await run.until(lambda: run.scheduler.devices["f"].polled, "f's first poll")
            await run.until(lambda: run.scheduler.devices["h"].polled, "h's first poll")
            assert run.store.get("f").result.error == "genErr"
            assert run.scheduler.devices["f"].failures == 1
            # let h's schedule pass f's backoff, so that f's probe is in flight when h falls due
            devices = run.scheduler.devices
            while devices["h"].due < devices["f"].due:
                h_seen = len(healthy.requests)
                run.advance_to(devices["h"].due)
                await run.until(
                    lambda n=h_seen: len(healthy.requests) > n and not devices["h"].task, "h's poll"
                )
            # f is silent now: its probe is one GET that is not retried (retries=3 notwithstanding)
            failing.mode = "silent"
            failing.gate.clear()
            seen = len(failing.requests)
            run.advance_to(devices["f"].due)
            await run.until(started(failing, seen), "f's probe")
            probe = failing.requests[seen]
            assert probe.pdu_type == GET and [vb[0] for vb in probe.varbinds] == ["1.3.6.1.2.1.1.3.0"]
            # h falls due while f's probe holds the failing budget's only slot: h starts at once
            lag_before, h_seen = run.lag_sum(), len(healthy.requests)
            run.advance_to(devices["h"].due)
            await run.until(started(healthy, h_seen), "h's poll")
            assert run.scheduler.target_states()["pending"] == 0
            assert run.lag_sum() == pytest.approx(lag_before, abs=1e-6)  # h started on time
            failing.gate.set()
            await run.until(lambda: run.scheduler.devices["f"].failures == 2, "f's probe to time out")
            assert len(failing.requests) == seen + 1  # no retry, no walk after a failed probe
            assert run.store.get("f").result.error == "timeout"
            # f comes back: within one interval it is probed, walked and up
            failing.mode = "ok"
            seen = len(failing.requests)
            run.clock.advance(INTERVAL)
            await run.until(lambda: run.scheduler.devices["f"].failures == 0, "f to be up again")
            kinds = [m.pdu_type for m in failing.requests[seen:]]
            assert kinds[0] == GET and GET_BULK in kinds[1:]
            assert run.store.get("f").result.up

    asyncio.run(go())


def test_backoff_is_jittered_and_never_longer_than_one_interval(agents):
    agent = agents()
    agent.mode = "genErr"
    names = [f"sw{i}" for i in range(8)]

    async def go():
        async with running() as run:
            run.scheduler.apply([target(agent, n) for n in names])
            run.clock.advance(INTERVAL)
            await run.until(lambda: all(run.scheduler.devices[n].polled for n in names), "the first polls")
            now = run.clock.now
            nominal = backoff_delay(INTERVAL, 1)
            delays = [run.scheduler.devices[n].due - now for n in names]
            assert all((1 - BACKOFF_JITTER) * nominal <= d <= nominal for d in delays), delays
            assert len({round(d, 6) for d in delays}) == len(delays)  # not one synchronized burst

    asyncio.run(go())
    assert all(backoff_delay(INTERVAL, n) <= INTERVAL for n in range(1, 50))


def test_a_device_waiting_for_a_slot_is_pending_and_its_lag_counts(agents):
    """Overload: with one slot, the second device waits; it is pending (not down) while it waits, the
    behind gauge and the lag histogram measure its lateness against its own schedule."""
    a, b = agents(), agents()

    async def go():
        async with running(max_in_flight=1) as run:
            a.gate.clear()
            b.gate.clear()
            run.scheduler.apply([target(a, "a"), target(b, "b")])
            run.clock.advance(INTERVAL)
            await run.until(lambda: len(a.requests) + len(b.requests) == 1, "one poll in flight")
            second = "b" if a.requests else "a"
            assert run.scheduler.target_states()["pending"] == 2  # neither has been polled yet
            waiting = run.store.get(second)
            assert waiting.queued_since is not None
            assert ex.device_state(waiting, run.clock.time()) == ex.PENDING
            due = run.scheduler.devices[second].due
            run.clock.advance(25.0)
            assert run.scheduler.behind_seconds() == pytest.approx(run.clock.now - due)
            lag_before = run.lag_sum()
            a.gate.set()
            b.gate.set()
            await run.until(lambda: run.store.get(second).polled, "the waiting poll")
            assert run.lag_sum() - lag_before == pytest.approx(run.clock.now - due)
            assert run.scheduler.target_states()["pending"] == 0
            assert run.scheduler.behind_seconds() == 0
            # later its data goes stale while it waits again behind a held poll: pending, not down
            a.gate.clear()
            b.gate.clear()
            run.clock.advance(3 * INTERVAL)
            await run.until(lambda: run.scheduler.target_states()["pending"] == 1, "a queued poll again")
            queued = next(name for name, d in run.scheduler.devices.items() if d.queued)
            entry = run.store.get(queued)
            result = entry.result
            stale = result.started + result.duration + 2 * result.interval + 1
            assert result.up and ex.device_state(entry, stale) == ex.PENDING
            a.gate.set()
            b.gate.set()

    asyncio.run(go())


def test_a_poll_that_overruns_skips_the_runs_it_missed(agents):
    agent = agents()

    async def go():
        async with running() as run:
            agent.gate.clear()
            run.scheduler.apply([target(agent, "slow")])
            run.clock.advance(INTERVAL)
            await run.until(started(agent), "the poll")
            due = run.scheduler.devices["slow"].due
            run.advance_to(due + 2.5 * INTERVAL)  # two scheduled runs pass while it walks
            await run.settle()
            assert len(agent.requests) == 1  # never two polls of one device at once
            agent.gate.set()
            await run.until(lambda: run.scheduler.devices["slow"].polled, "the poll")
            assert run.metrics.overruns._value.get() == 2
            assert run.scheduler.devices["slow"].due == pytest.approx(due + 3 * INTERVAL)

    asyncio.run(go())


def test_an_observation_says_where_the_device_was_polled(agents):
    """The inventory's primary-IP drift compares the record with the address the collector polled."""
    agent = agents()
    t = target(agent, "addressed")

    async def go():
        async with running() as run:
            run.scheduler.apply([t])
            run.clock.advance(INTERVAL)
            await run.until(lambda: bool(run.observed), "the first observation")
            (observation,) = run.observed
            assert observation["up"] and observation["facts"]["address"] == "127.0.0.1"

    asyncio.run(go())


def test_an_ha_member_polls_a_device_it_is_given_within_the_first_poll_spread(agents):
    """Issue 16: a member taking over a dead peer's devices polls them within ``first_poll_spread`` (one
    lease), not up to one interval later; after that first poll the device is back on its stable phase,
    at least half an interval on, so a takeover's burst does not repeat every interval.  The first
    target list is still spread over the interval."""
    from collectors.scheduler import phase

    agent = agents()
    name = next(n for n in (f"taken{i}" for i in range(200)) if phase(n, INTERVAL) > 0.6 * INTERVAL)
    spread = 1.0

    async def go():
        async with running(first_poll_spread=spread) as run:
            run.scheduler.apply([target(agent, name)])  # the first list: at its phase, as without HA
            run.clock.advance(spread)
            await run.settle()
            assert agent.requests == []
            run.scheduler.apply([])
            run.scheduler.apply([target(agent, name)])  # taken over by a running member
            run.clock.advance(spread)
            await run.until(lambda: run.store.get(name).polled, "the first poll, within the spread")
            first = len(agent.requests)
            await run.scheduler.idle()
            device = run.scheduler.devices[name]
            stable = run.scheduler._epoch + phase(name, INTERVAL)
            assert device.due >= run.clock.now + INTERVAL / 2 - spread
            assert (device.due - stable) % INTERVAL == pytest.approx(0.0, abs=1e-6)
            run.advance_to(device.due - 0.01)
            await run.settle()
            assert len(agent.requests) == first  # nothing before its stable phase
            run.advance_to(device.due)
            await run.until(started(agent, first), "the second poll, on the stable phase")

    asyncio.run(go())


def test_without_a_first_poll_spread_a_new_device_waits_for_its_phase(agents):
    """The default (no HA): a device's first poll is at its phase within the interval, as before."""
    from collectors.scheduler import phase

    agent = agents()
    name = next(n for n in (f"taken{i}" for i in range(200)) if phase(n, INTERVAL) > 0.6 * INTERVAL)

    async def go():
        async with running() as run:
            run.scheduler.apply([target(agent, name)])
            run.clock.advance(1.0)
            await run.settle()
            assert agent.requests == [] and not run.store.get(name).polled

    asyncio.run(go())
