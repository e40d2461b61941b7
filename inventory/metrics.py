"""The inventory's own Prometheus metrics (its own registry, read from the database at scrape time).

- ``infrastrand_site_info{site,name,country,region,tenant,strands,latitude,longitude,status} 1``: one per
  site, for the Grafana geomap and for joining site attributes onto device series.
- ``infrastrand_devices{site,country,status,role}``: device counts.
- ``infrastrand_device_observation_up{device,site,country,tenant,role,collector}``: the last poll a collector
  reported (1 answered, 0 failed); ``infrastrand_device_observation_timestamp_seconds`` when it was polled.
- ``infrastrand_interface_documented{device,ifName,enabled,mark_connected,connected} 1``: every documented
  interface of a monitored device (``enabled``/``mark_connected`` ``"true"``/``"false"``; ``connected``
  ``"true"`` when it is the end of a cable or marked connected), for alerts to join on
  ``device, ifName`` with the polled ``ifOperStatus`` (an interface documented as disabled or not
  connected is not expected up).
- ``infrastrand_drift_items{kind,site,country,tenant}``: open drift items (documented vs observed; an
  acknowledgement whose expiry passed counts as open again), and
  ``infrastrand_drift_oldest_open_timestamp_seconds{kind,site,country,tenant}`` the ``first_seen`` of the
  oldest of them (Unix time). ``kind`` is a ``DriftKindChoices`` value, ``tenant`` the device's tenant.
- ``infrastrand_slo_objective_ratio{slo,scope,scope_value}``: each availability objective's target (0.995).
- ``infrastrand_maintenance_active{device,site,country,tenant,role,maintenance_scope,window} 1``: every
  device inside a maintenance window that is running now (the availability rules leave its time out).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

SITE_INFO_LABELS = (
    "site",
    "name",
    "country",
    "region",
    "tenant",
    "strands",
    "latitude",
    "longitude",
    "status",
)
DEVICE_COUNT_LABELS = ("site", "country", "status", "role")
OBSERVATION_LABELS = ("device", "site", "country", "tenant", "role", "collector")
INTERFACE_LABELS = ("device", "ifName", "enabled", "mark_connected", "connected")
DRIFT_LABELS = ("kind", "site", "country", "tenant")
SLO_LABELS = ("slo", "scope", "scope_value")
MAINTENANCE_LABELS = ("device", "site", "country", "tenant", "role", "maintenance_scope", "window")


def _slug(obj) -> str:
    return obj.slug if obj is not None else ""


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _coordinate(value) -> str:
    return "" if value is None else f"{float(value):.6f}"


class InventoryCollector(Collector):
    """Samples built from the current inventory on each collect()."""

    def collect(self) -> Iterator[Metric]:
        from inventory.models import Device, DeviceObservation, Interface, Site

        site_info = GaugeMetricFamily(
            "infrastrand_site_info", "Inventory site attributes (value always 1)", labels=SITE_INFO_LABELS
        )
        for site in Site.objects.select_related("region", "tenant").order_by("slug"):
            site_info.add_metric(
                [
                    site.slug,
                    site.name,
                    site.country,
                    _slug(site.region),
                    _slug(site.tenant),
                    ",".join(site.strands),
                    _coordinate(site.latitude),
                    _coordinate(site.longitude),
                    site.status,
                ],
                1,
            )
        yield site_info

        devices = GaugeMetricFamily(
            "infrastrand_devices",
            "Devices in the inventory by site, status and role",
            labels=DEVICE_COUNT_LABELS,
        )
        counts = Counter(
            Device.objects.values_list("site__slug", "site__country", "status", "role__slug").order_by()
        )
        for key, value in sorted(counts.items()):
            devices.add_metric([part or "" for part in key], value)
        yield devices

        up = GaugeMetricFamily(
            "infrastrand_device_observation_up",
            "Whether the device answered its last poll a collector reported (1) or not (0)",
            labels=OBSERVATION_LABELS,
        )
        polled = GaugeMetricFamily(
            "infrastrand_device_observation_timestamp_seconds",
            "When the last reported poll of the device happened (Unix time)",
            labels=OBSERVATION_LABELS,
        )
        observations = DeviceObservation.objects.select_related(
            "device__site", "device__tenant", "device__role"
        ).order_by("device__name", "device_id")
        for observation in observations:
            device = observation.device
            labels = [
                device.name,
                _slug(device.site),
                device.site.country if device.site else "",
                _slug(device.tenant),
                _slug(device.role),
                observation.collector,
            ]
            up.add_metric(labels, 1 if observation.up else 0)
            polled.add_metric(labels, observation.polled_at.timestamp())
        yield up
        yield polled

        documented = GaugeMetricFamily(
            "infrastrand_interface_documented",
            "Interfaces documented in the inventory for monitored devices (value always 1)",
            labels=INTERFACE_LABELS,
        )
        rows = (
            Interface.objects.filter(device__monitored=True)
            .order_by("device__name", "name", "pk")
            .values_list("device__name", "name", "enabled", "mark_connected", "cable_a__id", "cable_b__id")
        )
        for device, name, enabled, marked, cable_a, cable_b in rows:
            cabled = cable_a is not None or cable_b is not None
            documented.add_metric([device, name, _flag(enabled), _flag(marked), _flag(marked or cabled)], 1)
        yield documented
        yield from drift_families()
        yield from slo_metrics()


def drift_families() -> Iterator[Metric]:
    """Open drift items and the first_seen of the oldest, per kind, site, country and tenant."""
    from django.db.models import Count, Min
    from django.utils import timezone

    from inventory.models import DriftItem

    items = GaugeMetricFamily(
        "infrastrand_drift_items",
        "Open drift items (record and latest observation disagree, not acknowledged)",
        labels=DRIFT_LABELS,
    )
    oldest = GaugeMetricFamily(
        "infrastrand_drift_oldest_open_timestamp_seconds",
        "When the oldest open drift item was first seen (Unix time)",
        labels=DRIFT_LABELS,
    )
    rows = (
        DriftItem.objects.open_at(timezone.now())
        .order_by()
        .values_list("kind", "device__site__slug", "device__site__country", "device__tenant__slug")
        .annotate(count=Count("pk"), first=Min("first_seen"))
    )
    for kind, site, country, tenant, count, first in sorted(rows, key=lambda row: [v or "" for v in row[:4]]):
        labels = [kind, site or "", country or "", tenant or ""]
        items.add_metric(labels, count)
        oldest.add_metric(labels, first.timestamp())
    yield items
    yield oldest


def slo_metrics() -> Iterator[Metric]:
    """The availability objectives and the devices in maintenance now."""
    from django.utils import timezone

    from inventory.models import Device, MaintenanceWindow, ServiceLevelObjective
    from inventory.models.slo import devices_in_scope

    objectives = GaugeMetricFamily(
        "infrastrand_slo_objective_ratio",
        "Availability objective of each SLO over its monthly window (0.995 = 99.5 %)",
        labels=SLO_LABELS,
    )
    for slo in ServiceLevelObjective.objects.order_by("name"):
        objectives.add_metric([slo.name, slo.scope, slo.scope_value], slo.target_ratio)
    yield objectives

    maintenance = GaugeMetricFamily(
        "infrastrand_maintenance_active",
        "Devices inside a maintenance window running now (value always 1)",
        labels=MAINTENANCE_LABELS,
    )
    now = timezone.now()
    for window in MaintenanceWindow.objects.filter(start__lte=now, end__gt=now).order_by("pk"):
        rows = (
            Device.objects.filter(devices_in_scope(window.scope, window.scope_value))
            .order_by("name", "pk")
            .values_list("name", "site__slug", "site__country", "tenant__slug", "role__slug")
        )
        for name, site, country, tenant, role in rows:
            labels = [name, site or "", country or "", tenant or "", role or ""]
            maintenance.add_metric([*labels, window.scope, str(window.pk)], 1)
    yield maintenance


registry = CollectorRegistry(auto_describe=False)
registry.register(InventoryCollector())


def render() -> bytes:
    """The Prometheus text exposition of the inventory metrics."""
    return generate_latest(registry)
