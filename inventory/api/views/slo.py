"""``/api/monitoring/slos/`` and ``/api/monitoring/maintenance-windows/``: CRUD through the services."""

from __future__ import annotations

from inventory.api.filtersets.slo import MaintenanceWindowFilterSet, ServiceLevelObjectiveFilterSet
from inventory.api.serializers.slo import MaintenanceWindowSerializer, ServiceLevelObjectiveSerializer
from inventory.api.views.base import BaseModelViewSet
from inventory.models import MaintenanceWindow, ServiceLevelObjective


class ServiceLevelObjectiveViewSet(BaseModelViewSet):
    queryset = ServiceLevelObjective.objects.all()
    serializer_class = ServiceLevelObjectiveSerializer
    filterset_class = ServiceLevelObjectiveFilterSet


class MaintenanceWindowViewSet(BaseModelViewSet):
    queryset = MaintenanceWindow.objects.all()
    serializer_class = MaintenanceWindowSerializer
    filterset_class = MaintenanceWindowFilterSet
