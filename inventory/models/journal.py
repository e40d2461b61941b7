"""Journal entries (NetBox extras): dated notes on any object, by whom, of a kind (info … danger)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from inventory.choices import JournalEntryKindChoices
from inventory.models.base import ChangeLoggedModel


class JournalEntry(ChangeLoggedModel):
    assigned_object_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    assigned_object_id = models.PositiveBigIntegerField()
    assigned_object = GenericForeignKey("assigned_object_type", "assigned_object_id")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+", blank=True, null=True
    )
    kind = models.CharField(
        max_length=30, choices=JournalEntryKindChoices.CHOICES, default=JournalEntryKindChoices.KIND_INFO
    )
    comments = models.TextField()
    tags = models.ManyToManyField("inventory.Tag", blank=True, related_name="journal_entries")

    class Meta:
        ordering = ("-created", "-pk")
        verbose_name_plural = "journal entries"
        indexes = (
            models.Index(fields=("assigned_object_type", "assigned_object_id"), name="extras_journal_object"),
        )

    def __str__(self) -> str:
        return (
            f"{self.created:%Y-%m-%d %H:%M} ({self.get_kind_display()})" if self.created else "journal entry"
        )

    def changelog_parent(self):
        return self.assigned_object

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        super().clean()
        if self.assigned_object_type_id and self.assigned_object is None:
            raise ValidationError({"assigned_object_id": "No such object of the given type."})
