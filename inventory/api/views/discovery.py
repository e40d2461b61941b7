"""``/api/discovery/``: sweep jobs (CRUD and ``cancel``), proposals (read; ``approve``/``reject``, single and
bulk) and the sysObjectID mapping (issue 15). Writes go through ``inventory.services.discovery``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from inventory.api.filtersets.discovery import (
    DiscoveryJobFilterSet,
    DiscoveryProposalFilterSet,
    SysObjectIdMappingFilterSet,
)
from inventory.api.permissions import TokenPermissions, check_token_scope
from inventory.api.serializers.discovery import (
    ApproveSerializer,
    BulkApproveSerializer,
    DiscoveryJobSerializer,
    DiscoveryProposalSerializer,
    ProposalSelectionSerializer,
    SysObjectIdMappingSerializer,
)
from inventory.api.views.base import BaseModelViewSet, ReadOnlyViewSet, select_brief
from inventory.models import DiscoveryJob, DiscoveryProposal, SysObjectIdMapping
from inventory.services.discovery import (
    APPROVE_PERMS,
    ProposalErrors,
    approve_proposals,
    discovery_job_cancel,
    discovery_job_create,
    discovery_job_update,
    reject_proposals,
)


class DiscoveryActionPermission(TokenPermissions):
    """Model permissions; ``cancel`` needs ``change_discoveryjob``, ``reject`` ``change_discoveryproposal``,
    ``approve`` also the permissions to document a device."""

    ACTION_PERMS = {
        "cancel": ("inventory.change_discoveryjob",),
        "reject": ("inventory.change_discoveryproposal",),
        "bulk_reject": ("inventory.change_discoveryproposal",),
        "approve": APPROVE_PERMS,
        "bulk_approve": APPROVE_PERMS,
    }

    def has_permission(self, request, view) -> bool:
        needed = self.ACTION_PERMS.get(getattr(view, "action", None) or "")
        if needed is None or request.method != "POST":
            return super().has_permission(request, view)
        if not (request.user and request.user.is_authenticated):
            return False
        check_token_scope(request, collector=False)  # also refuses read-only tokens
        return request.user.has_perms(needed)


class ProposalsRefused(APIException):
    """400 ``{"detail", "errors": [{"id", "name", "errors": {field: [text]}}]}`` (ids stay numbers)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, detail: str, exc: ProposalErrors) -> None:
        super().__init__(detail)
        self.errors = exc.errors

    def response(self) -> Response:
        return Response({"detail": str(self.detail), "errors": self.errors}, status=self.status_code)


class DiscoveryJobViewSet(BaseModelViewSet):
    queryset = select_brief(DiscoveryJob.objects.all(), "group", "site", "role", "tenant").prefetch_related(
        "profile_links__profile"
    )
    serializer_class = DiscoveryJobSerializer
    filterset_class = DiscoveryJobFilterSet
    permission_classes = (DiscoveryActionPermission,)
    importable = False  # a sweep is started, not imported (the importer would bypass its profile order)

    def create_object(self, data: dict[str, Any]) -> models.Model:
        return discovery_job_create(data=data, user=self.request.user)

    def update_object(self, instance: models.Model, data: dict[str, Any]) -> models.Model:
        return discovery_job_update(job=instance, data=data, user=self.request.user)

    @extend_schema(request=None, responses=DiscoveryJobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an open sweep: its collector is answered 409 at its next post and stops."""
        job = discovery_job_cancel(job=self.get_object(), user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data)


class DiscoveryProposalViewSet(ReadOnlyViewSet):
    queryset = select_brief(
        DiscoveryProposal.objects.all(),
        "job",
        "manufacturer",
        "platform",
        "device_type",
        "profile",
        "group",
        "seen_from",
        "matched_device",
        "device",
    )
    serializer_class = DiscoveryProposalSerializer
    filterset_class = DiscoveryProposalFilterSet
    permission_classes = (DiscoveryActionPermission,)

    def handle_exception(self, exc):
        if isinstance(exc, ProposalsRefused):
            return exc.response()
        return super().handle_exception(exc)

    def _selected(self, data: dict):
        if "ids" in data:
            found = DiscoveryProposal.objects.filter(pk__in=data["ids"])
            missing = sorted(set(data["ids"]) - set(found.values_list("pk", flat=True)))
            if missing:
                raise ValidationError({"ids": [f"No proposal with id {', '.join(map(str, missing))}."]})
            return list(found)
        params = QueryDict(mutable=True)
        for key, value in data["filter"].items():
            for item in value if isinstance(value, list) else [value]:
                params.appendlist(key, str(item))
        filterset = self.filterset_class(
            data=params, queryset=DiscoveryProposal.objects.all(), request=self.request
        )
        if not filterset.is_valid():
            raise ValidationError({"filter": filterset.errors})
        return list(filterset.qs)

    def _answer(self, proposals: list[DiscoveryProposal]) -> Response:
        reloaded = self.get_queryset().filter(pk__in=[p.pk for p in proposals]).order_by("pk")
        return Response({"count": len(proposals), "results": self.get_serializer(reloaded, many=True).data})

    def _approve(self, proposals: list[DiscoveryProposal], data: dict) -> list[DiscoveryProposal]:
        try:
            approve_proposals(
                proposals=proposals,
                site=data.get("site"),
                role=data.get("role"),
                tenant=data.get("tenant"),
                device_type=data.get("device_type"),
                user=self.request.user,
            )
        except ProposalErrors as exc:
            raise ProposalsRefused("No proposal was approved.", exc) from None
        return proposals

    def _reject(self, proposals: list[DiscoveryProposal]) -> list[DiscoveryProposal]:
        try:
            return reject_proposals(proposals=proposals, user=self.request.user)
        except ProposalErrors as exc:
            raise ProposalsRefused("No proposal was rejected.", exc) from None

    @extend_schema(request=ApproveSerializer, responses=DiscoveryProposalSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Document the proposed device (with its interfaces, primary IP and monitoring settings)."""
        body = ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        self._approve([self.get_object()], body.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=None, responses=DiscoveryProposalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject the proposal: remembered, not proposed again."""
        self._reject([self.get_object()])
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        request=BulkApproveSerializer,
        responses=DiscoveryProposalSerializer(many=True),
        operation_id="discovery_proposals_bulk_approve",
    )
    @action(detail=False, methods=["post"], url_path="approve")
    def bulk_approve(self, request):
        """Approve every proposal of ``ids`` or matching ``filter``: all of them, or none and a 400 naming
        each proposal and field that stopped it."""
        body = BulkApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(self._approve(self._selected(body.validated_data), body.validated_data))

    @extend_schema(
        request=ProposalSelectionSerializer,
        responses=DiscoveryProposalSerializer(many=True),
        operation_id="discovery_proposals_bulk_reject",
    )
    @action(detail=False, methods=["post"], url_path="reject")
    def bulk_reject(self, request):
        """Reject every proposal of ``ids`` or matching ``filter`` (all open, or none)."""
        body = ProposalSelectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(self._reject(self._selected(body.validated_data)))


class SysObjectIdMappingViewSet(BaseModelViewSet):
    queryset = SysObjectIdMapping.objects.all()
    serializer_class = SysObjectIdMappingSerializer
    filterset_class = SysObjectIdMappingFilterSet
