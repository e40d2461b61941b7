"""Cables: a documented link between two interfaces (NetBox's Cable, interface terminations only)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from inventory.choices import CableLengthUnitChoices, CableStatusChoices, CableTypeChoices
from inventory.models.base import PrimaryModel
from inventory.models.extras import ColorField

END_FIELDS = ("a_interface", "b_interface")

INTERFACE_CABLE_PATHS = (
    "cable_a",
    "cable_a__b_interface",
    "cable_a__b_interface__device",
    "cable_b",
    "cable_b__a_interface",
    "cable_b__a_interface__device",
)
"""``select_related`` paths that give the interface serializer its cable and peer without more queries."""


class Cable(PrimaryModel):
    """One cable, A end to B end. Each interface is the end of at most one cable (on either side)."""

    a_interface = models.OneToOneField(
        "inventory.Interface", on_delete=models.CASCADE, related_name="cable_a", verbose_name="A end"
    )
    b_interface = models.OneToOneField(
        "inventory.Interface", on_delete=models.CASCADE, related_name="cable_b", verbose_name="B end"
    )
    status = models.CharField(
        max_length=50, choices=CableStatusChoices.CHOICES, default=CableStatusChoices.STATUS_CONNECTED
    )
    type = models.CharField(max_length=50, choices=CableTypeChoices.CHOICES, blank=True)
    label = models.CharField(max_length=100, blank=True)
    color = ColorField(blank=True)
    length = models.DecimalField(
        max_digits=8, decimal_places=2, blank=True, null=True, validators=[MinValueValidator(Decimal("0"))]
    )
    length_unit = models.CharField(max_length=50, choices=CableLengthUnitChoices.CHOICES, blank=True)
    tags = models.ManyToManyField("inventory.Tag", blank=True, related_name="cables")

    class Meta:
        ordering = ("pk",)
        constraints = (
            models.CheckConstraint(
                condition=~Q(a_interface=models.F("b_interface")),
                name="dcim_cable_distinct_ends",
                violation_error_message="A cable cannot connect an interface to itself.",
            ),
        )

    def __str__(self) -> str:
        return self.label or (f"#{self.pk}" if self.pk else "cable")

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.a_interface_id and self.a_interface_id == self.b_interface_id:
            errors["b_interface"] = "A cable cannot connect an interface to itself."
        for field in END_FIELDS:
            interface_id = getattr(self, f"{field}_id")
            if interface_id is None or field in errors:
                continue
            other = (
                Cable.objects.filter(Q(a_interface_id=interface_id) | Q(b_interface_id=interface_id))
                .exclude(pk=self.pk)
                .first()
            )
            if other is not None:
                interface = getattr(self, field)
                errors[field] = f"Interface {interface.device} {interface} already has cable {other}."
        if self.length is not None and not self.length_unit:
            errors["length_unit"] = "Give the unit of the length."
        if errors:
            raise ValidationError(errors)

    def changelog_parent(self):
        return self.a_interface.device if self.a_interface_id else None

    def far_end(self, interface_id: int):
        """The interface at the other end from ``interface_id``."""
        return self.b_interface if self.a_interface_id == interface_id else self.a_interface
