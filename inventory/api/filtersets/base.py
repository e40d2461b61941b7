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
``created``/``last_updated`` (with ``__gte`` …) on every change-logged model, ``cf_<name>`` (with the
lookups of the custom field's type) on models with custom fields.

A related object named in a filter (``site=<slug>``, ``site_id=<id>``, ``tag=<slug>``) must exist, else
400, as in NetBox. A parameter that is a NetBox filter this API lacks (``netbox_only``), an unknown
lookup of a known filter (``name__foo``) or an unknown ``cf_`` field is a 400 naming it, never ignored:
a script deleting what a filter matched must not get the whole table. Other unknown parameters are
ignored, as NetBox does.
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
    """A query parameter given one or more times, each value cleaned by ``item_field``.

    With ``must_exist=(model, key)`` every value must name an existing ``model`` row by ``key``.
    """

    widget = forms.SelectMultiple

    def __init__(
        self,
        *,
        item_field: forms.Field,
        allow_null: bool = False,
        must_exist: tuple[type[models.Model], str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.item_field = item_field
        self.allow_null = allow_null
        self.must_exist = must_exist
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list:
        values = value if isinstance(value, (list, tuple)) else ([] if value in (None, "") else [value])
        cleaned = []
        for item in values:
            if self.allow_null and str(item).lower() in _NULL_WORDS:
                cleaned.append(NULL)
            else:
                cleaned.append(self.item_field.clean(item))
        if self.must_exist is not None:
            self._check_exist([item for item in cleaned if item is not NULL])
        return cleaned

    def _check_exist(self, values: list) -> None:
        if not values:
            return
        model, key = self.must_exist
        found = {
            str(v)
            for v in model._default_manager.filter(**{f"{key}__in": values}).values_list(key, flat=True)
        }
        missing = [str(v) for v in values if str(v) not in found]
        if missing:
            raise forms.ValidationError(
                f"Select a valid choice. {', '.join(missing)} is not one of the available choices."
            )


class RefusedField(forms.Field):
    """A query parameter that is always an error (a NetBox filter we lack, an unknown lookup …)."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        self.message = message
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        raise forms.ValidationError(self.message)


class RefusedFilter(django_filters.Filter):
    field_class = RefusedField

    def filter(self, qs, value):  # never reached: the field always fails validation
        return qs.none()


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

    def __init__(
        self,
        *,
        item_field: forms.Field,
        allow_null: bool = False,
        must_exist: tuple[type[models.Model], str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("distinct", False)
        super().__init__(item_field=item_field, allow_null=allow_null, must_exist=must_exist, **kwargs)
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


def _lookup_filters(
    name: str, path: str, item_field, lookups: dict, allow_null=False, must_exist=None
) -> dict[str, Any]:
    """The exact filter ``name`` and its ``name__<suffix>`` variants over ORM ``path``."""
    common = {"item_field": item_field, "allow_null": allow_null, "must_exist": must_exist}
    filters = {name: LookupFilter(field_name=path, lookup_expr="exact", **common)}
    for suffix, (expr, negate) in lookups.items():
        filters[f"{name}__{suffix}"] = LookupFilter(
            field_name=path, lookup_expr=expr, exclude=negate, **common
        )
    return filters


def related_filters(name: str, path: str, model: type[models.Model], key: str = "slug") -> dict[str, Any]:
    """``<name>`` (by ``key``) and ``<name>_id`` over the relation ``path``; unknown values are a 400."""
    filters = _lookup_filters(
        f"{name}_id", path, forms.IntegerField(), EXACT_LOOKUPS, allow_null=True, must_exist=(model, "pk")
    )
    filters.update(
        _lookup_filters(name, f"{path}__{key}", forms.CharField(), EXACT_LOOKUPS, must_exist=(model, key))
    )
    return filters


def filters_for_field(field: models.Field) -> dict[str, Any]:
    """Every NetBox-style filter for one model field."""
    name = field.name
    if field.many_to_one or field.one_to_one:
        related = field.related_model
        filters = _lookup_filters(
            f"{name}_id",
            name,
            forms.IntegerField(),
            EXACT_LOOKUPS,
            allow_null=True,
            must_exist=(related, "pk"),
        )
        key = "slug" if any(f.name == "slug" for f in related._meta.fields) else "name"
        if any(f.name == key for f in related._meta.fields):
            filters.update(
                _lookup_filters(
                    name, f"{name}__{key}", forms.CharField(), EXACT_LOOKUPS, must_exist=(related, key)
                )
            )
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


NON_FILTER_PARAMETERS = frozenset({"limit", "offset", "ordering", "brief", "fields", "omit", "format", "q"})
"""Query parameters of the list views that are not filters."""

COMMON_NETBOX_ONLY = ("created_by_request", "updated_by_request", "modified_by_request")
"""Filters every NetBox model has that this API does not support."""


class BaseFilterSet(django_filters.FilterSet):
    """Generates the lookup filters of ``filter_fields``; adds ``id``, ``q``, ``tag``, ``created``,
    ``last_updated`` and ``cf_<name>``; refuses the NetBox filters of ``netbox_only`` (see module doc).
    """

    filter_fields: ClassVar[tuple[str, ...]] = ()
    search_fields: ClassVar[tuple[str, ...]] = ()
    netbox_only: ClassVar[tuple[str, ...]] = ()
    """NetBox filters of this endpoint that are not implemented: a 400 rather than silently ignored."""

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
        from inventory.models import Tag

        generated: dict[str, Any] = {}
        generated.update(filters_for_field(model._meta.pk))
        for field_name in cls.filter_fields:
            generated.update(filters_for_field(model._meta.get_field(field_name)))
        for stamp in ("created", "last_updated"):
            if any(f.name == stamp for f in model._meta.concrete_fields):
                generated.update(
                    _lookup_filters(stamp, stamp, forms.DateTimeField(), ORDERED_LOOKUPS, allow_null=True)
                )
        if any(f.name == "tags" for f in model._meta.many_to_many):
            generated.update(
                {
                    "tag": TagFilter(field_name="tags__slug", must_exist=(Tag, "slug")),
                    "tag__n": LookupFilter(
                        field_name="tags__slug",
                        lookup_expr="exact",
                        exclude=True,
                        item_field=forms.CharField(),
                        must_exist=(Tag, "slug"),
                    ),
                    "tag_id": TagFilter(
                        field_name="tags__id", item_field=forms.IntegerField(), must_exist=(Tag, "pk")
                    ),
                }
            )
        for name, flt in generated.items():
            filters.setdefault(name, flt)  # filters declared on the class win
            flt.model = model
        return filters

    def __init__(self, data=None, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        for key in list(self.data.keys()) if self.data is not None else []:
            if key in self.filters or key in NON_FILTER_PARAMETERS:
                continue
            extra = self._extra_filter(key)
            if extra is not None:
                extra.model = self._meta.model
                self.filters[key] = extra

    def _extra_filter(self, key: str) -> django_filters.Filter | None:
        """The filter for a parameter not declared statically: ``cf_…`` or a refusal; None to ignore it."""
        from inventory.api.filtersets.customfields import custom_field_filter

        base, _, lookup = key.partition("__")
        if base.startswith("cf_"):
            return custom_field_filter(self._meta.model, base[3:], lookup)
        if base in self.netbox_only or base in COMMON_NETBOX_ONLY:
            return RefusedFilter(message=f"The NetBox filter {base!r} is not supported by this API.")
        if lookup and (base in self.filters or f"{base}_id" in self.filters):
            return RefusedFilter(message=f"Unknown lookup {lookup!r} for filter {base!r}.")
        return None

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

    def __init__(
        self, *, field_name: str, item_field: forms.Field | None = None, must_exist=None, **kwargs: Any
    ) -> None:
        super().__init__(
            field_name=field_name,
            lookup_expr="exact",
            item_field=item_field or forms.CharField(),
            must_exist=must_exist,
        )

    def filter(self, qs: models.QuerySet, value: list) -> models.QuerySet:
        for item in value or []:
            qs = qs.filter(**{self.field_name: item})
        return qs.distinct() if value else qs
