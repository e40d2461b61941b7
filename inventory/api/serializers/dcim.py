"""DCIM serializers: one per model, NetBox's field names."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.api.fields import NestedRelatedField
from inventory.api.serializers.base import BaseModelSerializer
from inventory.api.serializers.cables import (
    InterfaceCableField,
    LinkPeersField,
    PeerTypeField,
    ReachableField,
)
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
from inventory.ui.pollstate import interval_of, state_of

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
        fields = (*NESTED_GROUP_FIELDS[:6], "country", *NESTED_GROUP_FIELDS[6:])
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
        blank_as_null = ("time_zone",)


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


@extend_schema_field(OpenApiTypes.INT)
class InterfaceCountField(serializers.Field):
    """``interface_count``: the list queryset's annotation, else counted."""

    def __init__(self, **kwargs) -> None:
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value: Device) -> int:
        count = getattr(value, "interface_count", None)
        return value.interfaces.count() if count is None else count


@extend_schema_field({"nullable": True, "readOnly": True})
class ConstantField(serializers.Field):
    """A NetBox field of a feature this inventory does not model (e.g. ``cable``): always ``value``."""

    def __init__(self, value, **kwargs) -> None:
        self.value = value
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, instance):
        return self.value() if callable(self.value) else self.value


@extend_schema_field(
    {
        "type": "object",
        "readOnly": True,
        "properties": {
            "state": {"type": "string", "enum": ["up", "down", "stale", "never"]},
            "last_poll": {"type": "string", "format": "date-time", "nullable": True},
            "up": {"type": "boolean", "nullable": True},
            "error": {"type": "string", "nullable": True},
            "duration_seconds": {"type": "number", "nullable": True},
            "collector": {"type": "string", "nullable": True},
        },
    }
)
class PollStateField(serializers.Field):
    """``poll_state``: what the device page shows of the latest observation (state, time, error)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value: Device) -> dict:
        observation = getattr(value, "observation", None)
        if hasattr(value, "group_poll_interval"):  # the viewset's annotation saves a query per device
            interval = interval_of(value.poll_interval, value.group_poll_interval)
        else:
            interval = value.effective_poll_interval
        return {
            "state": state_of(observation, interval).value,
            "last_poll": serializers.DateTimeField().to_representation(observation.polled_at)
            if observation
            else None,
            "up": observation.up if observation else None,
            "error": (observation.error or None) if observation else None,
            "duration_seconds": observation.duration_seconds if observation else None,
            "collector": observation.collector if observation else None,
        }


class DeviceSerializer(BaseModelSerializer):
    primary_ip = NestedRelatedField(read_only=True, allow_null=True)
    interface_count = InterfaceCountField()
    poll_state = PollStateField()

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
            "oob_ip",
            "snmp_profile",
            "collector_group",
            "monitored",
            "poll_interval",
            "description",
            "comments",
            "tags",
            "interface_count",
            "poll_state",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "description")


class InterfaceSerializer(BaseModelSerializer):
    cable = InterfaceCableField()
    link_peers = LinkPeersField()
    link_peers_type = PeerTypeField()
    connected_endpoints = LinkPeersField(connected_only=True)
    connected_endpoints_type = PeerTypeField(connected_only=True)
    connected_endpoints_reachable = ReachableField()

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
            "lag",
            "mode",
            "vrf",
            "mgmt_only",
            "mark_connected",
            "speed",
            "mtu",
            "mac_address",
            "description",
            "cable",
            "link_peers",
            "link_peers_type",
            "connected_endpoints",
            "connected_endpoints_type",
            "connected_endpoints_reachable",
            "tags",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "device", "name", "description")
        blank_as_null = ("mac_address",)


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
