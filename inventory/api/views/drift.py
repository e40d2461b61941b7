"""``/api/monitoring/drift/`` (list, adopt, acknowledge — single and bulk), the platform mapping and
``/api/dcim/interface-templates/`` (with ``from-device/``: "make this the template")."""

from __future__ import annotations

from django.http import QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from inventory.api.filtersets.drift import (
    DriftItemFilterSet,
    InterfaceTemplateFilterSet,
    PlatformMappingFilterSet,
)
from inventory.api.permissions import TokenPermissions, check_token_scope
from inventory.api.serializers.drift import (
    AcknowledgeSerializer,
    BulkAcknowledgeSerializer,
    BulkSelectionSerializer,
    DriftItemSerializer,
    InterfaceTemplateSerializer,
    PlatformMappingSerializer,
    TemplatesFromDeviceSerializer,
)
from inventory.api.views.base import BaseModelViewSet, ReadOnlyViewSet, select_brief
from inventory.models import Device, DriftItem, InterfaceTemplate, PlatformMapping
from inventory.services.drift_adopt import ADOPT_PERMS, drift_acknowledge, drift_adopt
from inventory.services.templates import interface_templates_from_device


class DriftActionPermission(TokenPermissions):
    """Reads need ``view_driftitem``; acknowledge ``change_driftitem``; adopt also the record's perms."""

    def has_permission(self, request, view) -> bool:
        if request.method != "POST":
            return super().has_permission(request, view)
        if not (request.user and request.user.is_authenticated):
            return False
        check_token_scope(request, collector=False)  # also refuses read-only tokens
        needed = ADOPT_PERMS if view.action in ("adopt", "bulk_adopt") else ADOPT_PERMS[:1]
        return request.user.has_perms(needed)


class DriftItemViewSet(ReadOnlyViewSet):
    queryset = select_brief(DriftItem.objects.all(), "device")
    serializer_class = DriftItemSerializer
    filterset_class = DriftItemFilterSet
    brief_prefetch = ("device",)
    permission_classes = (DriftActionPermission,)

    def _selected(self, data: dict):
        """The unresolved items a bulk request names by ``ids`` or by ``filter`` (the list's parameters)."""
        if "ids" in data:
            return data["ids"]
        params = QueryDict(mutable=True)
        for key, value in data["filter"].items():
            for item in value if isinstance(value, list) else [value]:
                params.appendlist(key, str(item))
        filterset = self.filterset_class(
            data=params, queryset=DriftItem.objects.active(), request=self.request
        )
        if not filterset.is_valid():
            raise ValidationError({"filter": filterset.errors})
        return filterset.qs

    def _answer(self, items: list[DriftItem]) -> Response:
        reloaded = self.get_queryset().filter(pk__in=[item.pk for item in items]).order_by("pk")
        return Response({"count": len(items), "results": self.get_serializer(reloaded, many=True).data})

    @extend_schema(request=None, responses=DriftItemSerializer)
    @action(detail=True, methods=["post"])
    def adopt(self, request, pk=None):
        """Write the observed value into the record (one change record per object) and resolve the item."""
        drift_adopt(items=[self.get_object()], user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=AcknowledgeSerializer, responses=DriftItemSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Accept the drift with a reason, optionally until an expiry (then it reopens)."""
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        drift_acknowledge(
            items=[self.get_object()],
            reason=body.validated_data["reason"],
            until=body.validated_data.get("until"),
            user=request.user,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        request=BulkSelectionSerializer,
        responses=DriftItemSerializer(many=True),
        operation_id="monitoring_drift_bulk_adopt",
    )
    @action(detail=False, methods=["post"], url_path="adopt")
    def bulk_adopt(self, request):
        """Adopt every item of ``ids`` or matching ``filter``: all of them, or none and a 400 naming why."""
        body = BulkSelectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(drift_adopt(items=self._selected(body.validated_data), user=request.user))

    @extend_schema(
        request=BulkAcknowledgeSerializer,
        responses=DriftItemSerializer(many=True),
        operation_id="monitoring_drift_bulk_acknowledge",
    )
    @action(detail=False, methods=["post"], url_path="acknowledge")
    def bulk_acknowledge(self, request):
        """Acknowledge every item of ``ids`` or matching ``filter`` with one reason (and expiry)."""
        body = BulkAcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        items = drift_acknowledge(
            items=self._selected(body.validated_data),
            reason=body.validated_data["reason"],
            until=body.validated_data.get("until"),
            user=request.user,
        )
        return self._answer(items)


class PlatformMappingViewSet(BaseModelViewSet):
    queryset = select_brief(PlatformMapping.objects.all(), "platform")
    serializer_class = PlatformMappingSerializer
    filterset_class = PlatformMappingFilterSet
    brief_prefetch = ("platform",)


class InterfaceTemplateViewSet(BaseModelViewSet):
    queryset = select_brief(InterfaceTemplate.objects.all(), "device_type", "device_type__manufacturer")
    serializer_class = InterfaceTemplateSerializer
    filterset_class = InterfaceTemplateFilterSet

    @extend_schema(request=TemplatesFromDeviceSerializer, responses=InterfaceTemplateSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="from-device")
    def from_device(self, request):
        """ "Make this the template": a template per interface the device's last poll reported."""
        body = TemplatesFromDeviceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        device = Device.objects.filter(pk=body.validated_data["device"]).first()
        if device is None:
            raise ValidationError({"device": [f"No device with id {body.validated_data['device']}."]})
        created = interface_templates_from_device(device=device, user=request.user)
        reloaded = self.get_queryset().filter(pk__in=[t.pk for t in created])
        return Response(self.get_serializer(reloaded, many=True).data, status=status.HTTP_201_CREATED)
