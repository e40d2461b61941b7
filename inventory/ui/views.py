"""One view set per model: the generic views in :mod:`inventory.ui.generic` do the work."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Model
from django.http import HttpRequest
from django.utils.safestring import mark_safe

from inventory import graphs, tiles
from inventory.choices import DeviceFaceChoices, DeviceStatusChoices, StrandChoices
from inventory.models import (
    CollectorGroup,
    Contact,
    ContactAssignment,
    ContactRole,
    Device,
    DeviceObservation,
    DeviceRole,
    DeviceType,
    Interface,
    IPAddress,
    Location,
    Manufacturer,
    Platform,
    Prefix,
    Rack,
    Region,
    Site,
    SnmpProfile,
    Tag,
    Tenant,
    TenantGroup,
)
from inventory.models.cables import INTERFACE_CABLE_PATHS
from inventory.services.dcim import device_create
from inventory.ui import cables, drift, elevation, events, filtersets, forms, grafana, registry, tables
from inventory.ui.generic import ObjectViews
from inventory.ui.pollstate import poll_state


def contacts_of(obj: Model):
    return (
        ContactAssignment.objects.filter(
            object_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
        )
        .select_related("contact", "role")
        .order_by("priority", "contact__name")
    )


def observation_of(device: Device) -> DeviceObservation | None:
    try:
        return device.observation
    except DeviceObservation.DoesNotExist:
        return None


OBSERVED_INTERFACE_KEYS = (
    "ifIndex",
    "ifName",
    "ifDescr",
    "ifAlias",
    "ifAdminStatus",
    "ifOperStatus",
    "speed_bps",
    "mac",
)


def observed_interfaces(observation: DeviceObservation | None) -> list[dict[str, Any]]:
    """The interfaces a poll reported (contract 2), every key present (facts not observed are "")."""
    if observation is None or not isinstance(observation.interfaces, list):
        return []
    rows = [
        {key: item.get(key, "") for key in OBSERVED_INTERFACE_KEYS}
        for item in observation.interfaces
        if isinstance(item, dict)
    ]
    return sorted(rows, key=lambda row: row["ifIndex"] if isinstance(row["ifIndex"], int) else 0)


def declare(cls: type[ObjectViews]) -> type[ObjectViews]:
    """Class decorator: register the view set so its model's objects link to its pages."""
    registry.register(cls)
    return cls


@declare
class RegionViews(ObjectViews):
    queryset = Region.objects.select_related("parent").annotate(site_count=Count("sites"))
    table = tables.RegionTable
    filterset = filtersets.RegionFilterSet
    form = forms.RegionForm
    url_path = "dcim/regions"


@declare
class SiteViews(ObjectViews):
    queryset = Site.objects.select_related("region", "tenant").annotate(device_count=Count("devices"))
    table = tables.SiteTable
    filterset = filtersets.SiteFilterSet
    form = forms.SiteForm
    url_path = "dcim/sites"
    detail_template = "inventory/site.html"

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: Site) -> dict[str, Any]:
        devices = obj.devices.select_related("role", "tenant")
        by_role: dict[str, Counter] = {}
        for device in devices:
            by_role.setdefault(device.role.name, Counter())[device.status] += 1
        statuses = [
            (value, label)
            for value, label in DeviceStatusChoices.CHOICES
            if any(value in counts for counts in by_role.values())
        ]
        tenants = {obj.tenant} if obj.tenant else set()
        tenants.update(d.tenant for d in devices if d.tenant)
        down = DeviceObservation.objects.filter(device__site=obj, up=False).select_related("device")
        return {
            "device_matrix": [
                (role, [counts.get(v, 0) for v, _ in statuses]) for role, counts in sorted(by_role.items())
            ],
            "matrix_statuses": statuses,
            "device_total": len(devices),
            "down_devices": down,
            "racks": obj.racks.select_related("location").annotate(device_count=Count("devices")),
            "locations": obj.locations.all(),
            "contacts": contacts_of(obj),
            "tenants": sorted(tenants, key=str),
            **events.object_events_context(request, site=obj),
            "strands": [StrandChoices.label(s) or s for s in obj.strands],
            "prefixes": obj.prefixes.all(),
            "grafana_url": grafana.site_dashboard_url(obj.slug),
            "site_map": site_map(obj.latitude, obj.longitude),
        }


def site_map(latitude, longitude) -> dict[str, Any] | None:
    """The site's map: a tile from ``settings.TILE_URL`` with the site's pixel in it, or (no tile URL)
    just a link to openstreetmap.org; None without coordinates."""
    if latitude is None or longitude is None:
        return None
    found: dict[str, Any] = {"osm_url": tiles.osm_url(float(latitude), float(longitude))}
    if settings.TILE_URL:
        position = tiles.tile_position(float(latitude), float(longitude))
        found.update(tile=tiles.tile_url(settings.TILE_URL, position), position=position, size=tiles.TILE_PX)
    return found


@declare
class LocationViews(ObjectViews):
    queryset = Location.objects.select_related("site", "parent", "tenant")
    table = tables.LocationTable
    filterset = filtersets.LocationFilterSet
    form = forms.LocationForm
    url_path = "dcim/locations"


@declare
class RackViews(ObjectViews):
    queryset = Rack.objects.select_related("site", "location", "tenant").annotate(
        device_count=Count("devices")
    )
    table = tables.RackTable
    filterset = filtersets.RackFilterSet
    form = forms.RackForm
    url_path = "dcim/racks"
    detail_template = "inventory/rack.html"

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: Rack) -> dict[str, Any]:
        devices = list(obj.devices.select_related("role", "device_type").order_by("-position", "name"))
        return {
            "devices": devices,
            "elevations": [
                (label, mark_safe(elevation.render_elevation(obj, devices, face)))  # the renderer escapes
                for face, label in DeviceFaceChoices.CHOICES
            ],
        }


@declare
class ManufacturerViews(ObjectViews):
    queryset = Manufacturer.objects.all()
    table = tables.ManufacturerTable
    filterset = filtersets.ManufacturerFilterSet
    form = forms.ManufacturerForm
    url_path = "dcim/manufacturers"


@declare
class DeviceTypeViews(ObjectViews):
    queryset = DeviceType.objects.select_related("manufacturer")
    table = tables.DeviceTypeTable
    filterset = filtersets.DeviceTypeFilterSet
    form = forms.DeviceTypeForm
    url_path = "dcim/device-types"
    detail_template = "inventory/devicetype.html"

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: DeviceType) -> dict[str, Any]:
        return {"interface_templates": obj.interface_templates.all()}


@declare
class DeviceRoleViews(ObjectViews):
    queryset = DeviceRole.objects.all()
    table = tables.DeviceRoleTable
    filterset = filtersets.DeviceRoleFilterSet
    form = forms.DeviceRoleForm
    url_path = "dcim/device-roles"


@declare
class PlatformViews(ObjectViews):
    queryset = Platform.objects.select_related("manufacturer")
    table = tables.PlatformTable
    filterset = filtersets.PlatformFilterSet
    form = forms.PlatformForm
    url_path = "dcim/platforms"


@declare
class DeviceViews(ObjectViews):
    queryset = Device.objects.select_related(
        "site",
        "site__region",
        "location",
        "rack",
        "role",
        "device_type",
        "device_type__manufacturer",
        "platform",
        "tenant",
        "primary_ip4",
        "primary_ip6",
        "snmp_profile",
        "collector_group",
        "observation",
    )
    table = tables.DeviceTable
    filterset = filtersets.DeviceFilterSet
    form = forms.DeviceForm
    url_path = "dcim/devices"
    detail_template = "inventory/device.html"

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: Device) -> dict[str, Any]:
        observation = observation_of(obj)
        return {
            "observation": observation,
            "poll_state": poll_state(obj, observation),
            "observed_interfaces": observed_interfaces(observation),
            "interfaces": obj.interfaces.prefetch_related("ip_addresses").select_related(
                *INTERFACE_CABLE_PATHS
            ),
            "contacts": contacts_of(obj),
            "grafana_url": grafana.device_dashboard_url(obj.name),
            "graphs": graphs.build_panel(obj.name, range_name=request.GET.get("range")),
            **events.object_events_context(request, device=obj),
            **drift.device_drift(request, obj),
        }

    @classmethod
    def save(cls, *, form, request: HttpRequest) -> Device:
        """A new device also gets the interfaces of its type's templates."""
        if form.instance.pk is None:
            return device_create(data=form.service_data(), user=request.user)
        return super().save(form=form, request=request)


@declare
class InterfaceViews(ObjectViews):
    queryset = Interface.objects.select_related(
        "device", "device__site", *INTERFACE_CABLE_PATHS
    ).prefetch_related("ip_addresses")
    table = tables.InterfaceTable
    filterset = filtersets.InterfaceFilterSet
    form = forms.InterfaceForm
    url_path = "dcim/interfaces"
    detail_template = "inventory/interface.html"

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: Interface) -> dict[str, Any]:
        observation = observation_of(obj.device)
        observed = next((i for i in observed_interfaces(observation) if i["ifName"] == obj.name), None)
        return {
            "observation": observation,
            "observed": observed,
            "ip_addresses": obj.ip_addresses.all(),
            "graphs": graphs.build_panel(
                obj.device.name, range_name=request.GET.get("range"), interface=obj.name
            ),
        }


@declare
class PrefixViews(ObjectViews):
    queryset = Prefix.objects.select_related("site", "tenant")
    table = tables.PrefixTable
    filterset = filtersets.PrefixFilterSet
    form = forms.PrefixForm
    url_path = "ipam/prefixes"


@declare
class IPAddressViews(ObjectViews):
    queryset = IPAddress.objects.select_related("tenant", "assigned_object", "assigned_object__device")
    table = tables.IPAddressTable
    filterset = filtersets.IPAddressFilterSet
    form = forms.IPAddressForm
    url_path = "ipam/ip-addresses"
    detail_template = "inventory/ipaddress.html"

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: IPAddress) -> dict[str, Any]:
        device = obj.assigned_object.device if obj.assigned_object_id else None
        primary_for = [
            d for d in (getattr(obj, "primary_ip4_for", None), getattr(obj, "primary_ip6_for", None)) if d
        ]
        prefixes = [p for p in Prefix.objects.filter(family=obj.family) if obj.interface.ip in p.network]
        return {"device": device, "primary_for": primary_for, "prefixes": prefixes}


@declare
class TenantGroupViews(ObjectViews):
    queryset = TenantGroup.objects.select_related("parent")
    table = tables.TenantGroupTable
    filterset = filtersets.TenantGroupFilterSet
    form = forms.TenantGroupForm
    url_path = "tenancy/tenant-groups"


@declare
class TenantViews(ObjectViews):
    queryset = Tenant.objects.select_related("group").annotate(
        site_count=Count("sites", distinct=True), device_count=Count("devices", distinct=True)
    )
    table = tables.TenantTable
    filterset = filtersets.TenantFilterSet
    form = forms.TenantForm
    url_path = "tenancy/tenants"


@declare
class ContactRoleViews(ObjectViews):
    queryset = ContactRole.objects.all()
    table = tables.ContactRoleTable
    filterset = filtersets.ContactRoleFilterSet
    form = forms.ContactRoleForm
    url_path = "tenancy/contact-roles"


@declare
class ContactViews(ObjectViews):
    queryset = Contact.objects.annotate(assignment_count=Count("assignments"))
    table = tables.ContactTable
    filterset = filtersets.ContactFilterSet
    form = forms.ContactForm
    url_path = "tenancy/contacts"


@declare
class ContactAssignmentViews(ObjectViews):
    queryset = ContactAssignment.objects.select_related("contact", "role", "object_type")
    table = tables.ContactAssignmentTable
    filterset = filtersets.ContactAssignmentFilterSet
    form = forms.ContactAssignmentForm
    url_path = "tenancy/contact-assignments"


@declare
class TagViews(ObjectViews):
    queryset = Tag.objects.all()
    table = tables.TagTable
    filterset = filtersets.TagFilterSet
    form = forms.TagForm
    url_path = "extras/tags"


@declare
class SnmpProfileViews(ObjectViews):
    queryset = SnmpProfile.objects.annotate(device_count=Count("devices"))
    table = tables.SnmpProfileTable
    filterset = filtersets.SnmpProfileFilterSet
    form = forms.SnmpProfileForm
    url_path = "monitoring/snmp-profiles"
    detail_template = "inventory/snmpprofile.html"
    detail_fields = (
        "name",
        "description",
        "version",
        "username",
        "auth_protocol",
        "priv_protocol",
        "context",
        "port",
        "timeout",
        "retries",
        "max_repetitions",
        "modules",
    )

    @classmethod
    def detail_context(cls, request: HttpRequest, obj: SnmpProfile) -> dict[str, Any]:
        return {"secrets_set": secrets_set(obj), "devices": obj.devices.select_related("site")[:100]}


def secrets_set(profile: SnmpProfile) -> list[tuple[str, bool]]:
    """Which secrets a profile holds, never their values."""
    labels = {"community": "Community", "auth_key": "Authentication key", "priv_key": "Privacy key"}
    return [(label, bool(getattr(profile, name))) for name, label in labels.items()]


@declare
class CollectorGroupViews(ObjectViews):
    queryset = CollectorGroup.objects.annotate(device_count=Count("devices"))
    table = tables.CollectorGroupTable
    filterset = filtersets.CollectorGroupFilterSet
    form = forms.CollectorGroupForm
    url_path = "monitoring/collector-groups"


for _drift_views in (drift.DriftItemViews, drift.PlatformMappingViews, drift.InterfaceTemplateViews):
    declare(_drift_views)

declare(cables.CableViews)

from inventory.ui import discovery as _discovery  # noqa: E402  (issue 15: sweeps, proposals, sysObjectID mapping)
from inventory.ui import slo as _slo  # noqa: E402, F401  (registers the SLO and maintenance view sets)

for _discovery_views in (
    _discovery.DiscoveryJobViews,
    _discovery.DiscoveryProposalViews,
    _discovery.SysObjectIdMappingViews,
):
    declare(_discovery_views)
