"""Filter sets of the drift list, the platform mapping and the interface templates."""

from __future__ import annotations

from django import forms

from inventory.api.filtersets.base import BaseFilterSet, LookupFilter
from inventory.api.filtersets.dcim import StrandFilter
from inventory.models import DeviceType, DriftItem, InterfaceTemplate, PlatformMapping, Site, Tenant


class DriftItemFilterSet(BaseFilterSet):
    filter_fields = (
        "device",
        "kind",
        "subject",
        "state",
        "documented",
        "observed",
        "first_seen",
        "last_seen",
    )
    search_fields = ("device__name", "subject", "documented", "observed")
    site_id = LookupFilter(
        field_name="device__site", item_field=forms.IntegerField(), must_exist=(Site, "pk")
    )
    site = LookupFilter(
        field_name="device__site__slug", item_field=forms.CharField(), must_exist=(Site, "slug")
    )
    country = LookupFilter(
        field_name="device__site__country", item_field=forms.CharField(), lookup_expr="iexact"
    )
    strand = StrandFilter(field_name="device__site__strands")
    tenant_id = LookupFilter(
        field_name="device__tenant",
        item_field=forms.IntegerField(),
        allow_null=True,
        must_exist=(Tenant, "pk"),
    )
    tenant = LookupFilter(
        field_name="device__tenant__slug", item_field=forms.CharField(), must_exist=(Tenant, "slug")
    )

    class Meta:
        model = DriftItem
        fields: list[str] = []


class PlatformMappingFilterSet(BaseFilterSet):
    filter_fields = ("platform", "sys_object_id_prefix", "sys_descr_regex", "weight", "description")
    search_fields = ("sys_object_id_prefix", "sys_descr_regex", "description", "platform__name")

    class Meta:
        model = PlatformMapping
        fields: list[str] = []


class InterfaceTemplateFilterSet(BaseFilterSet):
    netbox_only = ("module_type_id", "bridge_id", "poe_mode", "poe_type", "rf_role")
    filter_fields = ("device_type", "name", "label", "type", "enabled", "mgmt_only", "description")
    search_fields = ("name", "label", "description")
    devicetype_id = LookupFilter(
        field_name="device_type", item_field=forms.IntegerField(), must_exist=(DeviceType, "pk")
    )

    class Meta:
        model = InterfaceTemplate
        fields: list[str] = []
