"""DCIM filter sets: which fields filter (the base generates NetBox's lookups) and what ``q`` searches."""

from __future__ import annotations

from django import forms

from inventory.api.filtersets.base import BaseFilterSet, BooleanFilter, LookupFilter
from inventory.choices import StrandChoices
from inventory.fields import choice_list_contains
from inventory.models import (
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    Location,
    Manufacturer,
    Platform,
    Rack,
    Region,
    Site,
)

NESTED_GROUP = ("name", "slug", "description", "parent")
ORGANIZATIONAL = ("name", "slug", "description")


class RegionFilterSet(BaseFilterSet):
    filter_fields = NESTED_GROUP
    search_fields = ("name", "slug", "description")

    class Meta:
        model = Region
        fields: list[str] = []


class StrandFilter(LookupFilter):
    """``strand=e-government``: sites serving that strand (several values: any of them)."""

    def __init__(self, *, field_name: str, **kwargs) -> None:
        super().__init__(field_name=field_name, item_field=forms.ChoiceField(choices=StrandChoices.CHOICES))

    def filter(self, qs, value):
        if not value:
            return qs
        condition = choice_list_contains(self.field_name, value[0])
        for item in value[1:]:
            condition |= choice_list_contains(self.field_name, item)
        return qs.filter(condition)


class SiteFilterSet(BaseFilterSet):
    filter_fields = (
        "name",
        "slug",
        "status",
        "region",
        "tenant",
        "facility",
        "time_zone",
        "country",
        "latitude",
        "longitude",
        "description",
    )
    search_fields = ("name", "slug", "facility", "physical_address", "description", "comments")
    strand = StrandFilter(field_name="strands")
    tenant_group_id = LookupFilter(
        field_name="tenant__group", item_field=forms.IntegerField(), allow_null=True
    )
    tenant_group = LookupFilter(field_name="tenant__group__slug", item_field=forms.CharField())

    class Meta:
        model = Site
        fields: list[str] = []


class LocationFilterSet(BaseFilterSet):
    filter_fields = (*NESTED_GROUP, "site", "status", "tenant", "facility")
    search_fields = ("name", "slug", "facility", "description")

    class Meta:
        model = Location
        fields: list[str] = []


class RackFilterSet(BaseFilterSet):
    filter_fields = (
        "name",
        "facility_id",
        "site",
        "location",
        "tenant",
        "status",
        "serial",
        "asset_tag",
        "u_height",
        "description",
    )
    search_fields = ("name", "facility_id", "serial", "asset_tag", "description", "comments")

    class Meta:
        model = Rack
        fields: list[str] = []


class ManufacturerFilterSet(BaseFilterSet):
    filter_fields = ORGANIZATIONAL
    search_fields = ("name", "slug", "description")

    class Meta:
        model = Manufacturer
        fields: list[str] = []


class DeviceTypeFilterSet(BaseFilterSet):
    filter_fields = (
        "manufacturer",
        "model",
        "slug",
        "part_number",
        "u_height",
        "is_full_depth",
        "description",
    )
    search_fields = ("model", "slug", "part_number", "description", "comments")

    class Meta:
        model = DeviceType
        fields: list[str] = []


class DeviceRoleFilterSet(BaseFilterSet):
    filter_fields = (*ORGANIZATIONAL, "color")
    search_fields = ("name", "slug", "description")

    class Meta:
        model = DeviceRole
        fields: list[str] = []


class PlatformFilterSet(BaseFilterSet):
    filter_fields = (*ORGANIZATIONAL, "manufacturer")
    search_fields = ("name", "slug", "description")

    class Meta:
        model = Platform
        fields: list[str] = []


class DeviceFilterSet(BaseFilterSet):
    filter_fields = (
        "name",
        "device_type",
        "role",
        "platform",
        "tenant",
        "serial",
        "asset_tag",
        "site",
        "location",
        "rack",
        "position",
        "face",
        "status",
        "primary_ip4",
        "primary_ip6",
        "snmp_profile",
        "collector_group",
        "monitored",
        "poll_interval",
        "description",
    )
    search_fields = ("name", "serial", "asset_tag", "description", "comments")
    manufacturer_id = LookupFilter(field_name="device_type__manufacturer", item_field=forms.IntegerField())
    manufacturer = LookupFilter(field_name="device_type__manufacturer__slug", item_field=forms.CharField())
    region_id = LookupFilter(field_name="site__region", item_field=forms.IntegerField(), allow_null=True)
    region = LookupFilter(field_name="site__region__slug", item_field=forms.CharField())
    country = LookupFilter(field_name="site__country", item_field=forms.CharField())
    strand = StrandFilter(field_name="site__strands")
    tenant_group_id = LookupFilter(
        field_name="tenant__group", item_field=forms.IntegerField(), allow_null=True
    )
    tenant_group = LookupFilter(field_name="tenant__group__slug", item_field=forms.CharField())
    has_primary_ip = BooleanFilter(method="filter_has_primary_ip", label="Has a primary IP")

    class Meta:
        model = Device
        fields: list[str] = []

    def filter_has_primary_ip(self, queryset, name: str, value: bool | None):
        if value is None:
            return queryset
        from django.db.models import Q

        condition = Q(primary_ip4__isnull=False) | Q(primary_ip6__isnull=False)
        return queryset.filter(condition) if value else queryset.exclude(condition)


class InterfaceFilterSet(BaseFilterSet):
    filter_fields = (
        "device",
        "name",
        "label",
        "type",
        "enabled",
        "mgmt_only",
        "mark_connected",
        "speed",
        "mtu",
        "mac_address",
        "description",
    )
    search_fields = ("name", "label", "description", "mac_address")
    site_id = LookupFilter(field_name="device__site", item_field=forms.IntegerField())
    site = LookupFilter(field_name="device__site__slug", item_field=forms.CharField())
    role_id = LookupFilter(field_name="device__role", item_field=forms.IntegerField())
    role = LookupFilter(field_name="device__role__slug", item_field=forms.CharField())

    class Meta:
        model = Interface
        fields: list[str] = []
