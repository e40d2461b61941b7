"""The discovery sweep engine (issue 15, contract 9): which addresses of a prefix answer SNMP, and what.

A job (:func:`parse_job`, the shape of ``GET /api/collector/discovery/``) names a prefix and the credentials
to try.  :class:`Sweep` visits the prefix's hosts in ascending order (:func:`host_at`: IPv4 shorter than /31
without network and broadcast address; /31, /32 and IPv6 every address), resuming at the job's ``done``:

- each address is asked, with each credential in order until one answers, one GET of the scalars the MIB
  modules' ``discovery: get`` name (``system.yaml``: sysName, sysDescr, sysObjectID, sysUpTime);
- an address that answered is then read with the same credential: the ``find``/``get`` rows
  (``entity.yaml``: serial and model of the first chassis) and the ``walk`` columns (``if_mib.yaml``: the
  columns of contract 2's interface objects; ``ip_mib.yaml``: ipAddrTable), and becomes one result:
  ``{"address", "profile_id", "facts", "interfaces"[, "addresses"]}``, the facts and interfaces built like
  observations (:mod:`collectors.observations`' ``facts_from`` / ``interfaces_from``), the addresses (with
  mask length and ifIndex) by :func:`addresses_from`.

Requests go through the collector's own wire client (:class:`collectors.snmp.SnmpClient`: v1/v2c and the
USM path for v3), paced by a :class:`TokenBucket` (every request PDU costs a token, retransmissions and v3
engine discovery included) and run by at most ``concurrency`` workers of their own, so a sweep never takes
the in-flight slots of the polls.  ``done`` only counts the leading addresses that are finished, so a
sweep stopped at any moment resumes without skipping one.  No Django, no HTTP here:
:mod:`collectors.discovery_jobs` fetches, claims and reports jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from collectors.mibmodules import DiscoveryPlan, Module
from collectors.observations import facts_from, interfaces_from
from collectors.poller import snmp_target
from collectors.snmp import SnmpTarget, WalkResult
from collectors.targets import TargetError, parse_target

MAX_CONCURRENCY = 128
"""Default cap of the addresses a sweep works on at once (``--discovery-concurrency``)."""
NO_ADDRESS = "0.0.0.0"  # a credential's target before it is given an address


class JobError(ValueError):
    """A discovery job entry is invalid; the message names the job and the field."""


# --- addresses ------------------------------------------------------------------------------------


def _span(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    """(first host as an integer, number of hosts) per contract 9."""
    first = int(network.network_address)
    if network.version == 4 and network.prefixlen < 31:
        return first + 1, network.num_addresses - 2
    return first, network.num_addresses


def host_count(prefix: str) -> int:
    """How many addresses a sweep of ``prefix`` visits."""
    return _span(ipaddress.ip_network(prefix, strict=False))[1]


def host_at(prefix: str, index: int) -> str:
    """The ``index``-th address (from 0) a sweep of ``prefix`` visits."""
    network = ipaddress.ip_network(prefix, strict=False)
    first, count = _span(network)
    if not 0 <= index < count:
        raise IndexError(f"{prefix} has {count} hosts, not {index + 1}")
    return str(
        ipaddress.ip_address(first + index) if network.version == 4 else ipaddress.IPv6Address(first + index)
    )


# --- rate limit -----------------------------------------------------------------------------------


class Clock(Protocol):
    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """Real time for the token bucket."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


BURST_SECONDS = 0.1
"""A bucket holds this many seconds' worth of tokens: a late wake-up of the event loop (a loaded host)
does not lower the rate, and no second sees more than 1.1 x rate requests."""


class TokenBucket:
    """At most ``rate`` tokens a second on average, bursts of at most ``burst`` (default: a tenth of a
    second's worth, at least 1); waiters are served in order.

    :meth:`acquire` waits for a token before a request; :meth:`charge` takes what a request cost beyond it
    (a walk's further PDUs, retransmissions): the bucket may go into debt, which the next waiters pay.
    """

    MAX_WAITS = 100  # sleeps per acquire, at most (one is enough but for float rounding)

    def __init__(self, rate: float, *, burst: float | None = None, clock: Clock | None = None) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be > 0, got {rate!r}")
        self.rate = float(rate)
        self.burst = max(1.0, float(burst) if burst is not None else rate * BURST_SECONDS)
        self.clock = clock or LoopClock()
        self._tokens = self.burst
        self._stamp = self.clock.monotonic()
        self._lock = asyncio.Lock()

    def _fill(self) -> None:
        now = self.clock.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, tokens: float = 1.0) -> None:
        async with self._lock:
            for _ in range(self.MAX_WAITS):
                self._fill()
                if self._tokens >= tokens - 1e-9:
                    break
                await self.clock.sleep((tokens - self._tokens) / self.rate)
            self._tokens -= tokens

    def charge(self, tokens: float) -> None:
        """Take ``tokens`` more (no wait; the bucket may go below zero)."""
        if tokens > 0:
            self._fill()
            self._tokens -= tokens


# --- jobs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credential:
    profile_id: int
    target: SnmpTarget = field(repr=False)  # address NO_ADDRESS: each address is put in at request time


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    prefix: str
    done: int
    rate: float
    timeout: float
    retries: int
    credentials: tuple[Credential, ...]
    claimed_by: str | None = None

    @property
    def hosts(self) -> int:
        return host_count(self.prefix)


def _number(entry: dict, key: str, default: Any, kind: type, where: str) -> Any:
    value = entry.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JobError(f"{where}: field {key!r}: expected a number, got {value!r}")
    return kind(value)


def parse_job(entry: Any, where: str = "discovery job") -> Job:
    """One job of the discovery list; raises JobError naming the job and the field."""
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), int):
        raise JobError(f"{where}: expected a mapping with an integer 'id'")
    where = f"{where} {entry['id']}"
    try:
        network = ipaddress.ip_network(str(entry.get("prefix")), strict=False)
    except ValueError:
        raise JobError(f"{where}: field 'prefix': not an IP prefix: {entry.get('prefix')!r}") from None
    done = _number(entry, "done", 0, int, where)
    rate = _number(entry, "rate", 50.0, float, where)
    timeout = _number(entry, "timeout", 1.0, float, where)
    retries = _number(entry, "retries", 0, int, where)
    if done < 0 or not rate > 0 or not timeout > 0 or retries < 0:
        raise JobError(f"{where}: done and retries must be >= 0, rate and timeout > 0")
    raw = entry.get("credentials")
    if not isinstance(raw, list) or not raw:
        raise JobError(f"{where}: field 'credentials': expected a non-empty list")
    credentials = []
    for i, cred in enumerate(raw):
        cwhere = f"{where}: credentials[{i}]"
        if not isinstance(cred, dict) or not isinstance(cred.get("profile_id"), int):
            raise JobError(f"{cwhere}: field 'profile_id': expected an integer")
        try:  # contract 1's shapes: the targets parser checks them (versions, v3 protocols, master keys)
            target = parse_target(
                {**cred, "name": f"profile {cred['profile_id']}", "address": NO_ADDRESS,
                 "timeout": timeout, "retries": retries},
                cwhere,
            )  # fmt: skip
        except TargetError as exc:
            raise JobError(str(exc)) from None
        credentials.append(Credential(cred["profile_id"], snmp_target(target)))
    claimed = entry.get("claimed_by")
    return Job(
        entry["id"], str(network), done, rate, timeout, retries, tuple(credentials),
        claimed if isinstance(claimed, str) else None,
    )  # fmt: skip


# --- the sweep ------------------------------------------------------------------------------------


class WireClient(Protocol):
    async def get(self, target: SnmpTarget, oids: list[str]) -> WalkResult: ...

    async def walk(
        self, target: SnmpTarget, roots: list[str], deadline: float | None = None
    ) -> WalkResult: ...

    def forget_peer(self, target: SnmpTarget) -> None: ...


def discovery_plans(modules: dict[str, Module]) -> list[DiscoveryPlan]:
    """The ``discovery:`` sections of the loaded modules (module name order)."""
    return [m.discovery for m in modules.values() if m.discovery is not None]


def addresses_from(columns: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The agent's IPv4 addresses from the ``ip_mib`` module's ipAddrTable columns (rows indexed by the
    address): ``{"address", "prefix_length", "ifIndex"}``, the last two when the agent gave them."""
    masks = columns.get("ipAdEntNetMask", {})
    interfaces = columns.get("ipAdEntIfIndex", {})
    out = []
    for row in sorted(set(masks) | set(interfaces), key=_row_key):
        try:
            entry: dict[str, Any] = {"address": str(ipaddress.IPv4Address(row))}
        except ValueError:
            continue
        mask = masks.get(row)
        if isinstance(mask, str):
            with contextlib.suppress(ValueError):  # not a contiguous mask: no length
                entry["prefix_length"] = ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
        if isinstance(interfaces.get(row), int):
            entry["ifIndex"] = interfaces[row]
        out.append(entry)
    return out


def _outcome(res: WalkResult) -> str:
    return "ok" if res.ok else ("timeout" if res.error == "timeout" else "error")


def _row_key(row: str) -> list[int]:
    return [int(x) if x.isdigit() else 0 for x in row.split(".")]


class Sweep:
    """One run over a job's remaining addresses; :meth:`run` returns when they are all done (or it is
    cancelled).  Results wait in :attr:`results` until :meth:`take`; ``on_result`` is told of each."""

    def __init__(
        self,
        job: Job,
        *,
        wire: WireClient,
        plans: list[DiscoveryPlan],
        bucket: TokenBucket,
        concurrency: int = MAX_CONCURRENCY,
        count: Callable[[str], None] = lambda result: None,
        on_result: Callable[[], None] = lambda: None,
    ) -> None:
        self.job = job
        self.wire = wire
        self.bucket = bucket
        self.count = count  # told "ok" | "timeout" | "error" per request
        self.on_result = on_result
        self.total = job.hosts
        self.done = min(job.done, self.total)  # the leading addresses finished
        # enough workers to keep the bucket busy while silent addresses time out, no more
        needed = math.ceil(bucket.rate * job.timeout * (job.retries + 1)) + 1
        self.concurrency = max(1, min(concurrency, needed, self.total - self.done or 1))
        self.results: list[dict[str, Any]] = []
        self.answered = 0
        self._next = self.done
        self._finished: set[int] = set()
        self._scalars = [(name, oid + ".0") for p in plans if p.find is None for name, oid in p.get]
        self._rows = [p for p in plans if p.find is not None]
        self._walks = [col for p in plans for col in p.walk]

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def take(self) -> list[dict[str, Any]]:
        """The results not taken yet."""
        out, self.results = self.results, []
        return out

    async def run(self) -> None:
        workers = [asyncio.ensure_future(self._worker()) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _worker(self) -> None:
        while self._next < self.total:
            index = self._next
            self._next += 1
            result = await self.address(host_at(self.job.prefix, index))
            if result is not None:
                self.results.append(result)
                self.answered += 1
                self.on_result()
            self._finished.add(index)
            while self.done in self._finished:
                self._finished.discard(self.done)
                self.done += 1

    async def _request(self, call, target: SnmpTarget, *args) -> WalkResult:
        await self.bucket.acquire()
        res = await call(target, *args)
        self.bucket.charge(res.pdus - 1)
        self.count(_outcome(res))
        return res

    async def address(self, address: str) -> dict[str, Any] | None:
        """The result of one address: the first credential that answers, or None."""
        oids = [oid for _, oid in self._scalars]
        for cred in self.job.credentials:
            target = dataclasses.replace(cred.target, address=address)
            try:
                res = await self._request(self.wire.get, target, oids)
                if not res.ok:
                    continue
                columns: dict[str, dict[str, Any]] = {}
                for name, oid in self._scalars:
                    value = res.varbinds.get(oid, [("", 0, None)])[0][2]
                    if value is not None:
                        columns[name] = {"0": value}
                await self._details(target, columns)
                result = {
                    "address": address,
                    "profile_id": cred.profile_id,
                    "facts": facts_from(columns),
                    "interfaces": interfaces_from(columns),
                }
                addresses = addresses_from(columns)
                if addresses:
                    result["addresses"] = addresses
                return result
            finally:
                self.wire.forget_peer(target)
        return None

    async def _details(self, target: SnmpTarget, columns: dict[str, dict[str, Any]]) -> None:
        """The rows and columns read of an address that answered (a failure leaves what was read)."""
        for plan in self._rows:
            assert plan.find is not None
            name, oid, wanted = plan.find
            res = await self._request(self.wire.walk, target, [oid])
            rows = sorted(res.varbinds.get(oid, []), key=lambda vb: _row_key(vb[0]))
            if not rows:
                continue
            row = next((index for index, _tag, value in rows if value == wanted), rows[0][0])
            get = [f"{col}.{row}" for _, col in plan.get]
            res = await self._request(self.wire.get, target, get)
            for (col_name, _), instance in zip(plan.get, get, strict=True):
                value = res.varbinds.get(instance, [("", 0, None)])[0][2]
                if value is not None:
                    columns[col_name] = {row: value}
        for name, oid in self._walks:
            res = await self._request(self.wire.walk, target, [oid])
            values = {index: value for index, _tag, value in res.varbinds.get(oid, [])}
            if values:
                columns[name] = values
