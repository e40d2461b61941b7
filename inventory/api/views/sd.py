"""Prometheus http_sd: ``/api/prometheus/sd/devices/`` (device list filters; one target group per device)."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from inventory.api.filtersets.dcim import DeviceFilterSet
from inventory.api.labels import device_rows, sd_labels
from inventory.api.permissions import ViewPermission
from inventory.api.views.base import ApiVersionMixin
from inventory.models import Device
from inventory.services.membership import assigned, scrape_members

TargetGroup = inline_serializer(
    "HttpSdTargetGroup",
    fields={
        "targets": serializers.ListField(child=serializers.CharField()),
        "labels": serializers.DictField(child=serializers.CharField()),
    },
    many=True,
)


class DeviceHttpSdView(ApiVersionMixin, GenericAPIView):
    """``[{"targets": ["<device name>"], "labels": {"__meta_infrastrand_site": …}}]`` for Prometheus."""

    queryset = Device.objects.all()
    filterset_class = DeviceFilterSet
    filter_backends = (DjangoFilterBackend,)
    permission_classes = (ViewPermission,)
    pagination_class = None

    @extend_schema(responses=TargetGroup, operation_id="prometheus_sd_devices")
    def get(self, request):
        rows = device_rows(self.filter_queryset(self.get_queryset()), "collector_group_id")
        follow_assignment(rows)
        return Response([{"targets": [row["name"]], "labels": sd_labels(row)} for row in rows])


def follow_assignment(rows: list[dict]) -> None:
    """Point each device of an HA group at the exporter of the live member that polls it now.

    Groups without live members (one collector, or static ``--shard``) keep the group's exporter address
    (after one lease of grace: :func:`~inventory.services.membership.scrape_members`).
    """
    live = scrape_members({row["collector_group_id"] for row in rows if row["collector_group_id"]})
    for row in rows:
        members = live.get(row["collector_group_id"])
        if members:
            row["collector_group__exporter_address"] = assigned(row["name"], members).exporter_address
