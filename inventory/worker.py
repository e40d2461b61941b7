"""The job worker behind ``manage.py runworker``: claim a job, run its handler, record the outcome.

Handlers are registered per job ``kind`` in :data:`HANDLERS`; a handler gets the job and a
:class:`Reporter` (progress) and returns the result (``completed``) or raises :class:`JobFailed`
(``failed``: the job refused its input). Any other exception marks the job ``errored``.
While a job runs, a heartbeat thread renews its lease and publishes the reported progress from its own
database connection, so the progress shows while the job's own transaction is still open.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import OperationalError, close_old_connections, connection

from inventory.models.jobs import Job, JobStatusChoices
from inventory.services.jobs import DEFAULT_LEASE, claim_job, finish_job, heartbeat_job

log = logging.getLogger("inventory.worker")


class JobFailed(Exception):
    """The job ran and refused its input; ``result`` is recorded (e.g. every error of an import)."""

    def __init__(self, result: Any) -> None:
        self.result = result
        super().__init__(str(result)[:200])


class Reporter:
    """Progress of the running job, kept in memory; the heartbeat thread writes it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stage, self.done, self.total = "", 0, 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self.lock:
            self.stage, self.done, self.total = stage, done, total

    def snapshot(self) -> tuple[str, int, int]:
        with self.lock:
            return self.stage, self.done, self.total


Handler = Callable[[Job, Reporter], Any]


def _handlers() -> dict[str, Handler]:
    from inventory.importer.job import run_import_job

    return {"import": run_import_job}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Worker:
    """Runs jobs one at a time; :meth:`run_once` claims and runs at most one."""

    def __init__(
        self,
        *,
        name: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        heartbeat_every: float = 2.0,
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        self.name = name or worker_name()
        self.lease = lease
        self.heartbeat_every = heartbeat_every
        self.handlers = handlers if handlers is not None else _handlers()
        self.stopping = threading.Event()

    def run_once(self) -> Job | None:
        """Claim one job and run it to its end; None when nothing was claimable."""
        if not connection.in_atomic_block:  # between jobs: drop broken or expired connections
            close_old_connections()
        job = claim_job(worker=self.name, kinds=list(self.handlers), lease=self.lease)
        if job is None:
            return None
        log.info("job %s (%s) claimed by %s", job.pk, job.kind, self.name)
        reporter = Reporter()
        beating = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job, reporter, beating), daemon=True)
        beat.start()
        try:
            result = self.handlers[job.kind](job, reporter)
            status = JobStatusChoices.STATUS_COMPLETED
        except JobFailed as failed:
            result, status = failed.result, JobStatusChoices.STATUS_FAILED
        except Exception as exc:
            log.exception("job %s errored", job.pk)
            result, status = {"error": f"{type(exc).__name__}: {exc}"}, JobStatusChoices.STATUS_ERRORED
        finally:
            beating.set()
            beat.join(timeout=60)
        stage, done, total = reporter.snapshot()
        job.progress_stage, job.progress_done = stage, done
        job.progress_total = total or job.progress_total
        if not finish_job(job=job, status=status, result=result):
            log.warning("job %s was taken over by another worker; its outcome here is dropped", job.pk)
        log.info("job %s %s", job.pk, status)
        return job

    def _heartbeat(self, job: Job, reporter: Reporter, done_event: threading.Event) -> None:
        try:
            while not done_event.wait(self.heartbeat_every):
                stage, done, total = reporter.snapshot()
                try:
                    heartbeat_job(job=job, lease=self.lease, done=done, total=total or None, stage=stage)
                except OperationalError:  # SQLite: the job's own write transaction holds the lock
                    continue
        finally:
            connection.close()

    def run(
        self, *, poll_interval: float = 1.0, max_jobs: int | None = None, until_idle: bool = False
    ) -> int:
        """Work until :attr:`stopping` is set (or ``max_jobs`` ran, or, ``until_idle``, the queue is
        empty); returns the number of jobs run."""
        count = 0
        while not self.stopping.is_set() and (max_jobs is None or count < max_jobs):
            job = self.run_once()
            if job is not None:
                count += 1
                continue
            if until_idle:
                break
            self.stopping.wait(poll_interval)
        return count
