"""``/metrics``: the inventory's Prometheus metrics (``inventory.metrics``).

Prometheus scrapes it with a token (``authorization: {type: Token, credentials_file: …}``) of a user
who may view devices; with ``METRICS_PUBLIC = True`` in the settings it answers without credentials.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from inventory import metrics
from inventory.api.permissions import ViewPermission
from inventory.models import Device


class MetricsView(APIView):
    queryset = Device.objects.none()  # ViewPermission: needs inventory.view_device

    def get_permissions(self):
        if getattr(settings, "METRICS_PUBLIC", False):
            return [AllowAny()]
        return [ViewPermission()]

    @extend_schema(exclude=True)
    def get(self, request):
        return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
