"""API serializers, one per model (NetBox layout: one module per area)."""

from inventory.api.serializers.cables import CableSerializer
from inventory.api.serializers.core import ObjectChangeSerializer
from inventory.api.serializers.dcim import (
    DeviceRoleSerializer,
    DeviceSerializer,
    DeviceTypeSerializer,
    InterfaceSerializer,
    LocationSerializer,
    ManufacturerSerializer,
    PlatformSerializer,
    RackSerializer,
    RegionSerializer,
    SiteSerializer,
)
from inventory.api.serializers.drift import (
    DriftItemSerializer,
    InterfaceTemplateSerializer,
    PlatformMappingSerializer,
)
from inventory.api.serializers.extras import CustomFieldSerializer, JournalEntrySerializer, TagSerializer
from inventory.api.serializers.ipam import IPAddressSerializer, PrefixSerializer, VRFSerializer
from inventory.api.serializers.monitoring import CollectorGroupSerializer, SnmpProfileSerializer
from inventory.api.serializers.tenancy import (
    ContactAssignmentSerializer,
    ContactRoleSerializer,
    ContactSerializer,
    TenantGroupSerializer,
    TenantSerializer,
)

__all__ = [
    "CableSerializer",
    "CollectorGroupSerializer",
    "ContactAssignmentSerializer",
    "ContactRoleSerializer",
    "ContactSerializer",
    "CustomFieldSerializer",
    "DeviceRoleSerializer",
    "DeviceSerializer",
    "DeviceTypeSerializer",
    "DriftItemSerializer",
    "IPAddressSerializer",
    "InterfaceSerializer",
    "InterfaceTemplateSerializer",
    "JournalEntrySerializer",
    "LocationSerializer",
    "ManufacturerSerializer",
    "ObjectChangeSerializer",
    "PlatformMappingSerializer",
    "PlatformSerializer",
    "PrefixSerializer",
    "RackSerializer",
    "RegionSerializer",
    "SiteSerializer",
    "SnmpProfileSerializer",
    "TagSerializer",
    "TenantGroupSerializer",
    "TenantSerializer",
    "VRFSerializer",
]
