"""Filters of ``/api/dcim/cables/``: NetBox's, where a device or site filter matches either end."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.db.models import Q

from inventory.api.filtersets.base import NULL, BaseFilterSet, LookupFilter
from inventory.models import Cable, Device, Interface, Site


class EitherEndFilter(LookupFilter):
    """``<end>_interface__<path>`` on the A or the B end (``device_id=3``: cables with an end on device 3)."""

    def filter(self, qs: models.QuerySet, value: list) -> models.QuerySet:
        if not value:
            return qs
        condition = Q()
        for item in value:
            if item is NULL:
                continue
            for end in ("a_interface", "b_interface"):
                condition |= Q(**{f"{end}__{self.field_name}__{self.lookup_expr}": item})
        return qs.exclude(condition) if self.exclude else qs.filter(condition)


def _either_end(path: str, item_field: forms.Field, must_exist: tuple[type[models.Model], str], **kw: Any):
    return EitherEndFilter(field_name=path, item_field=item_field, must_exist=must_exist, **kw)


class CableFilterSet(BaseFilterSet):
    netbox_only = (
        "termination_a_type",
        "termination_a_id",
        "termination_b_type",
        "termination_b_id",
        "unterminated",
        "rack",
        "rack_id",
        "location",
        "location_id",
        "tenant",
        "tenant_id",
        "profile",
    )
    filter_fields = ("status", "type", "label", "color", "length", "length_unit", "description")
    search_fields = ("label", "description")
    device_id = _either_end("device", forms.IntegerField(), (Device, "pk"))
    device = _either_end("device__name", forms.CharField(), (Device, "name"))
    site_id = _either_end("device__site", forms.IntegerField(), (Site, "pk"))
    site = _either_end("device__site__slug", forms.CharField(), (Site, "slug"))
    interface_id = _either_end("pk", forms.IntegerField(), (Interface, "pk"))

    class Meta:
        model = Cable
        fields: list[str] = []
