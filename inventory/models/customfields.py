"""Custom fields (NetBox extras): typed, validated extra attributes defined per object type.

Values live in each object's ``custom_field_data`` (see ``CustomFieldsModel``); a definition names
the object types it applies to, its type and its validation rules.
"""

from __future__ import annotations

import datetime
import decimal
import re
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models

from inventory.choices import CustomFieldTypeChoices
from inventory.models.base import ChangeLoggedModel

T = CustomFieldTypeChoices

name_validator = RegexValidator(
    r"^[a-z0-9_]+$", "Use lower-case letters, digits and underscores only (it is used as cf_<name>)."
)


class CustomField(ChangeLoggedModel):
    object_types = models.ManyToManyField(
        ContentType, related_name="custom_fields", help_text="The object types that have this field"
    )
    type = models.CharField(max_length=50, choices=T.CHOICES, default=T.TYPE_TEXT)
    name = models.CharField(max_length=50, unique=True, validators=[name_validator])
    label = models.CharField(max_length=50, blank=True)
    description = models.CharField(max_length=200, blank=True)
    required = models.BooleanField(default=False)
    default = models.JSONField(blank=True, null=True, help_text="Value given to new objects (JSON)")
    weight = models.PositiveSmallIntegerField(default=100, help_text="Display order (lower first)")
    validation_minimum = models.BigIntegerField(blank=True, null=True, verbose_name="minimum value")
    validation_maximum = models.BigIntegerField(blank=True, null=True, verbose_name="maximum value")
    validation_regex = models.CharField(max_length=500, blank=True, verbose_name="validation regex")
    choices = models.JSONField(
        default=list, blank=True, help_text="Allowed values of a selection field (a JSON list of strings)"
    )

    class Meta:
        ordering = ("weight", "name")

    def __str__(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def clean(self) -> None:
        super().clean()
        if self.validation_regex:
            try:
                re.compile(self.validation_regex)
            except re.error as exc:
                raise ValidationError({"validation_regex": f"Not a regular expression: {exc}."}) from exc
        if self.type == T.TYPE_SELECT and (
            not isinstance(self.choices, list)
            or not self.choices
            or not all(isinstance(c, str) for c in self.choices)
        ):
            raise ValidationError({"choices": "A selection field needs a non-empty list of string choices."})
        if self.default is not None:
            try:
                self.default = self.clean_value(self.default)
            except ValidationError as exc:
                raise ValidationError({"default": exc.messages}) from exc

    def clean_value(self, value: Any) -> Any:
        """The JSON value stored for ``value``, or a ValidationError saying why it is not acceptable."""
        if value is None or value == "":
            if self.required:
                raise ValidationError(f"{self.name} is required.")
            return None
        kind = self.type
        if kind in (T.TYPE_TEXT, T.TYPE_LONGTEXT, T.TYPE_URL, T.TYPE_SELECT):
            if not isinstance(value, str):
                raise ValidationError(f"{self.name} must be a string.")
            if self.validation_regex and not re.search(self.validation_regex, value):
                raise ValidationError(f"{self.name} must match {self.validation_regex}.")
            if kind == T.TYPE_URL:
                URLValidator()(value)
            if kind == T.TYPE_SELECT and value not in self.choices:
                raise ValidationError(f"{self.name}: {value!r} is not one of {', '.join(self.choices)}.")
            return value
        if kind == T.TYPE_BOOLEAN:
            if not isinstance(value, bool):
                raise ValidationError(f"{self.name} must be true or false.")
            return value
        if kind == T.TYPE_DATE:
            try:
                return datetime.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise ValidationError(f"{self.name} must be a date (YYYY-MM-DD).") from None
        return self._clean_number(value)

    def _clean_number(self, value: Any) -> int | float:
        if isinstance(value, bool):
            raise ValidationError(f"{self.name} must be a number.")
        if self.type == T.TYPE_INTEGER:
            if not isinstance(value, int) and not (isinstance(value, str) and re.fullmatch(r"-?\d+", value)):
                raise ValidationError(f"{self.name} must be an integer.")
            number: int | float = int(value)
        else:
            try:
                number = float(decimal.Decimal(str(value)))
            except decimal.InvalidOperation:
                raise ValidationError(f"{self.name} must be a decimal number.") from None
        if self.validation_minimum is not None and number < self.validation_minimum:
            raise ValidationError(f"{self.name} must be at least {self.validation_minimum}.")
        if self.validation_maximum is not None and number > self.validation_maximum:
            raise ValidationError(f"{self.name} must be at most {self.validation_maximum}.")
        return number


def custom_fields_for(model: type[models.Model]) -> list[CustomField]:
    """The custom fields defined for ``model``, in display order."""
    content_type = ContentType.objects.get_for_model(model)
    return list(CustomField.objects.filter(object_types=content_type))
