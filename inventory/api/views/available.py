"""``/api/ipam/prefixes/<id>/available-ips/`` and ``…/available-prefixes/`` (NetBox semantics).

GET lists the free addresses (``?limit=``, default 50, at most the page maximum) or free blocks;
POST of one object or a list allocates the next free ones under a lock of the prefix (201), 409 when
there is not enough room. The rows take the IP address / prefix fields (``status``, ``dns_name``,
``description`` …); ``prefix_length`` chooses the size of a new child prefix.
"""

from __future__ import annotations

from django.db import transaction
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from inventory.api.pagination import OptionalLimitOffsetPagination
from inventory.api.permissions import TokenPermissions
from inventory.models import IPAddress, Prefix
from inventory.services import allocation


class AvailableObjectsPermission(TokenPermissions):
    """Model permissions on what is allocated (IP addresses or prefixes), as NetBox checks them."""

    def _queryset(self, view):
        return view.allocated_model.objects.none()


def _rows(data) -> tuple[list[dict], bool]:
    many = isinstance(data, list)
    rows = data if many else [data]
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise ValidationError({"non_field_errors": ["Expected an object or a non-empty list of objects."]})
    return rows, many


class AvailableObjectsMixin:
    """The two actions of the prefix viewset."""

    allocated_model: type | None = None
    """Set per action: the model whose permissions the action checks."""

    def _prefix_for(self, request, pk) -> Prefix:
        if not request.user.has_perm("inventory.view_prefix"):
            raise PermissionDenied("You may not view prefixes.")
        return self.get_object()

    def _validated(self, serializer_class, rows: list[dict], drop: tuple[str, ...]) -> list[dict]:
        serializers = [
            serializer_class(
                data={k: v for k, v in row.items() if k not in drop},
                partial=True,
                context={"request": self.request},
            )
            for row in rows
        ]
        errors = [{} if serializer.is_valid() else serializer.errors for serializer in serializers]
        if any(errors):
            raise ValidationError(errors if len(errors) > 1 else errors[0])
        return [dict(serializer.validated_data) for serializer in serializers]

    def _answer(self, serializer_class, created: list, many: bool) -> Response:
        data = serializer_class(created, many=True, context={"request": self.request}).data
        return Response(data if many else data[0], status=status.HTTP_201_CREATED)

    @action(
        detail=True,
        methods=["get", "post"],
        url_path="available-ips",
        permission_classes=[AvailableObjectsPermission],
        allocated_model=IPAddress,
        filterset_class=None,
        pagination_class=None,
    )
    def available_ips(self, request, pk=None):
        from inventory.api.serializers import IPAddressSerializer

        prefix = self._prefix_for(request, pk)
        vrf = _nested_vrf(prefix, request)
        if request.method == "GET":
            limit = OptionalLimitOffsetPagination().get_limit(request)
            addresses = allocation.available_ips(prefix=prefix, limit=limit)
            return Response([{"family": prefix.family, "address": a, "vrf": vrf} for a in addresses])
        rows, many = _rows(request.data)
        validated = self._validated(IPAddressSerializer, rows, drop=("address", "vrf"))
        try:
            with transaction.atomic():
                created = allocation.allocate_ips(prefix=prefix, rows=validated, user=request.user)
        except allocation.InsufficientSpace as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return self._answer(IPAddressSerializer, created, many)

    @action(
        detail=True,
        methods=["get", "post"],
        url_path="available-prefixes",
        permission_classes=[AvailableObjectsPermission],
        allocated_model=Prefix,
        filterset_class=None,
        pagination_class=None,
    )
    def available_prefixes(self, request, pk=None):
        from inventory.api.serializers import PrefixSerializer

        prefix = self._prefix_for(request, pk)
        vrf = _nested_vrf(prefix, request)
        if request.method == "GET":
            free = allocation.available_prefixes(prefix=prefix)
            return Response([{"family": prefix.family, "prefix": p, "vrf": vrf} for p in free])
        rows, many = _rows(request.data)
        lengths = [row.get("prefix_length") for row in rows]
        validated = self._validated(PrefixSerializer, rows, drop=("prefix", "prefix_length", "vrf"))
        for row, length in zip(validated, lengths, strict=True):
            row["prefix_length"] = length
        try:
            with transaction.atomic():
                created = allocation.allocate_prefixes(prefix=prefix, rows=validated, user=request.user)
        except allocation.InsufficientSpace as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return self._answer(PrefixSerializer, created, many)


def _nested_vrf(prefix: Prefix, request) -> dict | None:
    if prefix.vrf_id is None:
        return None
    from inventory.api.registry import brief_serializer_for

    return brief_serializer_for(type(prefix.vrf))(prefix.vrf, context={"request": request}).data
