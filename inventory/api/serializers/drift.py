"""Drift items (read-only, acted on through adopt/acknowledge), the platform mapping, interface templates."""

from __future__ import annotations

from rest_framework import serializers

from inventory.api.serializers.base import BaseModelSerializer
from inventory.api.serializers.dcim import ConstantField
from inventory.models import DriftItem, InterfaceTemplate, PlatformMapping


class DriftItemSerializer(BaseModelSerializer):
    class Meta:
        model = DriftItem
        fields = (
            "id",
            "url",
            "display",
            "device",
            "kind",
            "subject",
            "documented",
            "observed",
            "first_seen",
            "last_seen",
            "state",
            "acknowledged_reason",
            "acknowledged_until",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
        )
        read_only_fields = fields
        brief_fields = ("id", "url", "display", "device", "kind", "subject", "state")


class AcknowledgeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why this drift is acceptable")
    until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="The acknowledgement expires then (empty: never)"
    )


class BulkSelectionSerializer(serializers.Serializer):
    """Which items a bulk action takes: ``ids``, or ``filter`` (the list's query parameters)."""

    ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=10_000)
    filter = serializers.DictField(required=False, help_text='e.g. {"site": "<site slug>", "kind": "serial"}')

    def validate(self, attrs: dict) -> dict:
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError({"non_field_errors": ["Give either ids or filter."]})
        return attrs


class BulkAcknowledgeSerializer(BulkSelectionSerializer, AcknowledgeSerializer):
    pass


class PlatformMappingSerializer(BaseModelSerializer):
    class Meta:
        model = PlatformMapping
        fields = (
            "id",
            "url",
            "display",
            "platform",
            "sys_object_id_prefix",
            "sys_descr_regex",
            "weight",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "platform", "description")


class InterfaceTemplateSerializer(BaseModelSerializer):
    """NetBox's interface template shape (module types, bridges, PoE and radio are not modelled)."""

    module_type = ConstantField(None)
    bridge = ConstantField(None)
    poe_mode = ConstantField(None)
    poe_type = ConstantField(None)
    rf_role = ConstantField(None)

    class Meta:
        model = InterfaceTemplate
        fields = (
            "id",
            "url",
            "display",
            "device_type",
            "module_type",
            "name",
            "label",
            "type",
            "enabled",
            "mgmt_only",
            "description",
            "bridge",
            "poe_mode",
            "poe_type",
            "rf_role",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "description")


class TemplatesFromDeviceSerializer(serializers.Serializer):
    device = serializers.IntegerField(help_text="The id of the live device whose observed interfaces to copy")
