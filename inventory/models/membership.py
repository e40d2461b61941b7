"""HA collector groups: one lease row per collector that polls a group (operational state, not logged)."""

from __future__ import annotations

from django.db import models


class CollectorMember(models.Model):
    """A collector of a group, alive while ``lease_expires`` is in the future.

    Each targets request that names the collector (``?member=&address=&refresh=``) renews the lease to
    ``refresh * COLLECTOR_LEASE_REFRESHES`` seconds; the devices of the group are shared among the live
    members by rendezvous hashing (:mod:`inventory.services.membership`).
    """

    group = models.ForeignKey("inventory.CollectorGroup", on_delete=models.CASCADE, related_name="members")
    name = models.CharField(max_length=100, help_text="The collector's --name")
    exporter_address = models.CharField(
        max_length=261, help_text="host:port where Prometheus scrapes this collector's devices"
    )
    refresh_seconds = models.FloatField(help_text="Seconds between the collector's targets requests")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    lease_expires = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("group", "name")
        constraints = [
            models.UniqueConstraint(fields=("group", "name"), name="inventory_collectormember_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.exporter_address})"
