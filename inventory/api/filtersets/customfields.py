"""``cf_<name>`` filters: a custom field's value with the lookups its type allows (NetBox semantics)."""

from __future__ import annotations

import datetime
import decimal

import django_filters
from django import forms
from django.db import models
from django.db.models import Q

from inventory.api.filtersets.base import (
    EXACT_LOOKUPS,
    NULL,
    ORDERED_LOOKUPS,
    TEXT_LOOKUPS,
    BooleanFilter,
    LookupFilter,
    RefusedFilter,
)
from inventory.choices import CustomFieldTypeChoices as T

_TEXT_TYPES = {T.TYPE_TEXT, T.TYPE_LONGTEXT, T.TYPE_URL, T.TYPE_SELECT}


class CustomFieldValueFilter(LookupFilter):
    """A lookup on one key of ``custom_field_data``; ``null`` matches objects without a value."""

    def filter(self, qs: models.QuerySet, value: list) -> models.QuerySet:
        if not value:
            return qs
        condition = Q()
        for item in value:
            if item is NULL:
                condition |= Q(**{f"{self.field_name}__isnull": True})
                continue
            if isinstance(item, (datetime.date, datetime.datetime)):
                item = item.isoformat()
            elif isinstance(item, decimal.Decimal):
                item = float(item)
            condition |= Q(**{f"{self.field_name}__{self.lookup_expr}": item})
        if self.exclude:  # objects without a value are not equal to it either (SQL NULL would drop them)
            return qs.filter(~condition | Q(**{f"{self.field_name}__isnull": True}))
        return qs.filter(condition)


class CustomFieldBooleanFilter(BooleanFilter):
    def filter(self, qs: models.QuerySet, value: bool | None) -> models.QuerySet:
        if value is None:
            return qs
        return qs.filter(**{self.field_name: value})


class CustomFieldEmptyFilter(BooleanFilter):
    def filter(self, qs: models.QuerySet, value: bool | None) -> models.QuerySet:
        if value is None:
            return qs
        empty = Q(**{f"{self.field_name}__isnull": True}) | Q(**{self.field_name: ""})
        return qs.filter(empty) if value else qs.exclude(empty)


def _item_field(kind: str) -> tuple[forms.Field, dict[str, tuple[str, bool]]]:
    if kind in _TEXT_TYPES:
        return forms.CharField(strip=True), TEXT_LOOKUPS
    if kind == T.TYPE_INTEGER:
        return forms.IntegerField(), ORDERED_LOOKUPS
    if kind == T.TYPE_DECIMAL:
        return forms.DecimalField(), ORDERED_LOOKUPS
    if kind == T.TYPE_DATE:
        return forms.DateField(), ORDERED_LOOKUPS
    return forms.CharField(), EXACT_LOOKUPS


def custom_field_filter(model: type[models.Model], name: str, lookup: str) -> django_filters.Filter:
    """The filter for ``cf_<name>[__<lookup>]`` on ``model``, or a refusal naming what is wrong."""
    from inventory.models.customfields import custom_fields_for

    if not any(f.name == "custom_field_data" for f in model._meta.concrete_fields):
        return RefusedFilter(message=f"{model._meta.verbose_name_plural} have no custom fields.")
    field = next((cf for cf in custom_fields_for(model) if cf.name == name), None)
    if field is None:
        return RefusedFilter(
            message=f"There is no custom field {name!r} on {model._meta.verbose_name_plural}."
        )
    path = f"custom_field_data__{name}"
    if field.type == T.TYPE_BOOLEAN:
        return CustomFieldBooleanFilter(field_name=path) if not lookup else _bad_lookup(name, lookup)
    if lookup == "empty":
        return CustomFieldEmptyFilter(field_name=path)
    item_field, lookups = _item_field(field.type)
    if not lookup:
        return CustomFieldValueFilter(
            field_name=path, lookup_expr="exact", item_field=item_field, allow_null=True
        )
    if lookup not in lookups:
        return _bad_lookup(name, lookup)
    expr, negate = lookups[lookup]
    return CustomFieldValueFilter(
        field_name=path, lookup_expr=expr, exclude=negate, item_field=item_field, allow_null=True
    )


def _bad_lookup(name: str, lookup: str) -> RefusedFilter:
    return RefusedFilter(message=f"Unknown lookup {lookup!r} for custom field {name!r}.")
