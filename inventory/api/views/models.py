"""One viewset per model: the queryset (with what its serializer reads), serializer and filter set."""

from __future__ import annotations

from typing import ClassVar

from django.db.models import Count, F, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from inventory.api import serializers as s
from inventory.api.filtersets import dcim as fd
from inventory.api.filtersets import extras as fe
from inventory.api.filtersets import ipam as fi
from inventory.api.filtersets import tenancy as ft
from inventory.api.serializers.cables import INTERFACE_CABLE_COLUMNS
from inventory.api.views.available import AvailableObjectsMixin
from inventory.api.views.base import BaseModelViewSet, ReadOnlyViewSet, select_brief
from inventory.models import (
    VRF,
    CollectorGroup,
    Contact,
    ContactAssignment,
    ContactRole,
    CustomField,
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    IPAddress,
    JournalEntry,
    Location,
    Manufacturer,
    ObjectChange,
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
from inventory.models.cables import INTERFACE_CABLE_PATHS
from inventory.services.dcim import device_create

# -- dcim ------------------------------------------------------------------------------------------


class RegionViewSet(BaseModelViewSet):
    queryset = select_brief(Region.objects.all(), "parent")
    serializer_class = s.RegionSerializer
    filterset_class = fd.RegionFilterSet


class SiteViewSet(BaseModelViewSet):
    queryset = select_brief(Site.objects.all(), "region", "tenant").prefetch_related("tags")
    serializer_class = s.SiteSerializer
    filterset_class = fd.SiteFilterSet


class LocationViewSet(BaseModelViewSet):
    queryset = select_brief(Location.objects.all(), "site", "parent", "tenant")
    serializer_class = s.LocationSerializer
    filterset_class = fd.LocationFilterSet


class RackViewSet(BaseModelViewSet):
    queryset = select_brief(Rack.objects.all(), "site", "location", "tenant").prefetch_related("tags")
    serializer_class = s.RackSerializer
    filterset_class = fd.RackFilterSet


class ManufacturerViewSet(BaseModelViewSet):
    queryset = Manufacturer.objects.all()
    serializer_class = s.ManufacturerSerializer
    filterset_class = fd.ManufacturerFilterSet


class DeviceTypeViewSet(BaseModelViewSet):
    queryset = select_brief(DeviceType.objects.all(), "manufacturer")
    serializer_class = s.DeviceTypeSerializer
    filterset_class = fd.DeviceTypeFilterSet
    brief_prefetch = ("manufacturer",)


class DeviceRoleViewSet(BaseModelViewSet):
    queryset = DeviceRole.objects.all()
    serializer_class = s.DeviceRoleSerializer
    filterset_class = fd.DeviceRoleFilterSet


class PlatformViewSet(BaseModelViewSet):
    queryset = select_brief(Platform.objects.all(), "manufacturer")
    serializer_class = s.PlatformSerializer
    filterset_class = fd.PlatformFilterSet


DEVICE_RELATIONS = (
    "device_type",
    "device_type__manufacturer",
    "role",
    "tenant",
    "platform",
    "site",
    "location",
    "rack",
    "primary_ip4",
    "primary_ip6",
    "oob_ip",
    "snmp_profile",
    "collector_group",
)

INTERFACE_COUNT = Coalesce(
    Subquery(
        Interface.objects.filter(device=OuterRef("pk"))
        .order_by()
        .values("device")
        .annotate(count=Count("pk"))
        .values("count"),
        output_field=IntegerField(),
    ),
    0,
)
"""A device's number of interfaces, one correlated index lookup per listed device."""


class DeviceViewSet(BaseModelViewSet):
    queryset = (
        select_brief(Device.objects.all(), *DEVICE_RELATIONS)
        .prefetch_related("tags", "observation")
        .annotate(interface_count=INTERFACE_COUNT, group_poll_interval=F("collector_group__poll_interval"))
    )
    serializer_class = s.DeviceSerializer
    filterset_class = fd.DeviceFilterSet

    def create_object(self, data):
        """A new device gets the interfaces of its type's templates (same transaction)."""
        return device_create(data=data, user=self.request.user)


class InterfaceViewSet(BaseModelViewSet):
    queryset = select_brief(
        Interface.objects.all(), "device", "lag", "vrf", *INTERFACE_CABLE_PATHS, also=INTERFACE_CABLE_COLUMNS
    ).prefetch_related("tags")
    serializer_class = s.InterfaceSerializer
    filterset_class = fd.InterfaceFilterSet
    ordering_keys: ClassVar = {"name": ("_name",)}  # natural: Gi0/2 before Gi0/10
    brief_prefetch = ("device",)


# -- ipam ------------------------------------------------------------------------------------------


class VRFViewSet(BaseModelViewSet):
    queryset = select_brief(VRF.objects.all(), "tenant").prefetch_related("tags")
    serializer_class = s.VRFSerializer
    filterset_class = fi.VRFFilterSet


class PrefixViewSet(AvailableObjectsMixin, BaseModelViewSet):
    queryset = select_brief(Prefix.objects.all(), "vrf", "site", "tenant").prefetch_related("tags")
    serializer_class = s.PrefixSerializer
    filterset_class = fi.PrefixFilterSet
    ordering_keys: ClassVar = {"prefix": ("family", "start_key", "prefix_length")}


class IPAddressViewSet(BaseModelViewSet):
    queryset = select_brief(
        IPAddress.objects.all(), "vrf", "tenant", "assigned_object", "assigned_object__device"
    ).prefetch_related("tags")
    serializer_class = s.IPAddressSerializer
    filterset_class = fi.IPAddressFilterSet
    ordering_keys: ClassVar = {"address": ("family", "host_key", "mask_length")}


# -- tenancy ---------------------------------------------------------------------------------------


class TenantGroupViewSet(BaseModelViewSet):
    queryset = select_brief(TenantGroup.objects.all(), "parent")
    serializer_class = s.TenantGroupSerializer
    filterset_class = ft.TenantGroupFilterSet


class TenantViewSet(BaseModelViewSet):
    queryset = select_brief(Tenant.objects.all(), "group").prefetch_related("tags")
    serializer_class = s.TenantSerializer
    filterset_class = ft.TenantFilterSet


class ContactRoleViewSet(BaseModelViewSet):
    queryset = ContactRole.objects.all()
    serializer_class = s.ContactRoleSerializer
    filterset_class = ft.ContactRoleFilterSet


class ContactViewSet(BaseModelViewSet):
    queryset = Contact.objects.all()
    serializer_class = s.ContactSerializer
    filterset_class = ft.ContactFilterSet


class ContactAssignmentViewSet(BaseModelViewSet):
    queryset = ContactAssignment.objects.select_related("object_type", "contact", "role").prefetch_related(
        "object"
    )
    serializer_class = s.ContactAssignmentSerializer
    filterset_class = ft.ContactAssignmentFilterSet
    brief_prefetch = ("contact", "role")


# -- extras, core ----------------------------------------------------------------------------------


class TagViewSet(BaseModelViewSet):
    queryset = Tag.objects.all()
    serializer_class = s.TagSerializer
    filterset_class = fe.TagFilterSet


class CustomFieldViewSet(BaseModelViewSet):
    queryset = CustomField.objects.prefetch_related("object_types")
    serializer_class = s.CustomFieldSerializer
    filterset_class = fe.CustomFieldFilterSet


class JournalEntryViewSet(BaseModelViewSet):
    queryset = JournalEntry.objects.select_related("assigned_object_type", "created_by").prefetch_related(
        "tags", "assigned_object"
    )
    serializer_class = s.JournalEntrySerializer
    filterset_class = fe.JournalEntryFilterSet
    brief_prefetch = ()

    def create_object(self, data):
        return super().create_object({**data, "created_by": self.request.user})


class ObjectChangeViewSet(ReadOnlyViewSet):
    queryset = ObjectChange.objects.select_related("user", "changed_object_type", "related_object_type")
    serializer_class = s.ObjectChangeSerializer
    filterset_class = fe.ObjectChangeFilterSet
    brief_prefetch = ("changed_object_type",)


# -- monitoring ------------------------------------------------------------------------------------


class SnmpProfileViewSet(BaseModelViewSet):
    queryset = SnmpProfile.objects.all()
    serializer_class = s.SnmpProfileSerializer
    filterset_class = fe.SnmpProfileFilterSet


class CollectorGroupViewSet(BaseModelViewSet):
    queryset = CollectorGroup.objects.all()
    serializer_class = s.CollectorGroupSerializer
    filterset_class = fe.CollectorGroupFilterSet
