"""``/api/<app>/``: the endpoint list of one API section (NetBox's per-app root views)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.views.base import ApiVersionMixin


class AppRootView(ApiVersionMixin, APIView):
    """``{"sites": "<absolute URL of /api/dcim/sites/>", …}`` for the routes of one section."""

    permission_classes = (AllowAny,)
    routes: tuple[tuple[str, str], ...] = ()
    """``(prefix, list URL name)`` of each endpoint of the section."""

    @extend_schema(exclude=True)
    def get(self, request, format=None):
        return Response({prefix: request.build_absolute_uri(reverse(name)) for prefix, name in self.routes})
