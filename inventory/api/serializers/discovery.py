"""Discovery: sweep jobs (created, edited, cancelled), proposals (read, approved or rejected through actions)
and the sysObjectID mapping (issue 15)."""

from __future__ import annotations

from rest_framework import serializers

from inventory.api.fields import NestedRelatedField
from inventory.api.serializers.base import BaseModelSerializer
from inventory.models import (
    DeviceRole,
    DeviceType,
    DiscoveryJob,
    DiscoveryProposal,
    Site,
    SnmpProfile,
    SysObjectIdMapping,
    Tenant,
)


class DiscoveryJobSerializer(BaseModelSerializer):
    profiles = NestedRelatedField(
        many=True,
        queryset=SnmpProfile.objects.all(),
        source="ordered_profiles",
        help_text="SNMP profiles tried on every address, in this order",
    )
    percent = serializers.IntegerField(read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = DiscoveryJob
        fields = (
            "id",
            "url",
            "display",
            "prefix",
            "group",
            "profiles",
            "port",
            "rate",
            "timeout",
            "retries",
            "force",
            "site",
            "role",
            "tenant",
            "status",
            "total",
            "done",
            "answered",
            "percent",
            "claimed_by",
            "lease_expires",
            "created",
            "started",
            "finished",
            "error",
            "created_by",
            "description",
        )
        read_only_fields = (
            "status",
            "total",
            "done",
            "answered",
            "claimed_by",
            "lease_expires",
            "created",
            "started",
            "finished",
            "error",
            "created_by",
        )
        brief_fields = ("id", "url", "display", "prefix", "status", "description")

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if "ordered_profiles" in attrs:
            attrs["profiles"] = attrs.pop("ordered_profiles")
        return attrs


class DiscoveryProposalSerializer(BaseModelSerializer):
    class Meta:
        model = DiscoveryProposal
        fields = (
            "id",
            "url",
            "display",
            "job",
            "source",
            "status",
            "address",
            "name",
            "serial",
            "sys_object_id",
            "chassis_id",
            "mapping",
            "manufacturer",
            "platform",
            "device_type",
            "profile",
            "group",
            "seen_from",
            "matched_device",
            "match_reason",
            "contradictions",
            "device",
            "facts",
            "interfaces",
            "first_seen",
            "last_seen",
            "decided_by",
            "decided_at",
        )
        read_only_fields = fields
        brief_fields = ("id", "url", "display", "address", "name", "status")


class ApproveSerializer(serializers.Serializer):
    """Defaults for the new devices (each one else the job's): site, role, tenant, device type."""

    site = NestedRelatedField(queryset=Site.objects.all(), required=False, allow_null=True)
    role = NestedRelatedField(queryset=DeviceRole.objects.all(), required=False, allow_null=True)
    tenant = NestedRelatedField(queryset=Tenant.objects.all(), required=False, allow_null=True)
    device_type = NestedRelatedField(
        queryset=DeviceType.objects.all(),
        required=False,
        allow_null=True,
        help_text="For proposals whose sysObjectID mapping names no device type",
    )


class ProposalSelectionSerializer(serializers.Serializer):
    """Which proposals a bulk action takes: ``ids``, or ``filter`` (the list's query parameters)."""

    ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=10_000)
    filter = serializers.DictField(required=False, help_text='e.g. {"job_id": 3, "status": "open"}')

    def validate(self, attrs: dict) -> dict:
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError({"non_field_errors": ["Give either ids or filter."]})
        return attrs


class BulkApproveSerializer(ProposalSelectionSerializer, ApproveSerializer):
    pass


class SysObjectIdMappingSerializer(BaseModelSerializer):
    class Meta:
        model = SysObjectIdMapping
        fields = (
            "id",
            "url",
            "display",
            "prefix",
            "manufacturer",
            "platform",
            "device_type",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "prefix", "manufacturer", "description")
