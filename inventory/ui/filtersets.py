"""One list filter set per model (the sidebar of each list page)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet

from inventory.choices import (
    DeviceStatusChoices,
    IPAddressStatusChoices,
    LocationStatusChoices,
    PrefixStatusChoices,
    RackStatusChoices,
    SiteStatusChoices,
    SnmpVersionChoices,
    StrandChoices,
)
from inventory.countries import country_label
from inventory.fields import choice_list_contains
from inventory.models import (
    CollectorGroup,
    Contact,
    ContactAssignment,
    ContactRole,
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    IPAddress,
    Location,
    Manufacturer,
    Platform,
    Prefix,
    Rack,
    Region,
    Site,
    SnmpProfile,
    Tag,
    Tenant,
    TenantGroup,
)
from inventory.ui.filtersets_base import SearchFilterSet
from inventory.ui.pollstate import stale_device_ids


def multi(choices) -> django_filters.MultipleChoiceFilter:
    return django_filters.MultipleChoiceFilter(choices=choices)


class ContextChoiceField(forms.ModelMultipleChoiceField):
    """Choices named with their parent, so six racks called R01 read "R01 (casablanca-dc1)" …"""

    def __init__(self, *args, context: str, **kwargs) -> None:
        self.context = context
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj) -> str:
        parent = getattr(obj, self.context)
        return f"{obj} ({parent})" if parent else str(obj)


class ContextChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = ContextChoiceField


def related(
    model, field_name: str, label: str | None = None, *, context: str | None = None
) -> django_filters.ModelMultipleChoiceFilter:
    """A filter on a related object; ``context`` names the parent that tells same-named objects apart."""
    if context is None:
        return django_filters.ModelMultipleChoiceFilter(
            queryset=model.objects.all(), field_name=field_name, label=label
        )
    return ContextChoiceFilter(
        queryset=model.objects.select_related(context), field_name=field_name, label=label, context=context
    )


def in_use_countries() -> list[tuple[str, str]]:
    """The countries that have sites, named: a filter offers what can match."""
    codes = Site.objects.order_by("country").values_list("country", flat=True).distinct()
    return [(code, country_label(code)) for code in codes if code]


def country_filter(field_name: str = "country") -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        choices=in_use_countries, field_name=field_name, lookup_expr="iexact", label="Country"
    )


class RegionFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "description")
    parent = related(Region, "parent")

    class Meta:
        model = Region
        fields = ("q", "parent")


class SiteFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "facility", "physical_address", "description", "country")
    status = multi(SiteStatusChoices.CHOICES)
    country = country_filter()
    strand = django_filters.ChoiceFilter(
        choices=StrandChoices.CHOICES, method="filter_strand", label="Strand"
    )
    region = related(Region, "region")
    tenant = related(Tenant, "tenant")
    tag = related(Tag, "tags", "Tag")

    class Meta:
        model = Site
        fields = ("q", "status", "country", "strand", "region", "tenant", "tag")

    def filter_strand(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(choice_list_contains("strands", value)) if value else queryset


class LocationFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "facility", "description")
    site = related(Site, "site")
    status = multi(LocationStatusChoices.CHOICES)

    class Meta:
        model = Location
        fields = ("q", "site", "status")


class RackFilterSet(SearchFilterSet):
    search_fields = ("name", "facility_id", "serial", "asset_tag", "description")
    site = related(Site, "site")
    location = related(Location, "location", context="site")
    status = multi(RackStatusChoices.CHOICES)
    tenant = related(Tenant, "tenant")

    class Meta:
        model = Rack
        fields = ("q", "site", "location", "status", "tenant")


class ManufacturerFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "description")

    class Meta:
        model = Manufacturer
        fields = ("q",)


class DeviceTypeFilterSet(SearchFilterSet):
    search_fields = ("model", "slug", "part_number", "description")
    manufacturer = related(Manufacturer, "manufacturer")

    class Meta:
        model = DeviceType
        fields = ("q", "manufacturer")


class DeviceRoleFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "description")

    class Meta:
        model = DeviceRole
        fields = ("q",)


class PlatformFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "description")
    manufacturer = related(Manufacturer, "manufacturer")

    class Meta:
        model = Platform
        fields = ("q", "manufacturer")


class DeviceFilterSet(SearchFilterSet):
    search_fields = ("name", "serial", "asset_tag", "description", "primary_ip4__address")
    status = multi(DeviceStatusChoices.CHOICES)
    site = related(Site, "site")
    country = country_filter("site__country")
    rack = related(Rack, "rack", context="site")
    role = related(DeviceRole, "role")
    device_type = related(DeviceType, "device_type", "Type")
    tenant = related(Tenant, "tenant")
    collector_group = related(CollectorGroup, "collector_group")
    monitored = django_filters.BooleanFilter()
    poll = django_filters.ChoiceFilter(
        choices=(("up", "Up"), ("down", "Down"), ("stale", "Stale"), ("never", "Never polled")),
        method="filter_poll",
        label="Last poll",
    )

    class Meta:
        model = Device
        fields = (
            "q",
            "status",
            "site",
            "country",
            "rack",
            "role",
            "device_type",
            "tenant",
            "collector_group",
            "monitored",
            "poll",
        )

    def filter_poll(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "never":
            return queryset.filter(observation__isnull=True)
        if value == "down":
            return queryset.filter(observation__up=False)
        if value in ("up", "stale"):
            stale = stale_device_ids(queryset)
            answered = queryset.filter(observation__up=True)
            return answered.filter(pk__in=stale) if value == "stale" else answered.exclude(pk__in=stale)
        return queryset


class InterfaceFilterSet(SearchFilterSet):
    search_fields = ("name", "label", "description", "mac_address", "device__name")
    device = django_filters.CharFilter(
        field_name="device__name", lookup_expr="icontains", label="Device name"
    )
    device_id = django_filters.NumberFilter(field_name="device_id", widget=forms.HiddenInput)
    site = related(Site, "device__site", "Site")
    enabled = django_filters.BooleanFilter()
    mgmt_only = django_filters.BooleanFilter()

    class Meta:
        model = Interface
        fields = ("q", "device", "device_id", "site", "type", "enabled", "mgmt_only")


class PrefixFilterSet(SearchFilterSet):
    search_fields = ("prefix", "description")
    status = multi(PrefixStatusChoices.CHOICES)
    site = related(Site, "site")
    tenant = related(Tenant, "tenant")

    class Meta:
        model = Prefix
        fields = ("q", "status", "site", "tenant", "family")


class IPAddressFilterSet(SearchFilterSet):
    search_fields = ("address", "dns_name", "description", "assigned_object__device__name")
    status = multi(IPAddressStatusChoices.CHOICES)
    tenant = related(Tenant, "tenant")
    device = django_filters.CharFilter(
        field_name="assigned_object__device__name", lookup_expr="icontains", label="Device name"
    )

    class Meta:
        model = IPAddress
        fields = ("q", "family", "status", "role", "tenant", "device")


class TenantGroupFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "description")

    class Meta:
        model = TenantGroup
        fields = ("q", "parent")


class TenantFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "description")
    group = related(TenantGroup, "group")

    class Meta:
        model = Tenant
        fields = ("q", "group")


class ContactRoleFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "description")

    class Meta:
        model = ContactRole
        fields = ("q",)


class ContactFilterSet(SearchFilterSet):
    search_fields = ("name", "title", "phone", "email", "description")

    class Meta:
        model = Contact
        fields = ("q",)


class ContactAssignmentFilterSet(SearchFilterSet):
    search_fields = ("contact__name", "role__name")
    contact = related(Contact, "contact")
    role = related(ContactRole, "role")

    class Meta:
        model = ContactAssignment
        fields = ("q", "contact", "role", "priority")


class TagFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "description")

    class Meta:
        model = Tag
        fields = ("q",)


class SnmpProfileFilterSet(SearchFilterSet):
    search_fields = ("name", "description", "username")
    version = multi(SnmpVersionChoices.CHOICES)

    class Meta:
        model = SnmpProfile
        fields = ("q", "version")


class CollectorGroupFilterSet(SearchFilterSet):
    search_fields = ("name", "slug", "description", "exporter_address")

    class Meta:
        model = CollectorGroup
        fields = ("q",)
