"""Filters of the event log and the alert history (NetBox lookups, see ``base``)."""

from __future__ import annotations

from inventory.api.filtersets.base import BaseFilterSet
from inventory.models import AlertRecord, Event


class EventFilterSet(BaseFilterSet):
    """``device_id``, ``device`` (name), ``site_id``, ``site`` (slug), ``source``, ``severity``, ``kind``,
    ``time__gte``/``time__lt`` …, ``q`` (text)."""

    filter_fields = ("time", "device", "site", "source", "severity", "kind", "text")
    search_fields = ("text", "kind")

    class Meta:
        model = Event
        fields: list[str] = []


class AlertRecordFilterSet(BaseFilterSet):
    filter_fields = ("alertname", "status", "fingerprint", "starts_at", "ends_at", "device", "site")
    search_fields = ("alertname",)

    class Meta:
        model = AlertRecord
        fields: list[str] = []
