"""FilterSet base for the UI lists: a free-text ``q`` search over declared fields."""

from __future__ import annotations

import operator
from functools import reduce
from typing import ClassVar

import django_filters
from django.db.models import Q, QuerySet


class SearchFilterSet(django_filters.FilterSet):
    """Adds ``q``: case-insensitive "contains" over ``search_fields``."""

    search_fields: ClassVar[tuple[str, ...]] = ("name",)

    q = django_filters.CharFilter(method="search", label="Search")

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        query = reduce(operator.or_, (Q(**{f"{field}__icontains": value}) for field in self.search_fields))
        return queryset.filter(query).distinct()
