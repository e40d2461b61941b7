"""What can be imported: every model with a writable API endpoint, under the endpoint's name.

A target knows its model, its API serializer (field names and plain-field validation), which of the
serializer's fields are references (foreign keys, tags) and the import-only columns some models take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import serializers

from inventory.importer.errors import ImportFailed, RowError

EXTRA_COLUMNS: dict[str, tuple[str, ...]] = {
    "interfaces": ("site",),  # scopes ``device`` given by name
    "ip-addresses": ("device", "interface", "is_primary", "assigned_object_type", "assigned_object_id"),
}
"""Import-only columns beyond the API's fields (see docs/import.md)."""
EXCLUDED_APPS = ("users",)
"""API tokens and users are never imported from files."""


@dataclass
class Target:
    name: str
    model: type[models.Model]
    serializer_class: type[serializers.ModelSerializer]
    references: dict[str, models.ForeignKey] = field(default_factory=dict)
    many: dict[str, models.ManyToManyField] = field(default_factory=dict)
    plain: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()

    @property
    def columns(self) -> set[str]:
        """Every column an import of this model accepts."""
        return {"id", *self.references, *self.many, *self.plain, *self.extras}

    @property
    def per_row(self) -> bool:
        """Always written object by object (``save()``): the model's ``save()`` does more than fill the
        values it derives (``set_stored_values()``, which bulk writes call instead). Imports of other
        models are written in bulk unless a row names an object of an earlier row (a parent region)."""
        return any(
            "save" in vars(cls) and "set_stored_values" not in vars(cls)
            for cls in self.model.__mro__
            if cls is not models.Model and issubclass(cls, models.Model)
        )


def _build(name: str, model: type[models.Model], serializer_class) -> Target:
    serializer = serializer_class()
    references: dict[str, models.ForeignKey] = {}
    many: dict[str, models.ManyToManyField] = {}
    plain: list[str] = []
    for field_name, serializer_field in serializer.fields.items():
        if serializer_field.read_only:
            continue
        try:
            model_field = model._meta.get_field(serializer_field.source)
        except FieldDoesNotExist:  # a serializer-only field: validated by the serializer
            plain.append(field_name)
            continue
        if model_field.many_to_many:
            many[field_name] = model_field
        elif model_field.many_to_one and model_field.related_model.__name__ != "ContentType":
            references[field_name] = model_field
        else:
            plain.append(field_name)
    return Target(
        name=name,
        model=model,
        serializer_class=serializer_class,
        references=references,
        many=many,
        plain=tuple(plain),
        extras=EXTRA_COLUMNS.get(name, ()),
    )


@cache
def targets() -> dict[str, Target]:
    """``{"sites": Target, "devices": …}`` for every writable API endpoint (the API's URL names), but those
    whose viewset says ``importable = False`` (operational records such as discovery jobs)."""
    from inventory.api.urls import ROUTES
    from inventory.api.views.base import BaseModelViewSet

    found: dict[str, Target] = {}
    for app, routes in ROUTES.items():
        if app in EXCLUDED_APPS:
            continue
        for prefix, viewset in routes:
            if (
                issubclass(viewset, BaseModelViewSet)
                and "post" in viewset.http_method_names
                and getattr(viewset, "importable", True)
            ):
                found[prefix] = _build(prefix, viewset.queryset.model, viewset.serializer_class)
    return found


def model_names() -> list[str]:
    return list(targets())


def target(name: str) -> Target:
    try:
        return targets()[name]
    except KeyError:
        raise ImportFailed(
            [RowError(0, "model", f"Unknown model {name!r}; use one of {', '.join(targets())}.")]
        ) from None
