"""The event log and alert history over the API: ``/api/monitoring/events/`` and ``…/alerts/`` (read-only),
``POST /api/collector/events/`` (collector tokens: received traps) and
``POST /api/monitoring/alerts/webhook/`` (Alertmanager's webhook receiver)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.api.filtersets.events import AlertRecordFilterSet, EventFilterSet
from inventory.api.permissions import CollectorTokenOnly, TokenPermissions
from inventory.api.scope import collector_scope
from inventory.api.serializers.events import (
    AlertRecordSerializer,
    EventSerializer,
    TrapEventBatchSerializer,
    TrapEventSerializer,
    WebhookSerializer,
)
from inventory.api.views.base import ApiVersionMixin, ReadOnlyViewSet
from inventory.choices import EventSourceChoices
from inventory.models import AlertRecord, Device, Event
from inventory.services.events import alert_notification_record, event_record


class EventViewSet(ReadOnlyViewSet):
    """The event log, newest first: traps, poll state changes, alert transitions, drift, changes."""

    queryset = Event.objects.select_related("device", "site")
    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    ordering_fields = ("time", "source", "severity")


class AlertRecordViewSet(ReadOnlyViewSet):
    """Alertmanager's alerts as the webhook receiver saw them (firing/resolved, start, end)."""

    queryset = AlertRecord.objects.select_related("device", "site")
    serializer_class = AlertRecordSerializer
    filterset_class = AlertRecordFilterSet
    ordering_fields = ("starts_at", "ends_at", "alertname", "status")


class CollectorEventsView(ApiVersionMixin, APIView):
    """Trap events of a collector: each attributed to its device (by id) when the collector knew it.

    Events of devices outside the token's collector groups are not written (``rejected_devices``); a
    batch with nothing else answers 403.  Unattributed events (a sender no target has) are kept without a
    device.  Invalid events are listed in ``rejected`` and not kept; the rest is written in one transaction.
    """

    permission_classes = (CollectorTokenOnly,)
    required_perms = ("inventory.add_event",)

    @extend_schema(
        request=TrapEventBatchSerializer,
        responses={
            200: inline_serializer(
                "TrapEventsAccepted",
                fields={
                    "accepted": serializers.IntegerField(),
                    "rejected": serializers.ListField(child=serializers.DictField()),
                    "rejected_devices": serializers.ListField(child=serializers.IntegerField()),
                    "unknown_devices": serializers.ListField(child=serializers.IntegerField()),
                },
            ),
            403: OpenApiResponse(
                description="Every attributed event is of a device outside the token's groups"
            ),
        },
        operation_id="collector_events",
    )
    def post(self, request):
        scope = collector_scope(request)
        batch = TrapEventBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        valid, rejected = [], []
        for index, raw in enumerate(batch.validated_data["events"]):
            item = TrapEventSerializer(data=raw)
            if item.is_valid():
                valid.append(item.validated_data)
            else:
                rejected.append({"index": index, "errors": item.errors})
        ids = {row["device_id"] for row in valid if row.get("device_id") is not None}
        devices = Device.objects.select_related("site").in_bulk(ids)
        admitted, out_of_scope, unknown = [], set(), set()
        for row in valid:
            device_id = row.get("device_id")
            device = devices.get(device_id) if device_id is not None else None
            if device_id is not None and device is None:
                unknown.add(device_id)
            elif device is not None and not scope.allows(device.collector_group_id):
                out_of_scope.add(device_id)
                continue
            admitted.append((device, row))
        if out_of_scope and not admitted:
            raise PermissionDenied(
                "This collector token may not report events of devices outside its collector groups "
                f"({', '.join(scope.group_slugs)}): {', '.join(map(str, sorted(out_of_scope)))}."
            )
        collector = batch.validated_data["collector"]
        with transaction.atomic():
            for device, row in admitted:
                event_record(
                    time=row["time"],
                    source=EventSourceChoices.SOURCE_TRAP,
                    severity=row["severity"],
                    kind=row["trap"],
                    text=row["text"],
                    device=device,
                    details={
                        **row.get("details", {}),
                        "sender": row["source"],
                        "collector": collector,
                        **({"device_name": row["device"]} if row.get("device") and device is None else {}),
                    },
                )
        return Response(
            {
                "accepted": len(admitted),
                "rejected": rejected,
                "rejected_devices": sorted(out_of_scope),
                "unknown_devices": sorted(unknown),
            }
        )


class AlertWebhookPermission(TokenPermissions):
    """A write-enabled token (or session) whose user may add alert records."""

    perms_map = {
        **TokenPermissions.perms_map,
        "POST": ["inventory.add_alertrecord", "inventory.change_alertrecord"],
    }


class AlertWebhookView(ApiVersionMixin, APIView):
    """Alertmanager's webhook receiver: every notification's alerts upserted by (fingerprint, startsAt)."""

    permission_classes = (AlertWebhookPermission,)
    queryset = AlertRecord.objects.none()  # for the model permissions

    @extend_schema(
        request=WebhookSerializer,
        responses={
            200: inline_serializer(
                "AlertsRecorded",
                fields={
                    "created": serializers.IntegerField(),
                    "updated": serializers.IntegerField(),
                    "events": serializers.IntegerField(),
                },
            ),
            400: OpenApiResponse(
                description="Not an Alertmanager webhook (version 4) payload: names the field"
            ),
        },
        operation_id="monitoring_alerts_webhook",
    )
    def post(self, request):
        notification = WebhookSerializer(data=request.data)
        notification.is_valid(raise_exception=True)
        outcome = alert_notification_record(alerts=notification.validated_data["alerts"])
        return Response({"created": outcome.created, "updated": outcome.updated, "events": outcome.events})
