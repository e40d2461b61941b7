"""Drift: where the latest observation of a device disagrees with its record, and how to read platforms.

A :class:`DriftItem` is operational state written by the drift engine (``inventory.services.drift``), not
change-logged; adopting one writes the record through the services, which log it.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from inventory.choices import DriftKindChoices, DriftStateChoices
from inventory.models.base import ChangeLoggedModel

ACTIVE_STATES = (DriftStateChoices.STATE_OPEN, DriftStateChoices.STATE_ACKNOWLEDGED)
"""States of an unresolved item; at most one such item per (device, kind, subject)."""


class DriftItemQuerySet(models.QuerySet):
    def active(self) -> DriftItemQuerySet:
        return self.filter(state__in=ACTIVE_STATES)

    def open_at(self, now: datetime) -> DriftItemQuerySet:
        """Open items, counting acknowledgements whose expiry has passed as open."""
        return self.filter(
            Q(state=DriftStateChoices.STATE_OPEN)
            | Q(state=DriftStateChoices.STATE_ACKNOWLEDGED, acknowledged_until__lte=now)
        )


class DriftItem(models.Model):
    """One disagreement between a device's record and what its latest observation says."""

    device = models.ForeignKey("inventory.Device", on_delete=models.CASCADE, related_name="drift_items")
    kind = models.CharField(max_length=30, choices=DriftKindChoices.CHOICES)
    subject = models.CharField(
        max_length=64, blank=True, help_text="What on the device drifts, e.g. the interface name"
    )
    documented = models.CharField(max_length=200, blank=True, help_text="The value in the record")
    observed = models.CharField(max_length=200, blank=True, help_text="The value the device reported")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    state = models.CharField(
        max_length=20, choices=DriftStateChoices.CHOICES, default=DriftStateChoices.STATE_OPEN
    )
    acknowledged_reason = models.CharField(max_length=200, blank=True)
    acknowledged_until = models.DateTimeField(
        blank=True, null=True, help_text="The acknowledgement expires then and the item reopens"
    )
    acknowledged_by = models.CharField(max_length=150, blank=True)
    resolved_at = models.DateTimeField(blank=True, null=True)
    resolved_by = models.CharField(
        max_length=150,
        blank=True,
        help_text="Who adopted the observed value (empty: the record or reality changed)",
    )

    objects = DriftItemQuerySet.as_manager()

    class Meta:
        ordering = ("device", "kind", "subject", "pk")
        indexes = (models.Index(fields=("state", "kind"), name="drift_state_kind"),)
        constraints = (
            models.UniqueConstraint(
                fields=("device", "kind", "subject"),
                condition=Q(state__in=ACTIVE_STATES),
                name="drift_unique_active_device_kind_subject",
                violation_error_message="This device already has an unresolved drift item of this kind.",
            ),
        )

    def __str__(self) -> str:
        subject = f" {self.subject}" if self.subject else ""
        return f"{DriftKindChoices.label(self.kind)}{subject}"

    def is_open_at(self, now: datetime) -> bool:
        if self.state == DriftStateChoices.STATE_OPEN:
            return True
        return (
            self.state == DriftStateChoices.STATE_ACKNOWLEDGED
            and self.acknowledged_until is not None
            and self.acknowledged_until <= now
        )


def validate_oid_prefix(value: str) -> None:
    if value and not re.fullmatch(r"\.?\d+(\.\d+)*\.?", value):
        raise ValidationError(f"{value!r} is not a numeric OID (e.g. 1.3.6.1.4.1.9.1).")


def validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(f"Not a regular expression: {exc}.") from exc


class PlatformMapping(ChangeLoggedModel):
    """Which platform a device runs, read from its sysObjectID (prefix) and/or sysDescr (regex).

    The longest matching sysObjectID prefix wins; among equal prefixes (or none), the lowest ``weight``.
    Both given: both must match.
    """

    platform = models.ForeignKey("inventory.Platform", on_delete=models.CASCADE, related_name="mappings")
    sys_object_id_prefix = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_oid_prefix],
        verbose_name="sysObjectID prefix",
        help_text="e.g. 1.3.6.1.4.1.9.1 (matches that OID and everything below it)",
    )
    sys_descr_regex = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_regex],
        verbose_name="sysDescr regex",
        help_text="A regular expression searched in sysDescr (case-insensitive), e.g. IOS-XE",
    )
    weight = models.PositiveSmallIntegerField(default=100, help_text="Lower wins among equal matches")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("weight", "platform", "pk")
        verbose_name = "platform mapping"

    def __str__(self) -> str:
        rule = " & ".join(part for part in (self.sys_object_id_prefix, self.sys_descr_regex) if part)
        return f"{rule} → {self.platform}" if self.platform_id else rule

    def changelog_parent(self):
        return self.platform

    def clean(self) -> None:
        super().clean()
        self.sys_object_id_prefix = self.sys_object_id_prefix.strip().strip(".")
        if not self.sys_object_id_prefix and not self.sys_descr_regex:
            raise ValidationError(
                {"sys_object_id_prefix": "Give a sysObjectID prefix, a sysDescr regex, or both."}
            )
