"""The event log (what happened to a device or site, and when) and the alert history from Alertmanager.

Both are operational records, not inventory: they write no change-log record and are purged after
``INFRASTRAND_EVENT_RETENTION_DAYS`` (``manage.py purgeevents``).  Both are indexed by (device, time) and
(site, time) so per-device, per-site and per-period queries (availability reports) stay cheap.
"""

from __future__ import annotations

from django.db import models

from inventory.choices import AlertStatusChoices, EventSeverityChoices, EventSourceChoices


class Event(models.Model):
    """One thing that happened: a trap, a poll state change, an alert transition, a drift or a change."""

    time = models.DateTimeField(db_index=True)
    device = models.ForeignKey(
        "inventory.Device", on_delete=models.SET_NULL, related_name="events", blank=True, null=True
    )
    site = models.ForeignKey(
        "inventory.Site", on_delete=models.SET_NULL, related_name="events", blank=True, null=True
    )
    source = models.CharField(max_length=10, choices=EventSourceChoices.CHOICES)
    severity = models.CharField(
        max_length=10, choices=EventSeverityChoices.CHOICES, default=EventSeverityChoices.SEVERITY_INFO
    )
    kind = models.CharField(
        max_length=100, blank=True, help_text="What happened, short: linkDown, down, reboot, an alert name"
    )
    text = models.CharField(max_length=1000)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-time", "-pk")
        indexes = (
            models.Index(fields=("device", "time")),
            models.Index(fields=("site", "time")),
            models.Index(fields=("source", "time")),
        )

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.source} {self.text}"


class AlertRecord(models.Model):
    """One alert of Alertmanager (one fingerprint from one ``startsAt``), kept as it fires and resolves."""

    fingerprint = models.CharField(max_length=64)
    alertname = models.CharField(max_length=200, db_index=True)
    status = models.CharField(max_length=10, choices=AlertStatusChoices.CHOICES)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict, blank=True)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(blank=True, null=True)
    generator_url = models.CharField(max_length=1000, blank=True)
    device = models.ForeignKey(
        "inventory.Device", on_delete=models.SET_NULL, related_name="alerts", blank=True, null=True
    )
    site = models.ForeignKey(
        "inventory.Site", on_delete=models.SET_NULL, related_name="alerts", blank=True, null=True
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-starts_at", "-pk")
        constraints = (
            models.UniqueConstraint(
                fields=("fingerprint", "starts_at"), name="alertrecord_fingerprint_start"
            ),
        )
        indexes = (models.Index(fields=("device", "starts_at")), models.Index(fields=("site", "starts_at")))

    def __str__(self) -> str:
        return f"{self.alertname} {self.status} since {self.starts_at:%Y-%m-%d %H:%M:%S}"

    @property
    def duration_seconds(self) -> float | None:
        """How long it fired (until now for a firing alert is left to the reader: ``None``)."""
        if self.ends_at is None or self.status != AlertStatusChoices.STATUS_RESOLVED:
            return None
        return max(0.0, (self.ends_at - self.starts_at).total_seconds())
