"""The event log and alert history in the UI: the global filtered event list, and the recent events and
alerts of a device, a site and the home page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import make_aware
from django.views import View

from inventory.choices import EventSeverityChoices, EventSourceChoices
from inventory.models import AlertRecord, Device, Event, Site
from inventory.ui.generic import user_can

RECENT = 20
"""Events and alerts shown on a device or site page (the full list links to the filtered page)."""


def recent_events(request: HttpRequest, *, device: Device | None = None, site: Site | None = None) -> list:
    """The newest events of ``device`` or ``site`` (empty without the view permission)."""
    if not user_can(request, Event, "view"):
        return []
    events = Event.objects.select_related("device", "site")
    events = events.filter(device=device) if device is not None else events.filter(site=site)
    return list(events[:RECENT])


def alert_history(request: HttpRequest, *, device: Device | None = None, site: Site | None = None) -> list:
    """The newest alerts of ``device`` or ``site`` (firing or resolved, with their duration)."""
    if not user_can(request, AlertRecord, "view"):
        return []
    alerts = AlertRecord.objects.select_related("device")
    alerts = alerts.filter(device=device) if device is not None else alerts.filter(site=site)
    return list(alerts[:RECENT])


def object_events_context(
    request: HttpRequest, *, device: Device | None = None, site: Site | None = None
) -> dict[str, Any]:
    """What the device and site pages show of the event log and the alert history."""
    scope = {"device": device} if device is not None else {"site": site}
    return {
        "events": recent_events(request, **scope),
        "alerts": alert_history(request, **scope),
        "can_view_events": user_can(request, Event, "view"),
        "events_filter": urlencode({"device": device.name} if device is not None else {"site": site.slug}),
        "scope_name": "device" if device is not None else "site",
    }


def _moment(value: str, *, end: bool = False) -> datetime | None:
    """A ``YYYY-MM-DD`` (a whole day: its start, or the next day's start for ``end``) or ISO 8601 time."""
    value = value.strip()
    if not value:
        return None
    try:
        day = parse_date(value)  # a date alone: the whole day (parse_datetime would read it as midnight)
    except ValueError:
        day = None
    if day is not None:
        moment = datetime.combine(day, datetime.min.time()) + timedelta(days=1 if end else 0)
    else:
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None:
            return None
    return moment if moment.tzinfo else make_aware(moment)


class EventListView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Every event, newest first, filterable by source, severity, device, site and time range."""

    permission_required = "inventory.view_event"
    raise_exception = True

    def handle_no_permission(self):
        if not self.request.user.is_authenticated:
            self.raise_exception = False
        return super().handle_no_permission()

    def get(self, request: HttpRequest) -> HttpResponse:
        events: QuerySet[Event] = Event.objects.select_related("device", "site")
        params = request.GET
        filters = {
            key: params.get(key, "").strip()
            for key in ("source", "severity", "device", "site", "since", "until")
        }
        if filters["source"] in EventSourceChoices.values():
            events = events.filter(source=filters["source"])
        if filters["severity"] in EventSeverityChoices.values():
            events = events.filter(severity=filters["severity"])
        if filters["device"]:
            events = events.filter(device__name__iexact=filters["device"])
        if filters["site"]:
            events = events.filter(site__slug=filters["site"])
        since, until = _moment(filters["since"]), _moment(filters["until"], end=True)
        if since:
            events = events.filter(time__gte=since)
        if until:
            events = events.filter(time__lt=until)
        page = Paginator(events, 50).get_page(params.get("page"))
        query = urlencode({k: v for k, v in filters.items() if v})
        return render(
            request,
            "inventory/events.html",
            {
                "page": page,
                "filters": filters,
                "query": query,
                "sources": EventSourceChoices.CHOICES,
                "severities": EventSeverityChoices.CHOICES,
            },
        )
