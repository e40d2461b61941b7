"""The strand's home page (counts, devices down, recent changes) and the global change log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from inventory.choices import DeviceStatusChoices, DriftKindChoices, SiteStatusChoices, StrandChoices
from inventory.fields import choice_list_contains
from inventory.models import Device, DeviceObservation, DriftItem, Event, ObjectChange, Site
from inventory.ui import changelog
from inventory.ui.generic import user_can
from inventory.ui.pollstate import stale_device_ids


def counts_by(queryset: QuerySet, field: str) -> dict[str, int]:
    return {row[field]: row["n"] for row in queryset.order_by().values(field).annotate(n=Count("pk"))}


def strand_counts(sites: QuerySet, devices: QuerySet) -> list[dict[str, Any]]:
    """Sites and devices per strand (a site serves several strands, so rows overlap)."""
    rows = []
    for value, label in StrandChoices.CHOICES:
        rows.append(
            {
                "value": value,
                "label": label,
                "sites": sites.filter(choice_list_contains("strands", value)).count(),
                "devices": devices.filter(choice_list_contains("site__strands", value)).count(),
            }
        )
    return rows


class HomeView(LoginRequiredMixin, View):
    """Counts by country, strand and status, devices down, recent changes; ``?strand=`` scopes it."""

    def get(self, request: HttpRequest) -> HttpResponse:
        strand = request.GET.get("strand", "")
        if strand not in StrandChoices.values():
            strand = ""
        sites = Site.objects.all()
        devices = Device.objects.all()
        if strand:
            sites = sites.filter(choice_list_contains("strands", strand))
            devices = devices.filter(choice_list_contains("site__strands", strand))
        site_countries = counts_by(sites, "country")
        device_countries = counts_by(devices, "site__country")
        countries = sorted(set(site_countries) | set(device_countries))
        down = (
            DeviceObservation.objects.filter(up=False, device__in=devices)
            .select_related("device", "device__site")
            .order_by("-polled_at")
        )
        observed = DeviceObservation.objects.filter(device__in=devices).aggregate(
            answering=Count("pk", filter=Q(up=True)), failing=Count("pk", filter=Q(up=False))
        )
        stale_ids = stale_device_ids(devices) if user_can(request, Device, "view") else []
        stale = Device.objects.filter(pk__in=stale_ids[:50]).select_related("site", "observation")
        context = {
            "strand": strand,
            "strand_label": StrandChoices.label(strand) if strand else "",
            "strands": StrandChoices.CHOICES,
            "site_total": sites.count(),
            "device_total": devices.count(),
            "by_country": [
                {"country": c, "sites": site_countries.get(c, 0), "devices": device_countries.get(c, 0)}
                for c in countries
            ],
            "by_strand": strand_counts(sites, devices),
            "site_status": labelled(counts_by(sites, "status"), SiteStatusChoices.CHOICES),
            "device_status": labelled(counts_by(devices, "status"), DeviceStatusChoices.CHOICES),
            "observed": observed,
            "never_polled": devices.filter(monitored=True, observation__isnull=True).count(),
            "stale": stale,
            "down": down[:50] if user_can(request, Device, "view") else [],
            "can_view_devices": user_can(request, Device, "view"),
            **drift_tile(request, devices),
            "recent_changes": changelog.recent_changes(15) if user_can(request, ObjectChange, "view") else [],
            "can_view_changes": user_can(request, ObjectChange, "view"),
            "recent_events": recent_home_events(devices if strand else None)
            if user_can(request, Event, "view")
            else [],
            "can_view_events": user_can(request, Event, "view"),
        }
        return render(request, "inventory/home.html", context)


def recent_home_events(devices: QuerySet | None) -> list[Event]:
    """The home tile: the newest warning and critical events (of ``devices`` when a strand is chosen)."""
    events = Event.objects.select_related("device", "site").filter(severity__in=("warning", "critical"))
    if devices is not None:
        events = events.filter(device__in=devices)
    return list(events[:10])


def drift_tile(request: HttpRequest, devices: QuerySet) -> dict[str, Any]:
    """Open drift items of ``devices`` (acknowledgements past their expiry count), in total and by kind."""
    if not user_can(request, DriftItem, "view"):
        return {"drift_open": None}
    open_items = DriftItem.objects.open_at(timezone.now()).filter(device__in=devices)
    by_kind = counts_by(open_items, "kind")
    return {
        "drift_open": sum(by_kind.values()),
        "drift_by_kind": labelled(by_kind, DriftKindChoices.CHOICES),
    }


def labelled(counts: dict[str, int], choices: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(value, label, count) in the choice set's order, skipping zero counts."""
    return [(value, label, counts[value]) for value, label in choices if counts.get(value)]


class ChangeLogView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """Every recorded change, newest first, filterable by action and object type."""

    permission_required = "inventory.view_objectchange"
    raise_exception = True

    def handle_no_permission(self):
        if not self.request.user.is_authenticated:
            self.raise_exception = False
        return super().handle_no_permission()

    def get(self, request: HttpRequest) -> HttpResponse:
        changes = ObjectChange.objects.select_related("changed_object_type").order_by("-time", "-pk")
        action = request.GET.get("action", "")
        if action:
            changes = changes.filter(action=action)
        user = request.GET.get("user", "").strip()
        if user:
            changes = changes.filter(user_name__iexact=user)
        page = Paginator(changes, 50).get_page(request.GET.get("page"))
        return render(
            request, "inventory/changelog.html", {"page": page, "action": action, "user_filter": user}
        )
