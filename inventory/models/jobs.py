"""Background jobs: a database-backed queue (no broker needed), claimed by ``manage.py runworker``.

A worker claims the oldest pending job (PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite: the
claim's IMMEDIATE transaction holds the write lock) and holds a **lease** that its heartbeat extends; a job
whose lease ran out (its worker died) is claimed again, at most ``max_attempts`` times in all.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from inventory.choices import ChoiceSet


class JobStatusChoices(ChoiceSet):
    STATUS_PENDING = "pending"
    STATUS_RUNNING = "running"
    STATUS_COMPLETED = "completed"
    STATUS_FAILED = "failed"
    STATUS_ERRORED = "errored"

    CHOICES = [
        (STATUS_PENDING, "Pending"),
        (STATUS_RUNNING, "Running"),
        (STATUS_COMPLETED, "Completed"),
        (STATUS_FAILED, "Failed"),
        (STATUS_ERRORED, "Errored"),
    ]
    COLORS = {
        STATUS_PENDING: "9e9e9e",
        STATUS_RUNNING: "2196f3",
        STATUS_COMPLETED: "4caf50",
        STATUS_FAILED: "f44336",
        STATUS_ERRORED: "ff5722",
    }
    FINISHED = (STATUS_COMPLETED, STATUS_FAILED, STATUS_ERRORED)


class Job(models.Model):
    """One unit of background work: what (``kind`` + ``data``), its state, progress and result.

    ``failed``: the job ran and refused its input (e.g. an import with invalid rows: ``result.errors``);
    ``errored``: it crashed or its worker died ``max_attempts`` times. ``data`` (the input, which may hold
    secrets such as SNMP communities) is never shown by the API and is cleared when the job finishes.
    """

    kind = models.CharField(max_length=50, db_index=True)
    status = models.CharField(
        max_length=20, choices=JobStatusChoices.CHOICES, default=JobStatusChoices.STATUS_PENDING
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="jobs", blank=True, null=True
    )
    data = models.JSONField(blank=True, null=True)
    created = models.DateTimeField(db_index=True)
    started = models.DateTimeField(blank=True, null=True)
    completed = models.DateTimeField(blank=True, null=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_stage = models.CharField(max_length=50, blank=True)
    result = models.JSONField(blank=True, null=True)
    worker = models.CharField(max_length=200, blank=True)
    lease_expires = models.DateTimeField(blank=True, null=True)
    heartbeat = models.DateTimeField(blank=True, null=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)

    class Meta:
        ordering = ("-created", "-pk")
        indexes = (models.Index(fields=("status", "created"), name="inventory_job_status_created"),)

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in JobStatusChoices.FINISHED

    @property
    def percent(self) -> int:
        """Progress in whole percent (0 while the total is unknown)."""
        if not self.progress_total:
            return 100 if self.status == JobStatusChoices.STATUS_COMPLETED else 0
        return min(100, self.progress_done * 100 // self.progress_total)
