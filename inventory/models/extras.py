"""Tags (NetBox extras)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from inventory.models.base import ChangeLoggedModel

color_validator = RegexValidator(r"^[0-9a-f]{6}$", "Enter a 6-digit lowercase hex color, e.g. 4caf50.")


class ColorField(models.CharField):
    """A 6-digit lowercase hex RGB color (NetBox's ColorField)."""

    default_validators = (color_validator,)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 6)
        super().__init__(*args, **kwargs)


class Tag(ChangeLoggedModel):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    color = ColorField(default="9e9e9e")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name
