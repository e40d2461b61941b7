"""Poll one device: walk its modules' roots, turn the walk into a PollResult, store it, queue facts.

A device in backoff is probed first (one GET of the modules' probe OID, no retries, a short timeout)
and walked only when it answers.  A walk has an overall deadline.  The store refuses the result of a
target that was removed or changed while its poll ran (its generation is no longer current); such a
result is not observed either.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from collectors.mibmodules import Module, all_roots, module_samples
from collectors.observations import observation_from
from collectors.snmp import SnmpTarget, WalkResult
from collectors.snmp.usm import UsmUser
from collectors.store import MetricFamily, PollResult, SampleStore, StoreEntry
from collectors.targets import Target

log = logging.getLogger(__name__)
BAD_VALUE_LOG_INTERVAL = 300.0
PROBE_TIMEOUT = 1.0  # seconds, at most: a probe only asks "are you back?"


class WalkClient(Protocol):
    async def walk(self, target: Any, roots: list[str]) -> WalkResult: ...


class WireClient(Protocol):
    """The lean v1/v2c client's interface (:class:`collectors.snmp.SnmpClient`)."""

    async def walk(
        self, target: SnmpTarget, roots: list[str], deadline: float | None = None
    ) -> WalkResult: ...

    async def get(self, target: SnmpTarget, oids: list[str]) -> WalkResult: ...


def probe_target(target: Any) -> Any:
    """The client-side target of a probe: no retries, a timeout of at most ``PROBE_TIMEOUT``."""
    return dataclasses.replace(target, retries=0, timeout=min(target.timeout, PROBE_TIMEOUT))


def snmp_target(target: Target) -> SnmpTarget:
    """The wire client's view of a target (v1/v2c community, or the SNMPv3 USM user)."""
    v3 = target.v3
    usm = None
    if v3 is not None:
        usm = UsmUser(
            username=v3.username.encode(),
            auth_protocol=v3.auth_protocol,
            auth_password=(v3.auth_key or "").encode() or None,
            priv_protocol=v3.priv_protocol,
            priv_password=(v3.priv_key or "").encode() or None,
            context_name=v3.context.encode(),
            auth_master_key=v3.auth_master_key,
            priv_master_key=v3.priv_master_key,
        )
    return SnmpTarget(
        address=target.address,
        port=target.port,
        version=target.version,
        community=(target.community or "").encode(),
        timeout=target.timeout,
        retries=target.retries,
        max_repetitions=target.max_repetitions,
        usm=usm,
    )


def build_result(
    target: Target, modules: list[Module], walk: WalkResult, started: float
) -> tuple[PollResult, dict[str, dict[str, Any]] | None, int, int]:
    """The PollResult of a walk (families only when the walk succeeded), raw columns, bad values and
    duplicate samples dropped."""
    common = {
        "device": target.name,
        "started": started,
        "duration": walk.duration,
        "pdus": walk.pdus,
        "varbinds": walk.varbinds_count,
        "retries": walk.retries,
        "interval": target.interval,
    }
    if walk.error:
        return PollResult(up=False, error=walk.error, **common), None, 0, 0
    families: list[MetricFamily] = []
    columns: dict[str, dict[str, Any]] = {}
    bad = duplicates = 0
    for module in modules:
        out = module_samples(module, walk.varbinds)
        families.extend(out.families)
        columns.update(out.columns)
        bad += out.bad_values
        duplicates += out.duplicates
    return PollResult(up=True, families=tuple(families), **common), columns, bad, duplicates


class Poller:
    """Polls devices with the right client for their SNMP version and records the outcome."""

    def __init__(
        self,
        *,
        modules: dict[str, Module],
        store: SampleStore,
        wire: WireClient | None,
        pysnmp: WalkClient,
        observe: Callable[[dict[str, Any]], None] | None = None,
        render: Callable[[StoreEntry], None] | None = None,
    ) -> None:
        self.modules = modules
        self.store = store
        self.wire = wire
        self.pysnmp = pysnmp
        self.observe = observe
        self.render = render  # fills a stored result's exposition cache (see Poller.poll)
        self.bad_values = 0  # varbinds whose value did not fit their metric's type (or index)
        self.duplicates = 0  # samples dropped because an earlier row of the family had the same labels
        self.discarded = 0  # results of removed or changed targets, not stored
        self.probe_oid = next((m.probe for m in modules.values() if m.probe), None)
        self._last_bad_log = 0.0
        self._plans: dict[Target, tuple[list[Module], list[str], Any]] = {}

    def plan(self, target: Target) -> tuple[list[Module], list[str], Any]:
        """Modules, walk roots and client-side target of a device, computed once per target version."""
        plan = self._plans.get(target)
        if plan is None:
            unknown = [m for m in target.modules if m not in self.modules]
            if unknown:
                log.warning("%s: unknown module(s) %s ignored", target.name, ", ".join(unknown))
            modules = [self.modules[m] for m in target.modules if m in self.modules]
            use_wire = self.wire is not None
            plan = (modules, all_roots(modules), snmp_target(target) if use_wire else target)
            self._plans[target] = plan
        return plan

    def forget(self, target: Target) -> None:
        plan = self._plans.pop(target, None)
        if plan is not None and isinstance(plan[2], SnmpTarget):  # v3 engine state and cached keys
            self.wire.forget(plan[2])

    async def poll(
        self,
        target: Target,
        *,
        generation: int | None = None,
        probe: bool = False,
        deadline: float | None = None,
    ) -> PollResult:
        """Walk, build, store and observe one device; never raises for device faults.

        A stored result whose device's previous result was scraped is rendered at once by ``render``
        (the exporter's ``exposition.prerender``): the serving thread, which shares the GIL, then only
        writes cached bytes (a 48-port switch's render and gzip is ~1.5 ms of Python).  A device
        scraped less often than it is polled stays rendered on demand, so at most one render per
        scrape is wasted.

        ``generation`` is the target's generation in the store (``SampleStore.register``): a result
        whose generation is no longer current is neither stored nor observed.  ``probe`` sends one
        short GET first and walks only if it is answered.  ``deadline`` bounds the whole walk
        (seconds; error ``deadline`` past it).
        """
        modules, roots, client_target = self.plan(target)
        started = time.time()
        if probe and self.probe_oid is not None:
            walk = await self._probe(client_target)
            if walk.ok:  # back: walk it now, the probe's cost counted in the poll
                answered = walk
                walk = await self._walk(client_target, roots, deadline)
                walk.pdus += answered.pdus
                walk.duration += answered.duration
        else:
            walk = await self._walk(client_target, roots, deadline)
        result, columns, bad, duplicates = build_result(target, modules, walk, started)
        self.duplicates += duplicates
        if bad:
            self.bad_values += bad
            if time.monotonic() - self._last_bad_log > BAD_VALUE_LOG_INTERVAL or not self._last_bad_log:
                self._last_bad_log = time.monotonic()
                log.warning(
                    "%s: %d varbinds of unexpected type or index skipped (logged once per 5 min)",
                    target.name,
                    bad,
                )
        previous = self.store.get(target.name)
        if not self.store.put(result, dict(target.labels), generation=generation):
            self.discarded += 1
            return result
        if self.render is not None and previous is not None and previous.scraped:
            entry = self.store.get(target.name)  # scraped every poll: render it here, not at the scrape
            if entry is not None:
                self.render(entry)
        if self.observe is not None and target.id is not None:  # the inventory matches by device id
            self.observe(
                observation_from(
                    device=target.name,
                    device_id=target.id,
                    started=started,
                    duration=result.duration,
                    up=result.up,
                    error=result.error,
                    columns=columns,
                    address=target.address,
                )
            )
        return result

    async def _walk(self, client_target: Any, roots: list[str], deadline: float | None) -> WalkResult:
        if isinstance(client_target, SnmpTarget):
            assert self.wire is not None
            return await self.wire.walk(client_target, roots, deadline=deadline)
        started = time.monotonic()
        try:
            async with asyncio.timeout(deadline):
                return await self.pysnmp.walk(client_target, roots)
        except TimeoutError:
            return WalkResult(error="deadline", duration=time.monotonic() - started)

    async def _probe(self, client_target: Any) -> WalkResult:
        """One request for the probe OID, no retries: a timeout or an error status fails the probe."""
        assert self.probe_oid is not None
        quick = probe_target(client_target)
        if isinstance(client_target, SnmpTarget):
            assert self.wire is not None
            return await self.wire.get(quick, [self.probe_oid])
        return await self.pysnmp.walk(quick, [self.probe_oid])
