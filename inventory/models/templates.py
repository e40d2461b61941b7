"""Device type component templates (NetBox's InterfaceTemplate): what a new device of the type gets."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from inventory.choices import InterfaceTypeChoices
from inventory.models.base import ChangeLoggedModel
from inventory.models.sortkeys import NATURAL_KEY_LENGTH, natural_key


class InterfaceTemplate(ChangeLoggedModel):
    """An interface every device of ``device_type`` is created with."""

    device_type = models.ForeignKey(
        "inventory.DeviceType", on_delete=models.CASCADE, related_name="interface_templates"
    )
    name = models.CharField(max_length=64)
    _name = models.CharField(
        max_length=NATURAL_KEY_LENGTH, editable=False, default="", help_text="Natural sort key of the name"
    )
    label = models.CharField(max_length=64, blank=True)
    type = models.CharField(max_length=50, choices=InterfaceTypeChoices.CHOICES)
    enabled = models.BooleanField(default=True)
    mgmt_only = models.BooleanField(default=False, verbose_name="management only")
    description = models.CharField(max_length=200, blank=True)

    constraint_error_fields: ClassVar = {"dcim_interfacetemplate_unique_device_type_name": "name"}

    class Meta:
        ordering = ("device_type", "_name", "pk")
        constraints = (
            models.UniqueConstraint(
                fields=("device_type", "name"),
                name="dcim_interfacetemplate_unique_device_type_name",
                violation_error_message="This device type already has an interface template with this name.",
            ),
        )

    def __str__(self) -> str:
        return self.name

    def changelog_parent(self):
        return self.device_type

    def save(self, *args, **kwargs):
        self._name = natural_key(self.name or "")
        super().save(*args, **kwargs)
