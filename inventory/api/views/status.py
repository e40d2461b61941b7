"""``/api/`` (the root, with ``API-Version``) and ``/api/status/`` (what pynetbox's ``status()`` reads)."""

from __future__ import annotations

import platform
from collections import OrderedDict

import django
from django.apps import apps
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.permissions import IsAuthenticatedUser
from inventory.api.views.base import API_VERSION, ApiVersionMixin

NETBOX_VERSION = f"{API_VERSION}.0-infrastrand"
"""Reported as ``netbox-version`` so NetBox clients (pynetbox 7) treat us as a modern NetBox."""

API_APP_ROOTS = ("core", "dcim", "extras", "ipam", "tenancy", "users", "monitoring", "status")


class APIRootView(ApiVersionMixin, APIView):
    """The API's sections; open to all, as NetBox's (pynetbox probes the version here without a token)."""

    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def get(self, request, format=None):
        root = request.build_absolute_uri(reverse("api:api-root"))
        return Response(OrderedDict((name, f"{root}{name}/") for name in API_APP_ROOTS))


class StatusView(ApiVersionMixin, APIView):
    """Versions and installed apps, in NetBox's shape."""

    permission_classes = (IsAuthenticatedUser,)

    @extend_schema(
        responses=inline_serializer(
            "Status",
            fields={
                "django-version": serializers.CharField(),
                "netbox-version": serializers.CharField(),
                "python-version": serializers.CharField(),
                "installed-apps": serializers.DictField(child=serializers.CharField(allow_null=True)),
                "plugins": serializers.DictField(),
                "rq-workers-running": serializers.IntegerField(),
            },
        )
    )
    def get(self, request):
        installed = {}
        for config in apps.get_app_configs():
            module = __import__(config.module.__name__.split(".")[0])
            version = getattr(module, "__version__", getattr(module, "VERSION", None))
            if isinstance(version, tuple):
                version = ".".join(str(part) for part in version)
            installed[config.name] = str(version) if version is not None else None
        return Response(
            {
                "django-version": django.get_version(),
                "netbox-version": NETBOX_VERSION,
                "python-version": platform.python_version(),
                "installed-apps": dict(sorted(installed.items())),
                "plugins": {},
                "rq-workers-running": 0,
            }
        )
