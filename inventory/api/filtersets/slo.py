"""Filters of the availability objectives and the maintenance windows (NetBox lookups, see ``base``)."""

from __future__ import annotations

from inventory.api.filtersets.base import BaseFilterSet
from inventory.models import MaintenanceWindow, ServiceLevelObjective


class ServiceLevelObjectiveFilterSet(BaseFilterSet):
    filter_fields = ("name", "target_percent", "scope", "scope_value", "window")
    search_fields = ("name", "scope_value", "description")

    class Meta:
        model = ServiceLevelObjective
        fields: list[str] = []


class MaintenanceWindowFilterSet(BaseFilterSet):
    filter_fields = ("start", "end", "reason", "scope", "scope_value")
    search_fields = ("reason", "scope_value")

    class Meta:
        model = MaintenanceWindow
        fields: list[str] = []
