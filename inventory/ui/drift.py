"""The drift pages: the list (filters, bulk adopt/acknowledge), per-item actions, the device page's card,
and the pages of the platform mapping and the interface templates ("make this the template")."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, ClassVar

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from django.utils import timezone

from inventory.choices import DriftKindChoices, DriftStateChoices, StrandChoices
from inventory.fields import choice_list_contains
from inventory.models import Device, DriftItem, InterfaceTemplate, PlatformMapping, Site, Tenant
from inventory.services.drift_adopt import ADOPT_PERMS, drift_acknowledge, drift_adopt
from inventory.services.templates import interface_templates_from_device
from inventory.ui import registry
from inventory.ui.filtersets import country_filter, multi, related
from inventory.ui.filtersets_base import SearchFilterSet
from inventory.ui.forms_base import ObjectForm
from inventory.ui.generic import ObjectListView, ObjectPermissionView, ObjectViews, safe_return_url, user_can
from inventory.ui.tables_base import ChoiceBadgeColumn, LinkColumn, ObjectTable


def can_adopt(request: HttpRequest) -> bool:
    return request.user.has_perms(ADOPT_PERMS)


# -- list ------------------------------------------------------------------------------------------


class DriftItemFilterSet(SearchFilterSet):
    search_fields = ("device__name", "subject", "documented", "observed")
    # By slug: the DriftOpen alert links here with the site label of its metric.
    site = django_filters.ModelMultipleChoiceFilter(
        queryset=Site.objects.all(), field_name="device__site__slug", to_field_name="slug", label="Site"
    )
    country = country_filter("device__site__country")
    strand = django_filters.ChoiceFilter(
        choices=StrandChoices.CHOICES, method="filter_strand", label="Strand"
    )
    tenant = related(Tenant, "device__tenant")
    kind = multi(DriftKindChoices.CHOICES)
    state = multi(DriftStateChoices.CHOICES)
    device_id = django_filters.NumberFilter(field_name="device_id", widget=forms.HiddenInput)

    class Meta:
        model = DriftItem
        fields = ("q", "site", "country", "strand", "tenant", "kind", "state", "device_id")

    def filter_strand(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(choice_list_contains("device__site__strands", value)) if value else queryset


class DriftItemTable(ObjectTable):
    select = tables.CheckBoxColumn(accessor="pk", attrs={"input": {"name": "pk", "form": "drift-bulk"}})
    device = LinkColumn()
    kind = ChoiceBadgeColumn()
    subject = LinkColumn(linkify=lambda record: _item_url(record))
    state = ChoiceBadgeColumn()
    actions = None

    class Meta(ObjectTable.Meta):
        model = DriftItem
        fields = (
            "select",
            "device",
            "kind",
            "subject",
            "documented",
            "observed",
            "state",
            "first_seen",
            "last_seen",
        )
        order_by = ("device", "kind", "subject")
        sequence = ("...",)


def _item_url(item: DriftItem) -> str:
    return registry.object_url(item)


class DriftListView(ObjectListView):
    """The generic list, with a bulk form: adopt or acknowledge the ticked rows or every matching one."""

    template_name = "inventory/drift_list.html"

    def base_context(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().base_context(request), "can_adopt": can_adopt(request)}

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action", "")
        back = safe_return_url(request, request.get_full_path())
        if request.POST.get("scope") == "all":
            filterset = DriftItemFilterSet(request.GET, queryset=DriftItem.objects.active(), request=request)
            items: Any = filterset.qs if filterset.is_valid() else DriftItem.objects.none()
        else:
            items = [int(pk) for pk in request.POST.getlist("pk") if pk.isdigit()]
        return act(request, action, items, back)


def act(request: HttpRequest, action: str, items: Any, back: str) -> HttpResponse:
    """Adopt or acknowledge ``items`` (ids or a queryset) for the signed-in user; report and go back."""
    try:
        if action == "adopt":
            if not can_adopt(request):
                raise PermissionDenied
            done = drift_adopt(items=items, user=request.user)
            messages.success(request, f"Adopted {len(done)} drift item(s) into the record.")
        elif action == "acknowledge":
            if not request.user.has_perm("inventory.change_driftitem"):
                raise PermissionDenied
            until = request.POST.get("until", "").strip()
            done = drift_acknowledge(
                items=items, reason=request.POST.get("reason", ""), until=_end_of(until), user=request.user
            )
            messages.success(request, f"Acknowledged {len(done)} drift item(s).")
        else:
            messages.error(request, "Choose adopt or acknowledge.")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return HttpResponseRedirect(back)


def _end_of(day: str) -> datetime | None:
    """``2026-12-31`` → the end of that day (UTC); "" → None; a malformed date is a validation error."""
    if not day:
        return None
    try:
        date = datetime.strptime(day, "%Y-%m-%d").date()
    except ValueError as exc:
        raise ValidationError({"until": f"{day!r} is not a date (YYYY-MM-DD)."}) from exc
    return datetime.combine(date, time.max, tzinfo=timezone.get_current_timezone())


class DriftActionView(ObjectPermissionView):
    """``POST …/drift/<pk>/adopt|acknowledge/``: one item, from its page or the device's drift card."""

    action = "view"
    verb: ClassVar[str] = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = get_object_or_404(DriftItem, pk=pk)
        back = safe_return_url(request, f"/dcim/devices/{item.device_id}/")
        return act(request, self.verb, [item.pk], back)


class DeviceDriftView(ObjectPermissionView):
    """``POST /monitoring/drift/device/<pk>/``: adopt or acknowledge every unresolved item of a device."""

    action = "view"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        device = get_object_or_404(Device, pk=pk)
        back = safe_return_url(request, f"/dcim/devices/{device.pk}/")
        items = DriftItem.objects.active().filter(device=device)
        kind = request.POST.get("kind", "")
        if kind:
            items = items.filter(kind=kind)
        return act(request, request.POST.get("action", ""), items, back)


class DriftItemViews(ObjectViews):
    queryset = DriftItem.objects.select_related("device", "device__site", "device__tenant")
    table = DriftItemTable
    filterset = DriftItemFilterSet
    url_path = "monitoring/drift"
    detail_template = "inventory/drift_item.html"

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: DriftItem) -> dict[str, Any]:
        return {"can_adopt": can_adopt(request), "now": timezone.now()}

    @classmethod
    def urls(cls) -> list[URLPattern]:
        patterns = [
            pattern
            for pattern in super().urls()
            if pattern.name != "driftitem_list"  # replaced by the list with bulk actions
        ]
        return [
            path(f"{cls.url_path}/", DriftListView.as_view(views=cls), name="driftitem_list"),
            path(
                f"{cls.url_path}/<int:pk>/adopt/",
                DriftActionView.as_view(views=cls, verb="adopt"),
                name="driftitem_adopt",
            ),
            path(
                f"{cls.url_path}/<int:pk>/acknowledge/",
                DriftActionView.as_view(views=cls, verb="acknowledge"),
                name="driftitem_acknowledge",
            ),
            path(
                f"{cls.url_path}/device/<int:pk>/",
                DeviceDriftView.as_view(views=cls),
                name="driftitem_device",
            ),
            *patterns,
        ]


def device_drift(request: HttpRequest, device: Device) -> dict[str, Any]:
    """The device page's drift card: its unresolved items, and whether the user may act on them."""
    if not user_can(request, DriftItem, "view"):
        return {"drift_visible": False}
    items = list(DriftItem.objects.active().filter(device=device).order_by("kind", "subject"))
    now = timezone.now()
    return {
        "drift_visible": True,
        "drift_items": items,
        "drift_open": sum(1 for item in items if item.is_open_at(now)),
        "drift_undocumented": sum(
            1 for item in items if item.kind == DriftKindChoices.KIND_INTERFACE_UNDOCUMENTED
        ),
        "can_adopt": can_adopt(request),
        "can_acknowledge": request.user.has_perm("inventory.change_driftitem"),
        "can_make_template": request.user.has_perm("inventory.add_interfacetemplate"),
    }


# -- platform mapping, interface templates ---------------------------------------------------------


class PlatformMappingTable(ObjectTable):
    platform = LinkColumn()
    sys_object_id_prefix = LinkColumn(verbose_name="sysObjectID prefix")

    class Meta(ObjectTable.Meta):
        model = PlatformMapping
        fields = ("sys_object_id_prefix", "sys_descr_regex", "platform", "weight", "description")


class PlatformMappingFilterSet(SearchFilterSet):
    search_fields = ("sys_object_id_prefix", "sys_descr_regex", "description", "platform__name")

    class Meta:
        model = PlatformMapping
        fields = ("q", "platform")


class PlatformMappingForm(ObjectForm):
    class Meta:
        model = PlatformMapping
        fields = ("platform", "sys_object_id_prefix", "sys_descr_regex", "weight", "description")


class PlatformMappingViews(ObjectViews):
    queryset = PlatformMapping.objects.select_related("platform")
    table = PlatformMappingTable
    filterset = PlatformMappingFilterSet
    form = PlatformMappingForm
    url_path = "monitoring/platform-mappings"


class InterfaceTemplateTable(ObjectTable):
    name = LinkColumn()
    device_type = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = InterfaceTemplate
        fields = ("device_type", "name", "label", "type", "enabled", "mgmt_only", "description")
        order_by = ("device_type", "_name")


class InterfaceTemplateFilterSet(SearchFilterSet):
    search_fields = ("name", "label", "description")
    device_type_id = django_filters.NumberFilter(field_name="device_type_id", widget=forms.HiddenInput)

    class Meta:
        model = InterfaceTemplate
        fields = ("q", "device_type", "type", "device_type_id")


class InterfaceTemplateForm(ObjectForm):
    class Meta:
        model = InterfaceTemplate
        fields = ("device_type", "name", "label", "type", "enabled", "mgmt_only", "description")


class MakeTemplateView(ObjectPermissionView):
    """``POST /dcim/interface-templates/from-device/<pk>/``: "make this the template"."""

    action = "add"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        device = get_object_or_404(Device, pk=pk)
        try:
            created = interface_templates_from_device(device=device, user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request, f"{len(created)} interface template(s) added to {device.device_type} from {device}."
            )
        return HttpResponseRedirect(safe_return_url(request, f"/dcim/device-types/{device.device_type_id}/"))


class InterfaceTemplateViews(ObjectViews):
    queryset = InterfaceTemplate.objects.select_related("device_type", "device_type__manufacturer")
    table = InterfaceTemplateTable
    filterset = InterfaceTemplateFilterSet
    form = InterfaceTemplateForm
    url_path = "dcim/interface-templates"

    @classmethod
    def urls(cls) -> list[URLPattern]:
        return [
            path(
                f"{cls.url_path}/from-device/<int:pk>/",
                MakeTemplateView.as_view(views=cls),
                name="interfacetemplate_from_device",
            ),
            *super().urls(),
        ]
