"""IPAM filter sets: addresses and prefixes filter by value (containment uses the stored value keys)."""

from __future__ import annotations

import ipaddress

from django import forms
from django.db.models import Q, QuerySet

from inventory.api.filtersets.base import BaseFilterSet, BooleanFilter, LookupFilter
from inventory.models import VRF, Device, Interface, IPAddress, Prefix
from inventory.models.sortkeys import host_key, network_keys


class NetworkField(forms.Field):
    """An IPv4/IPv6 network (``10.0.1.0/24``; a bare address is its host network)."""

    def clean(self, value):
        try:
            return ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            raise forms.ValidationError(f"{value!r} is not an IP prefix (e.g. 10.0.1.0/24).") from None


class AddressField(forms.Field):
    """An address with or without mask: ``10.0.0.1`` (any mask) or ``10.0.0.1/24`` (that mask)."""

    def clean(self, value):
        text = str(value).strip()
        try:
            return ipaddress.ip_interface(text) if "/" in text else ipaddress.ip_address(text)
        except ValueError:
            raise forms.ValidationError(
                f"{value!r} is not an IP address (e.g. 10.0.0.1 or 10.0.0.1/24)."
            ) from None


def _inside(network, *, key: str, length: str | None = None, strict: bool = False) -> Q:
    """Rows whose value ``key`` lies inside ``network`` (and, for prefixes, are at least as long)."""
    first, last = network_keys(network)
    condition = Q(family=network.version, **{f"{key}__gte": first, f"{key}__lte": last})
    if length is not None:
        condition &= Q(**{f"{length}__gt" if strict else f"{length}__gte": network.prefixlen})
    return condition


class ValueFilter(LookupFilter):
    """A filter whose values become a Q through ``self.condition`` (OR over the values)."""

    def __init__(self, *, condition, item_field: forms.Field, **kwargs) -> None:
        self.condition = condition
        super().__init__(field_name="pk", item_field=item_field, **kwargs)

    def filter(self, qs: QuerySet, value: list) -> QuerySet:
        if not value:
            return qs
        combined = Q()
        for item in value:
            combined |= self.condition(item)
        return qs.exclude(combined) if self.exclude else qs.filter(combined)


def _address_condition(value) -> Q:
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        return Q(family=value.version, host_key=host_key(value.ip), mask_length=value.network.prefixlen)
    return Q(family=value.version, host_key=host_key(value))


def _contains_condition(network) -> Q:
    first, last = network_keys(network)
    return Q(family=network.version, start_key__lte=first, end_key__gte=last)


def _vrf_filters() -> tuple[LookupFilter, LookupFilter]:
    """``vrf_id`` (``null``: the global table) and ``vrf`` by route distinguisher, as NetBox."""
    return (
        LookupFilter(
            field_name="vrf", item_field=forms.IntegerField(), allow_null=True, must_exist=(VRF, "pk")
        ),
        LookupFilter(field_name="vrf__rd", item_field=forms.CharField(), must_exist=(VRF, "rd")),
    )


class PrefixFilterSet(BaseFilterSet):
    filter_fields = ("prefix", "family", "site", "tenant", "status", "is_pool", "description")
    vrf_id, vrf = _vrf_filters()
    search_fields = ("prefix", "description")
    netbox_only = (
        "scope_type",
        "scope_id",
        "region",
        "region_id",
        "site_group",
        "site_group_id",
        "location",
        "location_id",
        "vlan_id",
        "vlan_vid",
        "role",
        "role_id",
        "mark_utilized",
        "present_in_vrf",
        "present_in_vrf_id",
        "depth",
        "children",
        "contact",
        "contact_role",
        "contact_group",
        "tenant_group",
        "tenant_group_id",
        "vrf_rd",
        "route_target",
        "export_target",
    )
    prefix = ValueFilter(
        item_field=NetworkField(),
        condition=lambda net: Q(
            family=net.version, start_key=network_keys(net)[0], prefix_length=net.prefixlen
        ),
    )
    within = ValueFilter(
        item_field=NetworkField(),
        condition=lambda net: _inside(net, key="start_key", length="prefix_length", strict=True),
    )
    within_include = ValueFilter(
        item_field=NetworkField(), condition=lambda net: _inside(net, key="start_key", length="prefix_length")
    )
    contains = ValueFilter(item_field=NetworkField(), condition=_contains_condition)
    mask_length = LookupFilter(field_name="prefix_length", item_field=forms.IntegerField())
    mask_length__gte = LookupFilter(
        field_name="prefix_length", lookup_expr="gte", item_field=forms.IntegerField()
    )
    mask_length__lte = LookupFilter(
        field_name="prefix_length", lookup_expr="lte", item_field=forms.IntegerField()
    )

    class Meta:
        model = Prefix
        fields: list[str] = []


class IPAddressFilterSet(BaseFilterSet):
    filter_fields = ("address", "family", "status", "role", "tenant", "dns_name", "description")
    vrf_id, vrf = _vrf_filters()
    search_fields = ("address", "dns_name", "description")
    netbox_only = (
        "virtual_machine",
        "virtual_machine_id",
        "vminterface",
        "vminterface_id",
        "fhrpgroup_id",
        "nat_inside_id",
        "present_in_vrf",
        "present_in_vrf_id",
        "contact",
        "contact_role",
        "contact_group",
        "tenant_group",
        "tenant_group_id",
        "service_id",
        "vrf_rd",
    )
    address = ValueFilter(item_field=AddressField(), condition=_address_condition)
    parent = ValueFilter(item_field=NetworkField(), condition=lambda net: _inside(net, key="host_key"))
    mask_length = LookupFilter(field_name="mask_length", item_field=forms.IntegerField())
    mask_length__gte = LookupFilter(
        field_name="mask_length", lookup_expr="gte", item_field=forms.IntegerField()
    )
    mask_length__lte = LookupFilter(
        field_name="mask_length", lookup_expr="lte", item_field=forms.IntegerField()
    )
    assigned_object_id = LookupFilter(
        field_name="assigned_object", item_field=forms.IntegerField(), allow_null=True
    )
    interface_id = LookupFilter(
        field_name="assigned_object",
        item_field=forms.IntegerField(),
        allow_null=True,
        must_exist=(Interface, "pk"),
    )
    interface = LookupFilter(
        field_name="assigned_object__name", item_field=forms.CharField(), must_exist=(Interface, "name")
    )
    device_id = LookupFilter(
        field_name="assigned_object__device", item_field=forms.IntegerField(), must_exist=(Device, "pk")
    )
    device = LookupFilter(
        field_name="assigned_object__device__name", item_field=forms.CharField(), must_exist=(Device, "name")
    )
    assigned_to_interface = BooleanFilter(method="filter_assigned", label="Assigned to an interface")

    class Meta:
        model = IPAddress
        fields: list[str] = []

    def filter_assigned(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(assigned_object__isnull=not value)


class VRFFilterSet(BaseFilterSet):
    filter_fields = ("name", "rd", "tenant", "enforce_unique", "description")
    search_fields = ("name", "rd", "description")
    netbox_only = ("import_target", "import_target_id", "export_target", "export_target_id", "tenant_group")

    class Meta:
        model = VRF
        fields: list[str] = []
