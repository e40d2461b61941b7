"""Tenancy filter sets."""

from __future__ import annotations

from django import forms

from inventory.api.filtersets.base import BaseFilterSet, LookupFilter
from inventory.models import Contact, ContactAssignment, ContactRole, Tenant, TenantGroup


class TenantGroupFilterSet(BaseFilterSet):
    filter_fields = ("name", "slug", "description", "parent")
    search_fields = ("name", "slug", "description")

    class Meta:
        model = TenantGroup
        fields: list[str] = []


class TenantFilterSet(BaseFilterSet):
    filter_fields = ("name", "slug", "group", "description")
    search_fields = ("name", "slug", "description", "comments")

    class Meta:
        model = Tenant
        fields: list[str] = []


class ContactRoleFilterSet(BaseFilterSet):
    filter_fields = ("name", "slug", "description")
    search_fields = ("name", "slug", "description")

    class Meta:
        model = ContactRole
        fields: list[str] = []


class ContactFilterSet(BaseFilterSet):
    filter_fields = ("name", "title", "phone", "email", "address", "link", "description")
    search_fields = ("name", "title", "phone", "email", "address", "description", "comments")

    class Meta:
        model = Contact
        fields: list[str] = []


class ContactAssignmentFilterSet(BaseFilterSet):
    filter_fields = ("object_id", "contact", "role", "priority")
    search_fields = ("contact__name", "role__name")
    object_type = LookupFilter(
        field_name="object_type__model", item_field=forms.CharField(), method="filter_type"
    )

    class Meta:
        model = ContactAssignment
        fields: list[str] = []

    def filter_type(self, queryset, name: str, value: list):
        """``object_type=dcim.site`` (or ``inventory.site``)."""
        if not value:
            return queryset
        return queryset.filter(object_type__model__in=[item.rpartition(".")[2].lower() for item in value])
