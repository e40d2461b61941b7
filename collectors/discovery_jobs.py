"""Discovery jobs between the inventory and the sweep engine (contract 9): list, claim, report, stop.

At every targets refresh the runner calls :meth:`DiscoveryAgent.refresh`: while no job of this collector
runs it asks ``GET /api/collector/discovery/?group=G[&member=NAME]`` for the group's open jobs and claims
the first one it can run (``POST …/<id>/claim/``; 409: another collector holds it, try the next).  The
claimed job is swept in the background (:class:`collectors.discovery.Sweep`) at ``min(job rate,
--discovery-rate)`` requests a second, and its results go to ``POST …/<id>/results/`` every
``batch_interval`` seconds or as soon as ``batch_size`` are waiting (each post renews the lease and
carries ``done``), the last one with ``finished: true``.  A 409 (claimed by another collector, cancelled)
stops the sweep at once.  :meth:`stop` (SIGTERM) cancels the sweep and sends what is done, not finished:
the lease expires and a collector resumes from ``done``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter

from collectors.discovery import (
    MAX_CONCURRENCY,
    Job,
    JobError,
    Sweep,
    TokenBucket,
    WireClient,
    discovery_plans,
    parse_job,
)
from collectors.inventory_client import InventoryClient
from collectors.mibmodules import Module

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/api/collector/discovery/"
DEFAULT_RATE = 50.0
BATCH_INTERVAL = 2.0
BATCH_SIZE = 50
FINAL_ATTEMPTS = 5  # posts of the last batch (with finished) before the job is left to its lease


class DiscoveryMetrics:
    """``infrastrand_discovery_requests_total{result}`` and ``infrastrand_discovery_jobs_total{result}``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "infrastrand_discovery_requests",
            "Discovery sweep requests (a GET or a column walk) by result",
            ["result"],
            registry=registry,
        )
        for result in ("ok", "timeout", "error"):
            self.requests.labels(result)
        self.jobs = Counter(
            "infrastrand_discovery_jobs",
            "Discovery jobs this collector ended: completed, failed, or lost (claimed by another, cancelled)",
            ["result"],
            registry=registry,
        )
        for result in ("completed", "failed", "lost"):
            self.jobs.labels(result)


class JobLost(Exception):
    """The inventory refused a post for the job (409: claimed by another collector, cancelled; 404)."""


class DiscoveryAgent:
    """Runs at most one discovery job at a time for one collector."""

    def __init__(
        self,
        client: InventoryClient,
        *,
        collector: str,
        group: str,
        wire: WireClient,
        modules: dict[str, Module],
        metrics: DiscoveryMetrics,
        member: str | None = None,
        rate: float = DEFAULT_RATE,
        concurrency: int = MAX_CONCURRENCY,
        batch_interval: float = BATCH_INTERVAL,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.client = client
        self.collector = collector
        self.group = group
        self.member = member
        self.wire = wire
        self.plans = discovery_plans(modules)
        self.metrics = metrics
        self.rate = rate
        self.concurrency = concurrency
        self.batch_interval = batch_interval
        self.batch_size = batch_size
        self.job: Job | None = None
        self.sweep: Sweep | None = None
        self._task: asyncio.Task | None = None
        self._wakeup = asyncio.Event()
        self._last_error = ""

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _warn(self, message: str) -> None:
        """Log a failure once until it changes (a refresh runs every 30 s)."""
        if message != self._last_error:
            self._last_error = message
            log.warning("%s", message)

    async def refresh(self) -> None:
        """Claim and start an open job when none runs; never raises for inventory faults."""
        if self.running:
            return
        params = {"group": self.group, **({"member": self.member} if self.member else {})}
        try:
            response = await self.client.get(DISCOVERY_PATH, params=params)
            if response.status_code == 404 and "unknown collector group" not in response.text:
                self._warn("discovery: the inventory has no discovery endpoint (HTTP 404); no sweeps")
                return
            response.raise_for_status()
            jobs = response.json().get("jobs") or []
        except (httpx.HTTPError, OSError, ValueError, AttributeError) as exc:
            reason = self.client.describe(exc) if isinstance(exc, httpx.HTTPError | OSError) else str(exc)
            self._warn(f"discovery jobs not fetched: {reason}")
            return
        self._last_error = ""
        for entry in jobs:  # the inventory decides who may run a job: a claim it refuses answers 409
            claimed = await self._claim(entry.get("id") if isinstance(entry, dict) else None)
            if claimed is None:
                continue
            try:
                job = parse_job(entry)
            except JobError as exc:  # the job cannot run anywhere like this: fail it with the reason
                log.error("%s", exc)
                with contextlib.suppress(JobLost):
                    await self._post(entry["id"], done=0, finished=True, error=str(exc)[:500], results=[])
                self.metrics.jobs.labels("failed").inc()
                continue
            done = claimed.get("done")
            if isinstance(done, int) and done > job.done:  # the resume point as the claim answered it
                job = dataclasses.replace(job, done=done)
            self._start(job)
            return

    async def _claim(self, job_id: Any) -> dict | None:
        if not isinstance(job_id, int):
            return None
        try:
            response = await self.client.post(
                f"{DISCOVERY_PATH}{job_id}/claim/", json={"collector": self.collector}
            )
            if response.status_code == 409:
                return None
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, OSError, ValueError) as exc:
            reason = self.client.describe(exc) if isinstance(exc, httpx.HTTPError | OSError) else str(exc)
            self._warn(f"discovery job {job_id} not claimed: {reason}")
            return None

    def _start(self, job: Job) -> None:
        rate = min(job.rate, self.rate)
        self.job = job
        self.sweep = Sweep(
            job,
            wire=self.wire,
            plans=self.plans,
            bucket=TokenBucket(rate),
            concurrency=self.concurrency,
            count=lambda result: self.metrics.requests.labels(result).inc(),
            on_result=self._on_result,
        )
        log.info(
            "discovery job %d: sweeping %s from address %d of %d at %g requests/s, %d at once",
            job.id, job.prefix, self.sweep.done, self.sweep.total, rate, self.sweep.concurrency,
        )  # fmt: skip
        self._task = asyncio.get_running_loop().create_task(self._run(job, self.sweep), name="discovery")

    def _on_result(self) -> None:
        if self.sweep is not None and len(self.sweep.results) >= self.batch_size:
            self._wakeup.set()

    async def _run(self, job: Job, sweep: Sweep) -> None:
        """Sweep and report; ends when the job is finished and reported, lost, or cancelled (stop)."""
        work = asyncio.get_running_loop().create_task(sweep.run(), name=f"discovery sweep {job.id}")
        error = ""
        try:
            while not work.done():
                wakeup = asyncio.ensure_future(self._wakeup.wait())
                await asyncio.wait(
                    [work, wakeup], timeout=self.batch_interval, return_when=asyncio.FIRST_COMPLETED
                )
                wakeup.cancel()
                self._wakeup.clear()
                if not work.done():
                    await self._report(job, sweep, finished=False)
            if work.exception() is not None:
                error = f"sweep failed: {type(work.exception()).__name__}"
                log.error("discovery job %d: %s", job.id, error, exc_info=work.exception())
            for _ in range(FINAL_ATTEMPTS):
                if await self._report(job, sweep, finished=True, error=error):
                    self.metrics.jobs.labels("failed" if error else "completed").inc()
                    log.info(
                        "discovery job %d: %s, %d of %d addresses answered",
                        job.id, "failed" if error else "completed", sweep.answered, sweep.total,
                    )  # fmt: skip
                    return
                await asyncio.sleep(self.batch_interval)
            log.warning("discovery job %d: final results not delivered; its lease will expire", job.id)
        except JobLost as exc:
            self.metrics.jobs.labels("lost").inc()
            log.warning("discovery job %d: stopped: %s", job.id, exc)
        finally:
            if not work.done():
                work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work

    async def _report(self, job: Job, sweep: Sweep, *, finished: bool, error: str = "") -> bool:
        """Post what is waiting in batches (done and, last, finished); False if a post failed (the results
        are kept for the next one).  Raises JobLost on 409/404."""
        results = sweep.take()
        done = sweep.done
        sent = 0
        try:
            for start in range(0, max(len(results), 1), self.batch_size):
                batch = results[start : start + self.batch_size]
                last = start + self.batch_size >= len(results)
                ok = await self._post(
                    job.id, done=done, finished=finished and last and (sweep.finished or bool(error)),
                    error=error if last else "", results=batch,
                )  # fmt: skip
                if not ok:
                    return False
                sent = start + len(batch)
            return True
        finally:  # a failed or interrupted post keeps its results for the next one (stop() sends them)
            if sent < len(results):
                sweep.results[:0] = results[sent:]

    async def _post(self, job_id: int, *, done: int, finished: bool, error: str, results: list) -> bool:
        body = {
            "collector": self.collector,
            "done": done,
            "finished": finished,
            "error": error,
            "results": results,
        }
        try:
            response = await self.client.post(f"{DISCOVERY_PATH}{job_id}/results/", json=body)
        except (httpx.HTTPError, OSError) as exc:
            self._warn(f"discovery job {job_id}: results not sent ({self.client.describe(exc)}); kept")
            return False
        if response.status_code in (404, 409):
            raise JobLost(f"HTTP {response.status_code}: {response.text[:200]}")
        if response.status_code >= 500 or response.status_code in (408, 429):
            self._warn(f"discovery job {job_id}: results not accepted (HTTP {response.status_code}); kept")
            return False
        if response.status_code >= 400:  # refused as such: retrying the same batch would block the rest
            log.warning(
                "discovery job %d: results refused (HTTP %d): %s; %d dropped",
                job_id, response.status_code, response.text[:200], len(results),
            )  # fmt: skip
            return True
        with contextlib.suppress(ValueError, AttributeError):
            rejected = response.json().get("rejected") or []
            if rejected:
                log.warning(
                    "discovery job %d: %d results rejected: %s", job_id, len(rejected), str(rejected)[:300]
                )
        return True

    async def stop(self) -> None:
        """Stop sweeping and send what is done (not finished): another collector resumes from ``done``."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        job, sweep = self.job, self.sweep
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if job is not None and sweep is not None:
            with contextlib.suppress(JobLost):
                await self._report(job, sweep, finished=False)
            log.info("discovery job %d: stopped at address %d of %d", job.id, sweep.done, sweep.total)
