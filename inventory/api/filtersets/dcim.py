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
    TenantGroup,
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
    netbox_only = ("group", "group_id", "asn", "asn_id", "contact", "contact_role", "contact_group")
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
        field_name="tenant__group",
        item_field=forms.IntegerField(),
        allow_null=True,
        must_exist=(TenantGroup, "pk"),
    )
    tenant_group = LookupFilter(
        field_name="tenant__group__slug", item_field=forms.CharField(), must_exist=(TenantGroup, "slug")
    )

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
    netbox_only = (
        "virtual_chassis_id",
        "virtual_chassis_member",
        "vc_position",
        "vc_priority",
        "cluster_id",
        "cluster_group_id",
        "config_template_id",
        "airflow",
        "site_group",
        "site_group_id",
        "console_ports",
        "console_server_ports",
        "power_ports",
        "power_outlets",
        "pass_through_ports",
        "module_bays",
        "device_bays",
        "local_context_data",
        "contact",
        "contact_role",
        "contact_group",
        "parent_device_id",
        "virtual_chassis",
        "is_full_depth",
        "interfaces",
    )
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
        "oob_ip",
        "snmp_profile",
        "collector_group",
        "monitored",
        "poll_interval",
        "description",
    )
    search_fields = ("name", "serial", "asset_tag", "description", "comments")
    manufacturer_id = LookupFilter(
        field_name="device_type__manufacturer",
        item_field=forms.IntegerField(),
        must_exist=(Manufacturer, "pk"),
    )
    manufacturer = LookupFilter(
        field_name="device_type__manufacturer__slug",
        item_field=forms.CharField(),
        must_exist=(Manufacturer, "slug"),
    )
    region_id = LookupFilter(
        field_name="site__region", item_field=forms.IntegerField(), allow_null=True, must_exist=(Region, "pk")
    )
    region = LookupFilter(
        field_name="site__region__slug", item_field=forms.CharField(), must_exist=(Region, "slug")
    )
    interface_count = LookupFilter(field_name="interface_count", item_field=forms.IntegerField())
    country = LookupFilter(field_name="site__country", item_field=forms.CharField())
    strand = StrandFilter(field_name="site__strands")
    tenant_group_id = LookupFilter(
        field_name="tenant__group",
        item_field=forms.IntegerField(),
        allow_null=True,
        must_exist=(TenantGroup, "pk"),
    )
    tenant_group = LookupFilter(
        field_name="tenant__group__slug", item_field=forms.CharField(), must_exist=(TenantGroup, "slug")
    )
    has_primary_ip = BooleanFilter(method="filter_has_primary_ip", label="Has a primary IP")
    has_oob_ip = BooleanFilter(field_name="oob_ip", method="filter_has_oob_ip", label="Has an out-of-band IP")
    mac_address = LookupFilter(
        field_name="interfaces__mac_address",
        item_field=forms.CharField(),
        lookup_expr="iexact",
        distinct=True,
    )

    class Meta:
        model = Device
        fields: list[str] = []

    def filter_has_oob_ip(self, queryset, name: str, value: bool | None):
        if value is None:
            return queryset
        return queryset.filter(oob_ip__isnull=not value)

    def filter_has_primary_ip(self, queryset, name: str, value: bool | None):
        if value is None:
            return queryset
        from django.db.models import Q

        condition = Q(primary_ip4__isnull=False) | Q(primary_ip6__isnull=False)
        return queryset.filter(condition) if value else queryset.exclude(condition)


class InterfaceFilterSet(BaseFilterSet):
    netbox_only = (
        "parent_id",
        "bridge_id",
        "module_id",
        "virtual_chassis_id",
        "connected",
        "occupied",
        "kind",
        "wwn",
        "poe_mode",
        "poe_type",
        "rf_role",
        "rf_channel",
        "vlan",
        "vlan_id",
        "vdc_id",
        "wireless_lan_id",
        "l2vpn_id",
        "primary_mac_address",
        "duplex",
        "mark_connected",
        "tx_power",
        "site_group",
        "region",
        "location",
        "rack",
        "virtual_chassis",
    )
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
        "mode",
        "vrf",
        "description",
    )
    search_fields = ("name", "label", "description", "mac_address")
    site_id = LookupFilter(
        field_name="device__site", item_field=forms.IntegerField(), must_exist=(Site, "pk")
    )
    site = LookupFilter(
        field_name="device__site__slug", item_field=forms.CharField(), must_exist=(Site, "slug")
    )
    role_id = LookupFilter(
        field_name="device__role", item_field=forms.IntegerField(), must_exist=(DeviceRole, "pk")
    )
    role = LookupFilter(
        field_name="device__role__slug", item_field=forms.CharField(), must_exist=(DeviceRole, "slug")
    )
    lag_id = LookupFilter(
        field_name="lag", item_field=forms.IntegerField(), allow_null=True, must_exist=(Interface, "pk")
    )
    cabled = BooleanFilter(method="filter_cabled", label="The end of a cable")

    class Meta:
        model = Interface
        fields: list[str] = []

    def filter_cabled(self, queryset, name: str, value: bool | None):
        if value is None:
            return queryset
        from django.db.models import Q

        condition = Q(cable_a__isnull=False) | Q(cable_b__isnull=False)
        return queryset.filter(condition) if value else queryset.exclude(condition)
