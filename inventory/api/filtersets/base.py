"""The generic filter set: NetBox's lookups generated from the model fields a subclass names.

A subclass sets ``Meta.model`` and ``filter_fields`` (model field names) and optionally
``search_fields`` (ORM paths for ``q=``). For every named field the base adds, by field kind:

- text: ``name``, ``name__n``, ``__ic``, ``__nic``, ``__isw``, ``__nisw``, ``__iew``, ``__niew``, ``__ie``,
  ``__nie``, ``__empty``
- numbers, dates: ``x``, ``x__n``, ``__gt``, ``__gte``, ``__lt``, ``__lte``
- choices: ``status``, ``status__n`` (values checked against the choices)
- booleans: ``x``
- foreign keys: ``site_id``, ``site_id__n`` (``null`` matches none) and ``site``, ``site__n`` by slug
  (or name when the related model has no slug)

Every filter takes several values (``name=a&name=b``, OR; negated lookups exclude them all).
``q=`` searches, ``tag=`` (slugs, all must match) when the model has tags; ordering is DRF's ``ordering=``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms
from django.db import models
from django.db.models import Q

NULL = object()
_NULL_WORDS = {"null"}

TEXT_LOOKUPS = {
    "n": ("exact", True),
    "ic": ("icontains", False),
    "nic": ("icontains", True),
    "isw": ("istartswith", False),
    "nisw": ("istartswith", True),
    "iew": ("iendswith", False),
    "niew": ("iendswith", True),
    "ie": ("iexact", False),
    "nie": ("iexact", True),
}
ORDERED_LOOKUPS = {
    "n": ("exact", True),
    "gt": ("gt", False),
    "gte": ("gte", False),
    "lt": ("lt", False),
    "lte": ("lte", False),
}
EXACT_LOOKUPS = {"n": ("exact", True)}


class MultiValueField(forms.Field):
    """A query parameter given one or more times, each value cleaned by ``item_field``."""

    widget = forms.SelectMultiple

    def __init__(self, *, item_field: forms.Field, allow_null: bool = False, **kwargs: Any) -> None:
        self.item_field = item_field
        self.allow_null = allow_null
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list:
        values = value if isinstance(value, (list, tuple)) else ([] if value in (None, "") else [value])
        cleaned = []
        for item in values:
            if self.allow_null and str(item).lower() in _NULL_WORDS:
                cleaned.append(NULL)
            else:
                cleaned.append(self.item_field.clean(item))
        return cleaned


class StrictBooleanField(forms.Field):
    """``true/false``, ``1/0``, ``yes/no``; anything else is an error (not silently ignored)."""

    TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}

    def clean(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(f"{value!r} is not a boolean (use true or false).")


class BooleanFilter(django_filters.Filter):
    """``x=true`` / ``x=false`` (a bad value is a 400, unlike django-filter's silent null)."""

    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._spectacular_annotation = {"field": {"type": "boolean"}}

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return super().filter(qs, value)


_OPENAPI_ITEM_TYPES = {
    forms.IntegerField: {"type": "integer"},
    forms.FloatField: {"type": "number"},
    forms.DecimalField: {"type": "number"},
    forms.DateField: {"type": "string", "format": "date"},
    forms.DateTimeField: {"type": "string", "format": "date-time"},
}


class LookupFilter(django_filters.Filter):
    """``field_name__lookup_expr`` for any of several values; ``exclude`` negates (NetBox's ``__n``)."""

    field_class = MultiValueField

    def __init__(self, *, item_field: forms.Field, allow_null: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("distinct", False)
        super().__init__(item_field=item_field, allow_null=allow_null, **kwargs)
        item_schema = dict(_OPENAPI_ITEM_TYPES.get(type(item_field), {"type": "string"}))
        choices = getattr(item_field, "choices", None)
        if choices:
            item_schema["enum"] = [str(value) for value, _ in choices if value != ""]
        self._spectacular_annotation = {"field": {"type": "array", "items": item_schema}}

    def filter(self, qs: models.QuerySet, value: list) -> models.QuerySet:
        if not value:
            return qs
        condition = Q()
        for item in value:
            if item is NULL:
                condition |= Q(**{f"{self.field_name}__isnull": True})
            else:
                condition |= Q(**{f"{self.field_name}__{self.lookup_expr}": item})
        qs = qs.exclude(condition) if self.exclude else qs.filter(condition)
        return qs.distinct() if self.distinct else qs


class EmptyFilter(BooleanFilter):
    """``x__empty=true`` matches blank or null values; ``false`` the others."""

    def filter(self, qs: models.QuerySet, value: bool | None) -> models.QuerySet:
        if value is None:
            return qs
        empty = Q(**{f"{self.field_name}__isnull": True}) | Q(**{self.field_name: ""})
        return qs.filter(empty) if value else qs.exclude(empty)


def _text_item_field(field: models.Field) -> forms.Field:
    if field.choices:
        return forms.ChoiceField(choices=[(str(k), v) for k, v in field.flatchoices])
    return forms.CharField(strip=True)


def _ordered_item_field(field: models.Field) -> forms.Field:
    if isinstance(field, models.DateTimeField):
        return forms.DateTimeField()
    if isinstance(field, models.DateField):
        return forms.DateField()
    if isinstance(field, (models.FloatField,)):
        return forms.FloatField()
    if isinstance(field, models.DecimalField):
        return forms.DecimalField()
    return forms.IntegerField()


def _lookup_filters(name: str, path: str, item_field, lookups: dict, allow_null=False) -> dict[str, Any]:
    """The exact filter ``name`` and its ``name__<suffix>`` variants over ORM ``path``."""
    filters = {
        name: LookupFilter(field_name=path, lookup_expr="exact", item_field=item_field, allow_null=allow_null)
    }
    for suffix, (expr, negate) in lookups.items():
        filters[f"{name}__{suffix}"] = LookupFilter(
            field_name=path, lookup_expr=expr, exclude=negate, item_field=item_field, allow_null=allow_null
        )
    return filters


def filters_for_field(field: models.Field) -> dict[str, Any]:
    """Every NetBox-style filter for one model field."""
    name = field.name
    if field.many_to_one or field.one_to_one:
        related = field.related_model
        filters = _lookup_filters(f"{name}_id", name, forms.IntegerField(), EXACT_LOOKUPS, allow_null=True)
        key = "slug" if any(f.name == "slug" for f in related._meta.fields) else "name"
        if any(f.name == key for f in related._meta.fields):
            filters.update(_lookup_filters(name, f"{name}__{key}", forms.CharField(), EXACT_LOOKUPS))
        return filters
    if isinstance(field, models.BooleanField):
        return {name: BooleanFilter(field_name=name)}
    if field.choices:
        return _lookup_filters(name, name, _text_item_field(field), EXACT_LOOKUPS)
    if isinstance(field, (models.CharField, models.TextField)):
        filters = _lookup_filters(name, name, _text_item_field(field), TEXT_LOOKUPS)
        filters[f"{name}__empty"] = EmptyFilter(field_name=name)
        return filters
    if isinstance(field, (models.IntegerField, models.FloatField, models.DecimalField, models.DateField)):
        return _lookup_filters(name, name, _ordered_item_field(field), ORDERED_LOOKUPS, allow_null=field.null)
    return _lookup_filters(name, name, forms.CharField(), EXACT_LOOKUPS)


class BaseFilterSet(django_filters.FilterSet):
    """Generates the lookup filters of ``filter_fields``; adds ``id``, ``q`` and ``tag``."""

    filter_fields: ClassVar[tuple[str, ...]] = ()
    search_fields: ClassVar[tuple[str, ...]] = ()

    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = None
        fields: ClassVar[list[str]] = []

    @classmethod
    def get_filters(cls) -> dict[str, Any]:
        filters = super().get_filters()
        model = cls._meta.model
        if model is None:
            return filters
        generated: dict[str, Any] = {}
        generated.update(filters_for_field(model._meta.pk))
        for field_name in cls.filter_fields:
            generated.update(filters_for_field(model._meta.get_field(field_name)))
        if any(f.name == "tags" for f in model._meta.many_to_many):
            generated.update(
                {
                    "tag": TagFilter(field_name="tags__slug"),
                    "tag__n": LookupFilter(
                        field_name="tags__slug",
                        lookup_expr="exact",
                        exclude=True,
                        item_field=forms.CharField(),
                    ),
                    "tag_id": TagFilter(field_name="tags__id", item_field=forms.IntegerField()),
                }
            )
        for name, flt in generated.items():
            filters.setdefault(name, flt)  # filters declared on the class win
            flt.model = model
        return filters

    def search(self, queryset: models.QuerySet, name: str, value: str) -> models.QuerySet:
        value = value.strip()
        if not value or not self.search_fields:
            return queryset
        condition = Q()
        for path in self.search_fields:
            condition |= Q(**{f"{path}__icontains": value})
        return queryset.filter(condition)


class TagFilter(LookupFilter):
    """``tag=a&tag=b``: objects carrying every one of the given tags."""

    def __init__(self, *, field_name: str, item_field: forms.Field | None = None, **kwargs: Any) -> None:
        super().__init__(
            field_name=field_name, lookup_expr="exact", item_field=item_field or forms.CharField()
        )

    def filter(self, qs: models.QuerySet, value: list) -> models.QuerySet:
        for item in value or []:
            qs = qs.filter(**{self.field_name: item})
        return qs.distinct() if value else qs
