"""IPAM filter sets."""

from __future__ import annotations

from django import forms

from inventory.api.filtersets.base import BaseFilterSet, LookupFilter
from inventory.models import IPAddress, Prefix


class PrefixFilterSet(BaseFilterSet):
    filter_fields = ("prefix", "family", "site", "tenant", "status", "is_pool", "description")
    search_fields = ("prefix", "description")

    class Meta:
        model = Prefix
        fields: list[str] = []


class IPAddressFilterSet(BaseFilterSet):
    filter_fields = ("address", "family", "status", "role", "tenant", "dns_name", "description")
    search_fields = ("address", "dns_name", "description")
    assigned_object_id = LookupFilter(
        field_name="assigned_object", item_field=forms.IntegerField(), allow_null=True
    )
    interface_id = LookupFilter(
        field_name="assigned_object", item_field=forms.IntegerField(), allow_null=True
    )
    interface = LookupFilter(field_name="assigned_object__name", item_field=forms.CharField())
    device_id = LookupFilter(field_name="assigned_object__device", item_field=forms.IntegerField())
    device = LookupFilter(field_name="assigned_object__device__name", item_field=forms.CharField())

    class Meta:
        model = IPAddress
        fields: list[str] = []
