"""Serializer fields with NetBox's wire conventions (choices, nested related objects, object URLs)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist, MultipleObjectsReturned, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse
from rest_framework import serializers

from inventory.api.registry import brief_serializer_for, view_name_for

_PK_PLACEHOLDER = 987654321987


class ChoiceField(serializers.ChoiceField):
    """Reads as ``{"value", "label"}``; writes as the value (or a ``{"value": …}`` dict)."""

    def to_representation(self, value: Any) -> dict | None:
        if value in ("", None):
            return None
        return {"value": value, "label": str(self.choices.get(value, value))}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            data = data.get("value")
        if data == "" and self.allow_blank:
            return ""
        return super().to_internal_value(data)


class MultipleChoiceListField(serializers.MultipleChoiceField):
    """A set of choices (site strands): reads and writes as a sorted list of values (or ``"a,b"``)."""

    def to_representation(self, value: Any) -> list[str]:
        return sorted(value or [])

    def to_internal_value(self, data: Any) -> list:
        if isinstance(data, str):
            data = [item for item in (part.strip() for part in data.split(",")) if item]
        items = [item.get("value") if isinstance(item, dict) else item for item in data or []]
        return sorted(super().to_internal_value(items))


class ObjectUrlField(serializers.Field):
    """The absolute API URL of an object, built from one reverse() per serializer (cheap on long lists)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(read_only=True, source="*")
        super().__init__(**kwargs)
        self._template: str | None = None

    def to_representation(self, instance: models.Model) -> str | None:
        if self._template is None:
            try:
                path = reverse(view_name_for(type(instance)), kwargs={"pk": _PK_PLACEHOLDER})
            except NoReverseMatch:
                return None
            request = self.context.get("request")
            url = request.build_absolute_uri(path) if request is not None else path
            self._template = url.replace(str(_PK_PLACEHOLDER), "{pk}")
        return self._template.format(pk=instance.pk)


def _lookup_from_dict(model: type[models.Model], data: dict, prefix: str = "") -> dict[str, Any]:
    """Turn ``{"slug": "x", "site": {"slug": "y"}}`` into ORM lookups, allowing concrete fields only."""
    lookups: dict[str, Any] = {}
    for key, value in data.items():
        try:
            field = model._meta.get_field(key) if key not in ("id", "pk") else model._meta.pk
        except FieldDoesNotExist:
            raise serializers.ValidationError(
                f"Unknown attribute {key!r} for {model._meta.verbose_name}."
            ) from None
        if not field.concrete or getattr(field, "secret", False):
            raise serializers.ValidationError(f"Attribute {key!r} cannot be used to look up an object.")
        if isinstance(value, dict):
            if not field.is_relation:
                raise serializers.ValidationError(f"Attribute {key!r} is not a related object.")
            lookups.update(_lookup_from_dict(field.related_model, value, f"{prefix}{field.name}__"))
        elif isinstance(value, (list, tuple)):
            raise serializers.ValidationError(f"Attribute {key!r} must be a single value.")
        else:
            lookups[f"{prefix}{field.attname if field.is_relation else field.name}"] = value
    return lookups


class NestedRelatedField(serializers.RelatedField):
    """A foreign key: reads as the related object's brief form, writes as an id or a lookup dict."""

    default_error_messages = {
        "not_found_pk": "Related object not found using the provided numeric ID: {pk}",
        "not_found": "Related object not found using the provided attributes: {params}",
        "multiple": "Multiple objects match the provided attributes: {params}",
        "incorrect_type": "Related objects must be referenced by numeric ID or by dictionary of "
        "attributes. Received an unrecognized value: {data!r}",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("view_name", None)
        super().__init__(**kwargs)
        self._brief: serializers.Serializer | None = None

    def use_pk_only_optimization(self) -> bool:
        return False

    def get_choices(self, cutoff=None):  # the browsable API must not load whole tables
        return {}

    def to_representation(self, value: models.Model) -> dict:
        if self._brief is None:
            self._brief = brief_serializer_for(type(value))(context=self.context)
            self._brief.nested = True  # ?fields= / ?omit= do not apply to nested objects
        return self._brief.to_representation(value)

    def to_internal_value(self, data: Any) -> models.Model:
        queryset = self.get_queryset()
        if isinstance(data, dict):
            params = _lookup_from_dict(queryset.model, data)
            if not params:
                self.fail("incorrect_type", data=data)
            try:
                return queryset.get(**params)
            except ObjectDoesNotExist:
                self.fail("not_found", params=data)
            except MultipleObjectsReturned:
                self.fail("multiple", params=data)
            except (TypeError, ValueError, DjangoValidationError):
                self.fail("not_found", params=data)
        if isinstance(data, bool):
            self.fail("incorrect_type", data=data)
        try:
            pk = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data=data)
        try:
            return queryset.get(pk=pk)
        except ObjectDoesNotExist:
            self.fail("not_found_pk", pk=pk)


class ObjectTypeField(serializers.RelatedField):
    """A content type as NetBox names it (``dcim.site``); ``inventory.site`` is accepted on write."""

    default_error_messages = {"invalid": "Unknown or unsupported object type {value!r} (e.g. dcim.site)."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("view_name", None)
        super().__init__(**kwargs)

    def use_pk_only_optimization(self) -> bool:
        return False

    def get_choices(self, cutoff=None):
        return {}

    def to_representation(self, value) -> str:
        from inventory.api.registry import object_type_name

        model = value.model_class()
        return object_type_name(model) if model is not None else f"{value.app_label}.{value.model}"

    def to_internal_value(self, data: Any):
        from django.contrib.contenttypes.models import ContentType

        from inventory.api.registry import model_for_object_type

        model = model_for_object_type(data) if isinstance(data, str) else None
        if model is None:
            self.fail("invalid", value=data)
        content_type = ContentType.objects.get_for_model(model)
        if not self.get_queryset().filter(pk=content_type.pk).exists():
            self.fail("invalid", value=data)
        return content_type
