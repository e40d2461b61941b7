"""The job queue's operations: enqueue, claim (with a lease), heartbeat/progress, finish.

Claiming is safe with any number of workers on both databases:

- PostgreSQL: the claim selects the oldest claimable row ``FOR UPDATE SKIP LOCKED``, so concurrent
  workers each lock a different row and never wait on one another;
- SQLite: the claim's transaction is ``BEGIN IMMEDIATE`` (the project's setting), which takes the database's
  write lock first, so claims run one after another.

On both the claim is also a conditional ``UPDATE … WHERE status = <seen> AND worker = <seen>``: a claim that
lost a race changes no row and claims nothing. ``now`` parameters let tests drive leases with a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from inventory.models.jobs import Job, JobStatusChoices

DEFAULT_LEASE = timedelta(seconds=600)
"""How long a claim holds without a heartbeat before another worker may take the job over (long:
an SQLite write transaction blocks the heartbeat while it lasts)."""

Clock = Callable[[], datetime]


def enqueue_job(*, kind: str, data: Any, user=None, total: int = 0, now: datetime | None = None) -> Job:
    """A new pending job."""
    user = user if getattr(user, "is_authenticated", False) else None
    return Job.objects.create(
        kind=kind, data=data, user=user, progress_total=total, created=now or timezone.now()
    )


def claim_job(
    *,
    worker: str,
    kinds: list[str] | None = None,
    lease: timedelta = DEFAULT_LEASE,
    now: datetime | None = None,
) -> Job | None:
    """Claim the oldest pending job, or one whose lease ran out; None when there is none.

    A job reclaimed after ``max_attempts`` claims is marked ``errored`` instead of run again (a job that
    kills its worker must not kill every worker in turn).
    """
    now = now or timezone.now()
    claimable = Job.objects.filter(
        Q(status=JobStatusChoices.STATUS_PENDING)
        | Q(status=JobStatusChoices.STATUS_RUNNING, lease_expires__lt=now)
    )
    if kinds:
        claimable = claimable.filter(kind__in=kinds)
    if not claimable.exists():
        return None  # an idle worker only reads (on SQLite a claim takes the write lock)
    for _ in range(20):  # bounded: each round either claims, errors a dead job, or finds nothing
        with transaction.atomic():
            queryset = claimable.order_by("created", "pk")
            if connection.features.has_select_for_update_skip_locked:
                queryset = queryset.select_for_update(skip_locked=True)
            job = queryset.first()
            if job is None:
                return None
            seen = Job.objects.filter(pk=job.pk, status=job.status, worker=job.worker, attempts=job.attempts)
            if job.attempts >= job.max_attempts:
                seen.update(
                    status=JobStatusChoices.STATUS_ERRORED,
                    completed=now,
                    lease_expires=None,
                    data=None,
                    result={"error": f"The job's worker stopped {job.attempts} times before it finished."},
                )
                continue
            changed = seen.update(
                status=JobStatusChoices.STATUS_RUNNING,
                worker=worker,
                started=now,
                heartbeat=now,
                lease_expires=now + lease,
                attempts=job.attempts + 1,
            )
            if changed:
                job.refresh_from_db()
                return job
    return None


def heartbeat_job(
    *,
    job: Job,
    lease: timedelta = DEFAULT_LEASE,
    done: int | None = None,
    total: int | None = None,
    stage: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Extend the claim's lease (and record progress); False if this worker no longer holds the job."""
    now = now or timezone.now()
    values: dict[str, Any] = {"heartbeat": now, "lease_expires": now + lease}
    for name, value in (("progress_done", done), ("progress_total", total), ("progress_stage", stage)):
        if value is not None:
            values[name] = value
            setattr(job, name, value)
    return bool(
        Job.objects.filter(pk=job.pk, worker=job.worker, status=JobStatusChoices.STATUS_RUNNING).update(
            **values
        )
    )


def finish_job(*, job: Job, status: str, result: Any, now: datetime | None = None) -> bool:
    """Record the outcome (clearing the input); False if the job was taken over meanwhile."""
    if status not in JobStatusChoices.FINISHED:
        raise ValueError(f"{status!r} is not a final status")
    values: dict[str, Any] = {
        "status": status,
        "result": result,
        "completed": now or timezone.now(),
        "lease_expires": None,
        "data": None,
        "progress_stage": job.progress_stage,
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
    }
    if status == JobStatusChoices.STATUS_COMPLETED:
        values["progress_done"] = job.progress_total
    updated = Job.objects.filter(pk=job.pk, worker=job.worker, status=JobStatusChoices.STATUS_RUNNING).update(
        **values
    )
    if updated:
        for name, value in values.items():
            setattr(job, name, value)
    return bool(updated)
