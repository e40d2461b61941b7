"""Tag, change-log and monitoring filter sets."""

from __future__ import annotations

from django import forms

from inventory.api.filtersets.base import BaseFilterSet, LookupFilter
from inventory.models import CollectorGroup, CustomField, JournalEntry, ObjectChange, SnmpProfile, Tag


class TagFilterSet(BaseFilterSet):
    filter_fields = ("name", "slug", "color", "description")
    search_fields = ("name", "slug", "description")

    class Meta:
        model = Tag
        fields: list[str] = []


class ObjectChangeFilterSet(BaseFilterSet):
    filter_fields = ("time", "user", "user_name", "request_id", "action", "changed_object_id", "object_repr")
    search_fields = ("user_name", "object_repr")
    changed_object_type = LookupFilter(
        field_name="changed_object_type__model", item_field=forms.CharField(), method="filter_type"
    )

    class Meta:
        model = ObjectChange
        fields: list[str] = []

    def filter_type(self, queryset, name: str, value: list):
        """``changed_object_type=dcim.site`` (or ``inventory.site``)."""
        if not value:
            return queryset
        return queryset.filter(
            changed_object_type__model__in=[item.rpartition(".")[2].lower() for item in value]
        )


class SnmpProfileFilterSet(BaseFilterSet):
    filter_fields = ("name", "description", "version", "username", "auth_protocol", "priv_protocol", "port")
    search_fields = ("name", "description")

    class Meta:
        model = SnmpProfile
        fields: list[str] = []


class CollectorGroupFilterSet(BaseFilterSet):
    filter_fields = ("name", "slug", "description", "exporter_address", "poll_interval")
    search_fields = ("name", "slug", "description")

    class Meta:
        model = CollectorGroup
        fields: list[str] = []


def _object_types(queryset, path: str, value: list):
    """``dcim.site`` (or ``inventory.site``) names: rows whose content type at ``path`` is one of them."""
    if not value:
        return queryset
    return queryset.filter(**{f"{path}__model__in": [item.rpartition(".")[2].lower() for item in value]})


class CustomFieldFilterSet(BaseFilterSet):
    filter_fields = ("name", "label", "type", "required", "weight", "description")
    search_fields = ("name", "label", "description")
    netbox_only = ("group_name", "related_object_type", "ui_visible", "ui_editable", "choice_set")
    object_type = LookupFilter(
        field_name="object_types__model", item_field=forms.CharField(), method="filter_type"
    )

    class Meta:
        model = CustomField
        fields: list[str] = []

    def filter_type(self, queryset, name: str, value: list):
        return _object_types(queryset, "object_types", value).distinct()


class JournalEntryFilterSet(BaseFilterSet):
    filter_fields = ("assigned_object_id", "kind", "created_by", "comments")
    search_fields = ("comments",)
    assigned_object_type = LookupFilter(
        field_name="assigned_object_type__model", item_field=forms.CharField(), method="filter_type"
    )

    class Meta:
        model = JournalEntry
        fields: list[str] = []

    def filter_type(self, queryset, name: str, value: list):
        return _object_types(queryset, "assigned_object_type", value)
