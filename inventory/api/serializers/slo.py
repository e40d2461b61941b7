"""Serializers of the availability objectives and the maintenance windows."""

from __future__ import annotations

from inventory.api.serializers.base import BaseModelSerializer
from inventory.models import MaintenanceWindow, ServiceLevelObjective


class ServiceLevelObjectiveSerializer(BaseModelSerializer):
    class Meta:
        model = ServiceLevelObjective
        fields = (
            "id",
            "url",
            "display",
            "name",
            "target_percent",
            "scope",
            "scope_value",
            "window",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "target_percent")


class MaintenanceWindowSerializer(BaseModelSerializer):
    class Meta:
        model = MaintenanceWindow
        fields = (
            "id",
            "url",
            "display",
            "start",
            "end",
            "reason",
            "scope",
            "scope_value",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "start", "end", "reason")
