"""DCIM serializers: one per model, NetBox's field names."""

from __future__ import annotations

from inventory.api.fields import NestedRelatedField
from inventory.api.serializers.base import BaseModelSerializer
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

NESTED_GROUP_FIELDS = (
    "id",
    "url",
    "display",
    "name",
    "slug",
    "parent",
    "description",
    "created",
    "last_updated",
)
ORGANIZATIONAL_FIELDS = ("id", "url", "display", "name", "slug", "description", "created", "last_updated")
BRIEF_SLUGGED = ("id", "url", "display", "name", "slug", "description")


class RegionSerializer(BaseModelSerializer):
    class Meta:
        model = Region
        fields = NESTED_GROUP_FIELDS
        brief_fields = BRIEF_SLUGGED


class SiteSerializer(BaseModelSerializer):
    class Meta:
        model = Site
        fields = (
            "id",
            "url",
            "display",
            "name",
            "slug",
            "status",
            "region",
            "tenant",
            "facility",
            "time_zone",
            "physical_address",
            "shipping_address",
            "latitude",
            "longitude",
            "country",
            "strands",
            "description",
            "comments",
            "tags",
            "created",
            "last_updated",
        )
        brief_fields = BRIEF_SLUGGED


class LocationSerializer(BaseModelSerializer):
    class Meta:
        model = Location
        fields = (
            "id",
            "url",
            "display",
            "name",
            "slug",
            "site",
            "parent",
            "status",
            "tenant",
            "facility",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = BRIEF_SLUGGED


class RackSerializer(BaseModelSerializer):
    class Meta:
        model = Rack
        fields = (
            "id",
            "url",
            "display",
            "name",
            "facility_id",
            "site",
            "location",
            "tenant",
            "status",
            "serial",
            "asset_tag",
            "u_height",
            "starting_unit",
            "description",
            "comments",
            "tags",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "description")


class ManufacturerSerializer(BaseModelSerializer):
    class Meta:
        model = Manufacturer
        fields = ORGANIZATIONAL_FIELDS
        brief_fields = BRIEF_SLUGGED


class DeviceTypeSerializer(BaseModelSerializer):
    class Meta:
        model = DeviceType
        fields = (
            "id",
            "url",
            "display",
            "manufacturer",
            "model",
            "slug",
            "part_number",
            "u_height",
            "is_full_depth",
            "description",
            "comments",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "manufacturer", "model", "slug", "description")


class DeviceRoleSerializer(BaseModelSerializer):
    class Meta:
        model = DeviceRole
        fields = ("id", "url", "display", "name", "slug", "color", "description", "created", "last_updated")
        brief_fields = BRIEF_SLUGGED


class PlatformSerializer(BaseModelSerializer):
    class Meta:
        model = Platform
        fields = (
            "id",
            "url",
            "display",
            "name",
            "slug",
            "manufacturer",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = BRIEF_SLUGGED


class DeviceSerializer(BaseModelSerializer):
    primary_ip = NestedRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Device
        fields = (
            "id",
            "url",
            "display",
            "name",
            "device_type",
            "role",
            "tenant",
            "platform",
            "serial",
            "asset_tag",
            "site",
            "location",
            "rack",
            "position",
            "face",
            "status",
            "primary_ip",
            "primary_ip4",
            "primary_ip6",
            "snmp_profile",
            "collector_group",
            "monitored",
            "poll_interval",
            "description",
            "comments",
            "tags",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "description")


class InterfaceSerializer(BaseModelSerializer):
    class Meta:
        model = Interface
        fields = (
            "id",
            "url",
            "display",
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
            "tags",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "device", "name", "description")


__all__ = [
    "DeviceRoleSerializer",
    "DeviceSerializer",
    "DeviceTypeSerializer",
    "InterfaceSerializer",
    "LocationSerializer",
    "ManufacturerSerializer",
    "PlatformSerializer",
    "RackSerializer",
    "RegionSerializer",
    "SiteSerializer",
]
