"""IPAM serializers. ``assigned_object_type``/``assigned_object_id`` as NetBox (interfaces only here)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from inventory.api.serializers.base import BaseModelSerializer
from inventory.models import VRF, IPAddress, Prefix

INTERFACE_TYPE = "dcim.interface"


class FamilyField(serializers.Field):
    """The address family as NetBox shows it: ``{"value": 4, "label": "IPv4"}`` (read-only)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: int) -> dict:
        return {"value": value, "label": f"IPv{value}"}


class VRFSerializer(BaseModelSerializer):
    class Meta:
        model = VRF
        fields = (
            "id",
            "url",
            "display",
            "name",
            "rd",
            "tenant",
            "enforce_unique",
            "description",
            "comments",
            "tags",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "rd", "description")


class PrefixSerializer(BaseModelSerializer):
    family = FamilyField()

    class Meta:
        model = Prefix
        fields = (
            "id",
            "url",
            "display",
            "family",
            "prefix",
            "vrf",
            "site",
            "tenant",
            "status",
            "is_pool",
            "description",
            "comments",
            "tags",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "family", "prefix", "description")


class IPAddressSerializer(BaseModelSerializer):
    family = FamilyField()
    assigned_object_type = serializers.SerializerMethodField()
    assigned_object_id = serializers.IntegerField(
        source="assigned_object.pk", read_only=True, allow_null=True
    )

    class Meta:
        model = IPAddress
        fields = (
            "id",
            "url",
            "display",
            "family",
            "address",
            "vrf",
            "tenant",
            "status",
            "role",
            "assigned_object_type",
            "assigned_object_id",
            "assigned_object",
            "dns_name",
            "description",
            "comments",
            "tags",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "family", "address", "description")

    def get_assigned_object_type(self, obj) -> str | None:
        return INTERFACE_TYPE if obj.assigned_object_id else None

    def to_internal_value(self, data: Any) -> dict:
        """Accept NetBox's ``assigned_object_type`` + ``assigned_object_id`` as the interface reference."""
        if isinstance(data, dict) and ("assigned_object_id" in data or "assigned_object_type" in data):
            data = dict(data)
            kind = data.pop("assigned_object_type", INTERFACE_TYPE)
            object_id = data.pop("assigned_object_id", None)
            if kind not in (None, "", INTERFACE_TYPE, "inventory.interface"):
                raise serializers.ValidationError(
                    {"assigned_object_type": [f"Only {INTERFACE_TYPE} can be assigned an IP address."]}
                )
            data.setdefault("assigned_object", object_id)
        return super().to_internal_value(data)
