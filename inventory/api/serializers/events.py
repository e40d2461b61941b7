"""Serializers of the event log and the alert history (read-only over the API), and of what the
collectors (trap events) and Alertmanager (webhook notifications) post."""

from __future__ import annotations

from rest_framework import serializers

from inventory.api.serializers.base import BaseModelSerializer
from inventory.choices import AlertStatusChoices, EventSeverityChoices
from inventory.models import AlertRecord, Event

MAX_TRAP_EVENTS = 10_000
"""Trap events per collector POST (a bound on one request's work)."""
MAX_ALERTS = 10_000
"""Alerts per webhook notification."""


class EventSerializer(BaseModelSerializer):
    class Meta:
        model = Event
        fields = (
            "id",
            "url",
            "display",
            "time",
            "device",
            "site",
            "source",
            "severity",
            "kind",
            "text",
            "details",
        )
        brief_fields = ("id", "url", "display", "time", "source", "severity")
        read_only_fields = fields


class AlertRecordSerializer(BaseModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = AlertRecord
        fields = (
            "id",
            "url",
            "display",
            "fingerprint",
            "alertname",
            "status",
            "labels",
            "annotations",
            "starts_at",
            "ends_at",
            "duration_seconds",
            "generator_url",
            "device",
            "site",
        )
        brief_fields = ("id", "url", "display", "alertname", "status", "starts_at")
        read_only_fields = fields


# -- collector trap events ----------------------------------------------------------------------------


class TrapEventSerializer(serializers.Serializer):
    """One received notification as a collector reports it (contract: DEVELOPERS.md, trap events)."""

    time = serializers.DateTimeField()
    device_id = serializers.IntegerField(required=False, allow_null=True, help_text="Else unattributed")
    device = serializers.CharField(required=False, allow_blank=True, max_length=200)
    source = serializers.CharField(max_length=100, help_text="Sender address")
    trap = serializers.CharField(max_length=100, help_text="Notification name or numeric OID")
    severity = serializers.ChoiceField(choices=EventSeverityChoices.CHOICES, default="info")
    text = serializers.CharField(max_length=1000)
    details = serializers.DictField(required=False)


class TrapEventBatchSerializer(serializers.Serializer):
    collector = serializers.CharField(max_length=100)
    events = serializers.ListField(child=serializers.DictField(), max_length=MAX_TRAP_EVENTS)


# -- Alertmanager webhook -------------------------------------------------------------------------------


def _strings(value, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise serializers.ValidationError(f"{field}: expected an object of string values")
    return value


class WebhookAlertSerializer(serializers.Serializer):
    """One alert of Alertmanager's webhook payload (version 4)."""

    status = serializers.ChoiceField(choices=AlertStatusChoices.CHOICES)
    labels = serializers.JSONField()
    annotations = serializers.JSONField(required=False, default=dict)
    startsAt = serializers.DateTimeField()
    endsAt = serializers.DateTimeField(required=False, allow_null=True)
    generatorURL = serializers.CharField(required=False, allow_blank=True, default="")
    fingerprint = serializers.CharField(max_length=64)

    def validate_labels(self, value):
        value = _strings(value, "labels")
        if not value.get("alertname"):
            raise serializers.ValidationError("labels: alertname is required")
        return value

    def validate_annotations(self, value):
        return _strings(value, "annotations")

    def to_internal_value(self, data):
        raw = super().to_internal_value(data)
        ends = raw.get("endsAt")
        if ends is not None and ends.year < 2:  # Alertmanager's zero time "0001-01-01T00:00:00Z": not ended
            ends = None
        return {
            "status": raw["status"],
            "labels": raw["labels"],
            "annotations": raw["annotations"],
            "starts_at": raw["startsAt"],
            "ends_at": ends,
            "generator_url": raw["generatorURL"],
            "fingerprint": raw["fingerprint"],
        }


class WebhookSerializer(serializers.Serializer):
    """Alertmanager's webhook notification (``version`` "4"); only the alerts are kept."""

    version = serializers.CharField()
    status = serializers.ChoiceField(choices=AlertStatusChoices.CHOICES)
    receiver = serializers.CharField(required=False, allow_blank=True)
    groupKey = serializers.CharField(required=False, allow_blank=True)
    alerts = WebhookAlertSerializer(many=True, max_length=MAX_ALERTS)

    def validate_version(self, value: str) -> str:
        if value != "4":
            raise serializers.ValidationError(
                f"version {value!r}: only Alertmanager's webhook version 4 is read"
            )
        return value
