"""``/api/collector/credential-fetches/``: who fetched which collector group's targets (superusers only)."""

from __future__ import annotations

import django_filters
from rest_framework import permissions, serializers
from rest_framework.generics import ListAPIView

from inventory.api.permissions import check_token_scope
from inventory.api.views.base import ApiVersionMixin
from inventory.models import CredentialFetch


class SuperuserReadOnly(permissions.BasePermission):
    """Reads by a superuser (session or ordinary token; never a collector token)."""

    message = "Only administrators (superusers) may read the credential fetch records."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        check_token_scope(request, collector=False)
        return request.method in permissions.SAFE_METHODS and request.user.is_superuser


class CredentialFetchSerializer(serializers.ModelSerializer):
    not_modified = serializers.BooleanField(read_only=True, help_text="Answered 304: nothing sent")

    class Meta:
        model = CredentialFetch
        fields = (
            "id",
            "time",
            "token",
            "token_prefix",
            "user",
            "username",
            "group",
            "group_slug",
            "client_address",
            "status",
            "not_modified",
            "targets",
        )
        read_only_fields = fields


class CredentialFetchFilterSet(django_filters.FilterSet):
    group = django_filters.CharFilter(field_name="group_slug", help_text="Collector group slug as asked")
    username = django_filters.CharFilter()
    token_prefix = django_filters.CharFilter()
    client_address = django_filters.CharFilter()
    status = django_filters.NumberFilter()
    time__gte = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte")
    time__lt = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lt")

    class Meta:
        model = CredentialFetch
        fields = ()


class CredentialFetchListView(ApiVersionMixin, ListAPIView):
    """Every collector targets request (also 304, 403 and 404), newest first; never a secret."""

    queryset = CredentialFetch.objects.all()
    serializer_class = CredentialFetchSerializer
    filterset_class = CredentialFetchFilterSet
    permission_classes = (SuperuserReadOnly,)
    ordering_fields = ("time", "username", "group_slug", "status")
