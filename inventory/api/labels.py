"""A device's inventory labels: contract 1 (collector targets) and 4 (http_sd ``__meta_infrastrand_*``)."""

from __future__ import annotations

from inventory.models import Device

DEVICE_LABEL_RELATIONS = (
    "site__region",
    "tenant__group",
    "role",
    "platform",
    "device_type",
    "collector_group",
    "primary_ip4",
    "primary_ip6",
    "location",
    "rack",
)
"""What a queryset must select_related for these labels to cost no extra query per device."""


def _slug(obj) -> str:
    return getattr(obj, "slug", "") if obj is not None else ""


def primary_host(device: Device) -> str:
    """The primary IP without its mask (IPv4 first), or ``""``."""
    ip = device.primary_ip4 or device.primary_ip6
    return ip.host if ip is not None else ""


def target_labels(device: Device) -> dict[str, str]:
    """Contract 1 ``labels``: slugs, ISO country, strands as ``a,b``; missing ones ``""``."""
    site = device.site
    return {
        "device": device.name,
        "site": _slug(site),
        "region": _slug(site.region) if site else "",
        "country": site.country if site else "",
        "tenant": _slug(device.tenant),
        "role": _slug(device.role),
        "strands": ",".join(site.strands) if site else "",
        "platform": _slug(device.platform),
        "device_type": _slug(device.device_type),
    }


def _fenced(values: list[str]) -> str:
    """``,a,b,`` (netbox-plugin-prometheus-sd's list form, so ``.*,a,.*`` matches one member)."""
    return f",{','.join(values)}," if values else ""


def sd_labels(device: Device) -> dict[str, str]:
    """Contract 4 ``__meta_infrastrand_*`` labels of one device (tags prefetched)."""
    site = device.site
    group = device.collector_group
    labels = {
        "device": device.name,
        "device_id": str(device.pk),
        "site": _slug(site),
        "region": _slug(site.region) if site else "",
        "country": site.country if site else "",
        "tenant": _slug(device.tenant),
        "tenant_group": _slug(device.tenant.group) if device.tenant else "",
        "role": _slug(device.role),
        "platform": _slug(device.platform),
        "device_type": _slug(device.device_type),
        "status": device.status,
        "strands": _fenced(list(site.strands) if site else []),
        "tags": _fenced(sorted(tag.slug for tag in device.tags.all())),
        "collector_group": _slug(group),
        "collector_address": group.exporter_address if group else "",
        "primary_ip": primary_host(device),
        "location": _slug(device.location),
        "rack": device.rack.name if device.rack else "",
    }
    return {f"__meta_infrastrand_{key}": value for key, value in labels.items()}
