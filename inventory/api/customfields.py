"""``custom_fields`` on API objects: every defined field of the model by name, validated on write."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field({"type": "object", "additionalProperties": True})
class CustomFieldsField(serializers.Field):
    """Reads ``custom_field_data`` as ``{name: value}`` for every custom field of the model (null if unset).

    Writes take a dict of names to values; the serializer merges and validates them
    (:func:`merged_custom_field_data`). The definitions are read once per serializer.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("source", "custom_field_data")
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self._names: list[str] | None = None

    def to_representation(self, value: dict) -> dict:
        if self._names is None:
            from inventory.models.customfields import custom_fields_for

            model = self.parent.Meta.model if hasattr(self.parent, "Meta") else None
            self._names = [cf.name for cf in custom_fields_for(model)] if model is not None else []
        value = value or {}
        return {name: value.get(name) for name in self._names}

    def to_internal_value(self, data: Any) -> dict:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Expected an object of custom field names to values.")
        return dict(data)


def merged_custom_field_data(
    *,
    model: type[models.Model],
    instance: models.Model | None,
    given: dict | None,
    definitions: list | None = None,
) -> dict:
    """The custom field data to store: the object's current values (defaults when new) updated by ``given``.

    Unknown names, invalid values and missing required values are a 400 naming the custom field.
    Unset (null) values are not stored. ``definitions`` are the model's custom fields when the caller
    has read them already (a serializer validating many rows); else they are read here.
    """
    from inventory.models.customfields import custom_fields_for

    if definitions is None:
        definitions = custom_fields_for(model)
    fields = {cf.name: cf for cf in definitions}
    given = dict(given or {})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(given) - set(fields))
    for name in unknown:
        errors[name] = [f"Unknown custom field {name!r} for {model._meta.verbose_name_plural}."]
    if instance is None:
        data = {name: cf.default for name, cf in fields.items() if cf.default is not None}
    else:
        data = {name: value for name, value in (instance.custom_field_data or {}).items() if name in fields}
    for name, value in given.items():
        if name in fields:
            data[name] = value
    cleaned: dict[str, Any] = {}
    for name, cf in fields.items():
        try:
            value = cf.clean_value(data.get(name))
        except DjangoValidationError as exc:
            errors[name] = list(exc.messages)
            continue
        if value is not None:
            cleaned[name] = value
    if errors:
        raise serializers.ValidationError({"custom_fields": errors})
    return cleaned
