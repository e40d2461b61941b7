"""The change log: one ObjectChange per create/update/delete, written in the same transaction."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from inventory.choices import ObjectChangeActionChoices


class ObjectChange(models.Model):
    """A record of one write: who, when, which request, and the object before and after (secrets redacted)."""

    time = models.DateTimeField(auto_now_add=True, editable=False, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="changes",
        blank=True,
        null=True,
        editable=False,
    )
    user_name = models.CharField(max_length=150, editable=False, blank=True)
    request_id = models.UUIDField(editable=False, db_index=True)
    action = models.CharField(max_length=50, choices=ObjectChangeActionChoices.CHOICES, editable=False)
    changed_object_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", editable=False
    )
    changed_object_id = models.PositiveBigIntegerField(editable=False)
    changed_object = GenericForeignKey("changed_object_type", "changed_object_id")
    related_object_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", blank=True, null=True, editable=False
    )
    related_object_id = models.PositiveBigIntegerField(blank=True, null=True, editable=False)
    related_object = GenericForeignKey("related_object_type", "related_object_id")
    object_repr = models.CharField(max_length=200, editable=False)
    prechange_data = models.JSONField(editable=False, blank=True, null=True)
    postchange_data = models.JSONField(editable=False, blank=True, null=True)

    class Meta:
        ordering = ("-time", "-pk")
        indexes = (
            models.Index(fields=("changed_object_type", "changed_object_id")),
            models.Index(fields=("related_object_type", "related_object_id")),
        )

    def __str__(self) -> str:
        return f"{self.changed_object_type.model} {self.object_repr} {self.get_action_display().lower()}"

    def diff(self) -> dict[str, tuple]:
        """Fields whose value differs between the snapshots: ``{field: (before, after)}``."""
        before, after = self.prechange_data or {}, self.postchange_data or {}
        return {
            key: (before.get(key), after.get(key))
            for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)
        }
