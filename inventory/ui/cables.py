"""The cable pages (list, detail, add/edit with device → interface pickers) and the interface's cable."""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import Q
from django.http import HttpRequest

from inventory.choices import CableStatusChoices, CableTypeChoices
from inventory.models import Cable, Device, Site
from inventory.services.cables import cable_create, cable_update
from inventory.ui.filtersets import multi
from inventory.ui.filtersets_base import SearchFilterSet
from inventory.ui.forms import TAGS, TEXTAREA
from inventory.ui.forms_base import ObjectForm
from inventory.ui.generic import ObjectViews
from inventory.ui.tables_base import ChoiceBadgeColumn, LinkColumn, ObjectTable


class CableTable(ObjectTable):
    id = LinkColumn(verbose_name="ID")
    label = LinkColumn()
    a_device = LinkColumn(accessor="a_interface__device", verbose_name="Device A")
    a_interface = LinkColumn(verbose_name="Interface A")
    b_interface = LinkColumn(verbose_name="Interface B")
    b_device = LinkColumn(accessor="b_interface__device", verbose_name="Device B")
    status = ChoiceBadgeColumn()

    class Meta(ObjectTable.Meta):
        model = Cable
        fields = ("id", "label", "a_device", "a_interface", "b_interface", "b_device", "status", "type")
        order_by = ("pk",)


class EitherEndFilter(django_filters.ModelMultipleChoiceFilter):
    """Cables with either end on one of the chosen objects (``<end>_interface__<path>``)."""

    def filter(self, qs, value):
        if not value:
            return qs
        path = self.field_name
        return qs.filter(Q(**{f"a_interface__{path}__in": value}) | Q(**{f"b_interface__{path}__in": value}))


class CableFilterSet(SearchFilterSet):
    search_fields = ("label", "description", "a_interface__device__name", "b_interface__device__name")
    status = multi(CableStatusChoices.CHOICES)
    type = multi(CableTypeChoices.CHOICES)
    site = EitherEndFilter(queryset=Site.objects.all(), field_name="device__site", label="Site")
    device_id = django_filters.NumberFilter(method="filter_device", widget=forms.HiddenInput)

    class Meta:
        model = Cable
        fields = ("q", "site", "status", "type", "device_id")

    def filter_device(self, queryset, name: str, value):
        if value is None:
            return queryset
        return queryset.filter(Q(a_interface__device_id=value) | Q(b_interface__device_id=value))


class CableForm(ObjectForm):
    """Pick each end's device first; its interface picker then lists that device's interfaces only."""

    a_device = forms.ModelChoiceField(queryset=Device.objects.all(), label="Device A")
    b_device = forms.ModelChoiceField(queryset=Device.objects.all(), label="Device B")
    scoped_fields: ClassVar = {"a_interface": ("a_device", "device"), "b_interface": ("b_device", "device")}
    refresh_on_change: ClassVar = ("a_device", "b_device")

    class Meta:
        model = Cable
        fields = (
            "a_device",
            "a_interface",
            "b_device",
            "b_interface",
            "status",
            "type",
            "label",
            "color",
            "length",
            "length_unit",
            "description",
            "comments",
            "tags",
        )
        widgets = {"comments": TEXTAREA, "tags": TAGS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is not None and instance.pk is not None:
            kwargs["initial"] = {
                "a_device": instance.a_interface.device_id,
                "b_device": instance.b_interface.device_id,
                **(kwargs.get("initial") or {}),
            }
        super().__init__(*args, **kwargs)


class CableViews(ObjectViews):
    queryset = Cable.objects.select_related("a_interface__device", "b_interface__device")
    table = CableTable
    filterset = CableFilterSet
    form = CableForm
    url_path = "dcim/cables"
    detail_template = "inventory/cable.html"
    detail_fields = (
        "a_interface",
        "b_interface",
        "status",
        "type",
        "label",
        "color",
        "length",
        "length_unit",
        "description",
        "comments",
    )

    @classmethod
    def save(cls, *, form: CableForm, request: HttpRequest) -> Cable:
        """Through the cable services, which lock both end interfaces."""
        data = form.service_data()
        if form.instance.pk is None:
            return cable_create(data=data, user=request.user)
        return cable_update(cable=form.instance, data=data, user=request.user)
