"""A device's inventory labels: contract 1 (collector targets) and 4 (http_sd ``__meta_infrastrand_*``).

Both endpoints list thousands of devices, so they read plain column values (:func:`device_rows`, one
query plus one for tags) instead of model instances.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from inventory.models import Device

LABEL_COLUMNS = (
    "pk",
    "name",
    "status",
    "site__slug",
    "site__country",
    "site__strands",
    "site__region__slug",
    "tenant__slug",
    "tenant__group__slug",
    "role__slug",
    "platform__slug",
    "device_type__slug",
    "collector_group__slug",
    "collector_group__exporter_address",
    "primary_ip4__address",
    "primary_ip6__address",
    "location__slug",
    "rack__name",
)
"""The columns the labels are made of (``QuerySet.values()`` names)."""

Row = dict[str, Any]


def device_rows(queryset: QuerySet[Device], *extra: str) -> list[Row]:
    """The devices as dicts of :data:`LABEL_COLUMNS` (plus ``extra``), with ``tags`` (sorted slugs)."""
    rows = list(queryset.order_by("name", "pk").values(*LABEL_COLUMNS, *extra))
    tags: dict[int, list[str]] = defaultdict(list)
    through = Device.tags.through
    links = through.objects.filter(device__in=queryset.values("pk")).values_list("device_id", "tag__slug")
    for device_id, slug in links.order_by("tag__slug"):
        tags[device_id].append(slug)
    for row in rows:
        row["tags"] = tags.get(row["pk"], [])
        row["site__strands"] = row["site__strands"] or []
    return rows


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def primary_host(row: Row) -> str:
    """The primary IP without its mask (IPv4 first), or ``""``."""
    address = row["primary_ip4__address"] or row["primary_ip6__address"] or ""
    return address.split("/", 1)[0]


def target_labels(row: Row) -> dict[str, str]:
    """Contract 1 ``labels``: slugs, ISO country, strands as ``a,b``; missing ones ``""``."""
    return {
        "device": row["name"],
        "site": _text(row["site__slug"]),
        "region": _text(row["site__region__slug"]),
        "country": _text(row["site__country"]),
        "tenant": _text(row["tenant__slug"]),
        "role": _text(row["role__slug"]),
        "strands": ",".join(row["site__strands"]),
        "platform": _text(row["platform__slug"]),
        "device_type": _text(row["device_type__slug"]),
    }


def _fenced(values: list[str]) -> str:
    """``,a,b,`` (netbox-plugin-prometheus-sd's list form, so ``.*,a,.*`` matches one member)."""
    return f",{','.join(values)}," if values else ""


def sd_labels(row: Row) -> dict[str, str]:
    """Contract 4 ``__meta_infrastrand_*`` labels of one device row."""
    labels = {
        "device": row["name"],
        "device_id": str(row["pk"]),
        "site": _text(row["site__slug"]),
        "region": _text(row["site__region__slug"]),
        "country": _text(row["site__country"]),
        "tenant": _text(row["tenant__slug"]),
        "tenant_group": _text(row["tenant__group__slug"]),
        "role": _text(row["role__slug"]),
        "platform": _text(row["platform__slug"]),
        "device_type": _text(row["device_type__slug"]),
        "status": row["status"],
        "strands": _fenced(row["site__strands"]),
        "tags": _fenced(row["tags"]),
        "collector_group": _text(row["collector_group__slug"]),
        "collector_address": _text(row["collector_group__exporter_address"]),
        "primary_ip": primary_host(row),
        "location": _text(row["location__slug"]),
        "rack": _text(row["rack__name"]),
    }
    return {f"__meta_infrastrand_{key}": value for key, value in labels.items()}
