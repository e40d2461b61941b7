"""``/api/dcim/cables/``: NetBox's cable endpoint, written through ``inventory.services.cables``."""

from __future__ import annotations

from typing import Any

from django.db import models

from inventory.api.filtersets.cables import CableFilterSet
from inventory.api.serializers.cables import CableSerializer
from inventory.api.views.base import BaseModelViewSet
from inventory.models import Cable
from inventory.services.cables import cable_create, cable_update


class CableViewSet(BaseModelViewSet):
    queryset = Cable.objects.select_related("a_interface__device", "b_interface__device").prefetch_related(
        "tags"
    )
    serializer_class = CableSerializer
    filterset_class = CableFilterSet

    def create_object(self, data: dict[str, Any]) -> models.Model:
        return cable_create(data=data, user=self.request.user)

    def update_object(self, instance: models.Model, data: dict[str, Any]) -> models.Model:
        return cable_update(cable=instance, data=data, user=self.request.user)
