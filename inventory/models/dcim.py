"""DCIM: regions, sites, locations, racks, device types and roles, platforms, devices, interfaces."""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal
from functools import lru_cache
from typing import ClassVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from inventory.choices import (
    DeviceFaceChoices,
    DeviceStatusChoices,
    InterfaceModeChoices,
    InterfaceTypeChoices,
    LocationStatusChoices,
    RackStatusChoices,
    SiteStatusChoices,
    StrandChoices,
)
from inventory.countries import ISO_3166_ALPHA2
from inventory.fields import ChoiceListField, choice_list_contains
from inventory.models.base import (
    NestedGroupModel,
    OrganizationalModel,
    PrimaryModel,
    sibling_constraints,
    sibling_error_fields,
)
from inventory.models.extras import ColorField
from inventory.models.sortkeys import NATURAL_KEY_LENGTH, natural_key

DEFAULT_POLL_INTERVAL = 60
"""Seconds between polls when neither the device nor its collector group says otherwise."""

POLL_INTERVAL_VALIDATORS = (MinValueValidator(5), MaxValueValidator(86400))


def validate_country(value: str) -> None:
    if str(value).upper() not in ISO_3166_ALPHA2:
        raise ValidationError(
            f"{value!r} is not an ISO 3166-1 alpha-2 country code (two upper-case letters, e.g. MA, LU)."
        )


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value and value not in _time_zones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Africa/Casablanca).")


MAC_RE = re.compile(r"^[0-9A-F]{2}([:\-.]?[0-9A-F]{2}){5}$", re.IGNORECASE)


def normalize_mac(value: str) -> str:
    """``00-11-22-aa-bb-cc`` / ``0011.22aa.bbcc`` → ``00:11:22:AA:BB:CC`` (NetBox's display form)."""
    digits = re.sub(r"[^0-9A-Fa-f]", "", value)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).upper()


def validate_mac(value: str) -> None:
    compact = re.sub(r"[:\-.]", "", value)
    if len(compact) != 12 or not re.fullmatch(r"[0-9A-Fa-f]{12}", compact):
        raise ValidationError(f"{value!r} is not a MAC address (e.g. 00:11:22:AA:BB:CC).")


# -- regions, sites, locations ---------------------------------------------------------------------


class Region(NestedGroupModel):
    """A geographic area (country, province, city), nested; its country is the default of its sites."""

    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text="ISO 3166-1 alpha-2 code; sites in this region (or below it) without one take it",
    )

    constraint_error_fields: ClassVar = sibling_error_fields("dcim_region")

    class Meta(NestedGroupModel.Meta):
        constraints = sibling_constraints("dcim_region")

    def effective_country(self) -> str:
        """This region's country, else the nearest ancestor's ("" if none has one)."""
        node, seen = self, set()
        while node is not None and node.pk not in seen:
            if node.country:
                return node.country.upper()
            seen.add(node.pk)
            node = node.parent
        return ""

    def clean(self) -> None:
        super().clean()
        self.country = (self.country or "").upper()

    def set_stored_values(self) -> None:
        """What ``save()`` derives before writing (bulk writers call it instead of ``save()``)."""
        self.country = (self.country or "").upper()

    def save(self, *args, **kwargs):
        self.set_stored_values()
        super().save(*args, **kwargs)


class SiteQuerySet(models.QuerySet):
    def with_strand(self, strand: str) -> SiteQuerySet:
        return self.filter(choice_list_contains("strands", strand))


class Site(PrimaryModel):
    """A data centre, exchange point or government network site."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    status = models.CharField(
        max_length=50, choices=SiteStatusChoices.CHOICES, default=SiteStatusChoices.STATUS_ACTIVE
    )
    region = models.ForeignKey(Region, on_delete=models.SET_NULL, related_name="sites", blank=True, null=True)
    tenant = models.ForeignKey(
        "inventory.Tenant", on_delete=models.PROTECT, related_name="sites", blank=True, null=True
    )
    facility = models.CharField(max_length=50, blank=True, help_text="Local facility ID or description")
    time_zone = models.CharField(max_length=63, blank=True, validators=[validate_time_zone])
    physical_address = models.CharField(max_length=200, blank=True)
    shipping_address = models.CharField(max_length=200, blank=True)
    latitude = models.DecimalField(
        max_digits=8,
        decimal_places=6,
        blank=True,
        null=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
        help_text="GPS coordinate in decimal format (xx.yyyyyy)",
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        blank=True,
        null=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
        help_text="GPS coordinate in decimal format (xx.yyyyyy)",
    )
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text="ISO 3166-1 alpha-2 code, e.g. MA or LU; when empty, the region's",
    )
    strands = ChoiceListField(choice_set=StrandChoices, help_text="Memorandum strands this site serves")
    tags = models.ManyToManyField("inventory.Tag", blank=True, related_name="sites")

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        self.country = (self.country or "").upper() or self._region_country()
        if not self.country:
            raise ValidationError({"country": "Give a country, or a region that has one."})

    def clean_fields(self, exclude=None) -> None:
        """The fields, then the coordinate pair, unless one of the pair is already wrong or not given here.

        A latitude of 200 must read as out of range, not as "give both latitude and longitude".
        """
        errors: dict = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        pair = {"latitude", "longitude"}
        if not pair & (set(exclude or ()) | errors.keys()) and (self.latitude is None) != (
            self.longitude is None
        ):
            missing = "longitude" if self.longitude is None else "latitude"
            errors[missing] = ["Give both latitude and longitude, or neither."]
        if errors:
            raise ValidationError(errors)

    def set_stored_values(self) -> None:
        """What ``save()`` derives before writing (bulk writers call it instead of ``save()``)."""
        self.country = (self.country or "").upper() or self._region_country()

    def save(self, *args, **kwargs):
        self.set_stored_values()
        super().save(*args, **kwargs)

    def _region_country(self) -> str:
        return self.region.effective_country() if self.region_id else ""


class Location(NestedGroupModel):
    """A room, floor or cage inside a site; nested."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="locations")
    status = models.CharField(
        max_length=50, choices=LocationStatusChoices.CHOICES, default=LocationStatusChoices.STATUS_ACTIVE
    )
    tenant = models.ForeignKey(
        "inventory.Tenant", on_delete=models.PROTECT, related_name="locations", blank=True, null=True
    )
    facility = models.CharField(max_length=50, blank=True)

    constraint_error_fields: ClassVar = sibling_error_fields("dcim_location", ("site",))

    class Meta(NestedGroupModel.Meta):
        ordering = ("site", "name")
        constraints = sibling_constraints("dcim_location", ("site",))

    def changelog_parent(self):
        return self.site

    def clean(self) -> None:
        super().clean()
        if self.parent_id and self.site_id and self.parent.site_id != self.site_id:
            raise ValidationError(
                {"parent": f"Parent location {self.parent} belongs to {self.parent.site}, not {self.site}."}
            )


# -- racks -----------------------------------------------------------------------------------------


class Rack(PrimaryModel):
    name = models.CharField(max_length=100)
    facility_id = models.CharField(max_length=50, blank=True, null=True, verbose_name="facility ID")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="racks")
    location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, related_name="racks", blank=True, null=True
    )
    tenant = models.ForeignKey(
        "inventory.Tenant", on_delete=models.PROTECT, related_name="racks", blank=True, null=True
    )
    status = models.CharField(
        max_length=50, choices=RackStatusChoices.CHOICES, default=RackStatusChoices.STATUS_ACTIVE
    )
    serial = models.CharField(max_length=50, blank=True, verbose_name="serial number")
    asset_tag = models.CharField(max_length=50, blank=True, null=True, unique=True)
    u_height = models.PositiveSmallIntegerField(
        default=42, validators=[MinValueValidator(1), MaxValueValidator(100)], verbose_name="height (U)"
    )
    starting_unit = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    tags = models.ManyToManyField("inventory.Tag", blank=True, related_name="racks")

    constraint_error_fields: ClassVar = {
        "dcim_rack_unique_location_name": "name",
        "dcim_rack_unique_site_name_no_location": "name",
    }

    class Meta:
        ordering = ("site", "location", "name", "pk")
        constraints = (
            models.UniqueConstraint(
                fields=("location", "name"),
                name="dcim_rack_unique_location_name",
                violation_error_message="A rack with this name already exists in this location.",
            ),
            models.UniqueConstraint(
                fields=("site", "name"),
                condition=models.Q(location__isnull=True),
                name="dcim_rack_unique_site_name_no_location",
                violation_error_message="A rack with this name and no location already exists at this site.",
            ),
        )

    def __str__(self) -> str:
        return self.name

    def changelog_parent(self):
        return self.site

    def clean(self) -> None:
        super().clean()
        if self.asset_tag == "":
            self.asset_tag = None
        if self.location_id and self.site_id and self.location.site_id != self.site_id:
            raise ValidationError(
                {"location": f"Location {self.location} belongs to {self.location.site}, not {self.site}."}
            )


# -- device types, roles, platforms ----------------------------------------------------------------


class Manufacturer(OrganizationalModel):
    pass


class DeviceType(PrimaryModel):
    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.PROTECT, related_name="device_types")
    model = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    part_number = models.CharField(max_length=50, blank=True)
    u_height = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("1.0"),
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name="height (U)",
    )
    is_full_depth = models.BooleanField(default=True)

    constraint_error_fields: ClassVar = {
        "dcim_devicetype_unique_manufacturer_model": "model",
        "dcim_devicetype_unique_manufacturer_slug": "slug",
    }

    class Meta:
        ordering = ("manufacturer", "model")
        constraints = (
            models.UniqueConstraint(
                fields=("manufacturer", "model"),
                name="dcim_devicetype_unique_manufacturer_model",
                violation_error_message="This manufacturer already has a device type with this model.",
            ),
            models.UniqueConstraint(
                fields=("manufacturer", "slug"),
                name="dcim_devicetype_unique_manufacturer_slug",
                violation_error_message="This manufacturer already has a device type with this slug.",
            ),
        )

    def __str__(self) -> str:
        return self.model


class DeviceRole(OrganizationalModel):
    color = ColorField(default="9e9e9e")


class Platform(OrganizationalModel):
    """An operating system or firmware family (IOS-XE, Junos, Debian ...)."""

    manufacturer = models.ForeignKey(
        Manufacturer, on_delete=models.PROTECT, related_name="platforms", blank=True, null=True
    )


# -- devices ---------------------------------------------------------------------------------------

POLLED_STATUSES = (
    DeviceStatusChoices.STATUS_ACTIVE,
    DeviceStatusChoices.STATUS_STAGED,
    DeviceStatusChoices.STATUS_FAILED,
)
"""Statuses of monitored devices the collectors poll."""


class DeviceQuerySet(models.QuerySet):
    def pollable(self) -> DeviceQuerySet:
        """Devices a collector should poll: monitored, in a polled status, with profile, group and an IP."""
        return self.filter(
            monitored=True,
            status__in=POLLED_STATUSES,
            snmp_profile__isnull=False,
            collector_group__isnull=False,
        ).filter(models.Q(primary_ip4__isnull=False) | models.Q(primary_ip6__isnull=False))


class Device(PrimaryModel):
    name = models.CharField(max_length=64)
    device_type = models.ForeignKey(DeviceType, on_delete=models.PROTECT, related_name="instances")
    role = models.ForeignKey(DeviceRole, on_delete=models.PROTECT, related_name="devices")
    platform = models.ForeignKey(
        Platform, on_delete=models.SET_NULL, related_name="devices", blank=True, null=True
    )
    tenant = models.ForeignKey(
        "inventory.Tenant", on_delete=models.PROTECT, related_name="devices", blank=True, null=True
    )
    serial = models.CharField(max_length=50, blank=True, verbose_name="serial number")
    asset_tag = models.CharField(max_length=50, blank=True, null=True, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="devices")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="devices", blank=True, null=True
    )
    rack = models.ForeignKey(Rack, on_delete=models.PROTECT, related_name="devices", blank=True, null=True)
    position = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        blank=True,
        null=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("100"))],
        help_text="The lowest-numbered unit occupied by the device",
    )
    face = models.CharField(max_length=50, choices=DeviceFaceChoices.CHOICES, blank=True)
    status = models.CharField(
        max_length=50, choices=DeviceStatusChoices.CHOICES, default=DeviceStatusChoices.STATUS_ACTIVE
    )
    primary_ip4 = models.OneToOneField(
        "inventory.IPAddress",
        on_delete=models.SET_NULL,
        related_name="primary_ip4_for",
        blank=True,
        null=True,
        verbose_name="primary IPv4",
    )
    primary_ip6 = models.OneToOneField(
        "inventory.IPAddress",
        on_delete=models.SET_NULL,
        related_name="primary_ip6_for",
        blank=True,
        null=True,
        verbose_name="primary IPv6",
    )
    snmp_profile = models.ForeignKey(
        "inventory.SnmpProfile", on_delete=models.PROTECT, related_name="devices", blank=True, null=True
    )
    collector_group = models.ForeignKey(
        "inventory.CollectorGroup", on_delete=models.PROTECT, related_name="devices", blank=True, null=True
    )
    oob_ip = models.OneToOneField(
        "inventory.IPAddress",
        on_delete=models.SET_NULL,
        related_name="oob_ip_for",
        blank=True,
        null=True,
        verbose_name="out-of-band IP",
    )
    monitored = models.BooleanField(default=False, help_text="Poll this device over SNMP")
    poll_interval = models.PositiveIntegerField(
        blank=True,
        null=True,
        validators=list(POLL_INTERVAL_VALIDATORS),
        help_text="Seconds between polls; empty uses the collector group's interval",
    )
    tags = models.ManyToManyField("inventory.Tag", blank=True, related_name="devices")

    objects = DeviceQuerySet.as_manager()

    constraint_error_fields: ClassVar = {
        "dcim_device_unique_name_site_tenant": "name",
        "dcim_device_unique_name_site_no_tenant": "name",
    }

    class Meta:
        ordering = ("name", "pk")
        constraints = (
            models.UniqueConstraint(
                Lower("name"),
                "site",
                "tenant",
                name="dcim_device_unique_name_site_tenant",
                violation_error_message="A device with this name (case-insensitive) already exists at this "
                "site for this tenant.",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "site",
                condition=models.Q(tenant__isnull=True),
                name="dcim_device_unique_name_site_no_tenant",
                violation_error_message="A device with this name (case-insensitive) and no tenant already "
                "exists at this site.",
            ),
        )

    def __str__(self) -> str:
        return self.name

    # -- monitoring helpers

    @property
    def primary_ip(self):
        """The address collectors poll: the primary IPv4, else the primary IPv6."""
        return self.primary_ip4 or self.primary_ip6

    @property
    def effective_poll_interval(self) -> int:
        """Seconds between polls: the device's override, else its collector group's, else the default."""
        if self.poll_interval:
            return self.poll_interval
        if self.collector_group_id and self.collector_group.poll_interval:
            return self.collector_group.poll_interval
        return DEFAULT_POLL_INTERVAL

    @property
    def is_pollable(self) -> bool:
        return bool(
            self.monitored
            and self.status in POLLED_STATUSES
            and self.snmp_profile_id
            and self.collector_group_id
            and (self.primary_ip4_id or self.primary_ip6_id)
        )

    # -- validation

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.asset_tag == "":
            self.asset_tag = None
        self._clean_placement(errors)
        self._clean_primary_ips(errors)
        if self.monitored and not self.snmp_profile_id:
            errors.setdefault("snmp_profile", "A monitored device needs an SNMP profile.")
        if self.monitored and not self.collector_group_id:
            errors.setdefault("collector_group", "A monitored device needs a collector group.")
        if errors:
            raise ValidationError(errors)

    def _clean_placement(self, errors: dict[str, str]) -> None:
        if self.location_id and self.site_id and self.location.site_id != self.site_id:
            errors["location"] = (
                f"Location {self.location} belongs to site {self.location.site}, not {self.site}."
            )
        if self.rack_id:
            if self.site_id and self.rack.site_id != self.site_id:
                errors["rack"] = f"Rack {self.rack} belongs to site {self.rack.site}, not {self.site}."
            elif self.location_id and self.rack.location_id and self.rack.location_id != self.location_id:
                errors["rack"] = f"Rack {self.rack} is in location {self.rack.location}, not {self.location}."
        if self.position is not None:
            if not self.rack_id:
                errors["position"] = "A position requires a rack."
            elif not self.face:
                errors["face"] = "A rack position requires a face (front or rear)."
            else:
                self._clean_rack_units(errors)
        elif self.face and not self.rack_id:
            errors["face"] = "A face requires a rack."

    def _clean_rack_units(self, errors: dict[str, str]) -> None:
        rack = self.rack
        height = self.device_type.u_height if self.device_type_id else Decimal("1")
        top = self.position + max(height, Decimal("1"))
        if self.position < rack.starting_unit or top > rack.starting_unit + rack.u_height:
            errors["position"] = (
                f"U{self.position} with height {height}U does not fit rack {rack} "
                f"(U{rack.starting_unit}-U{rack.starting_unit + rack.u_height - 1})."
            )
            return
        others = rack.devices.filter(position__isnull=False).exclude(pk=self.pk).select_related("device_type")
        full_depth = self.device_type.is_full_depth if self.device_type_id else True
        for other in others:
            if not (full_depth or other.device_type.is_full_depth or other.face == self.face):
                continue
            other_top = other.position + max(other.device_type.u_height, Decimal("1"))
            if self.position < other_top and other.position < top:
                errors["position"] = f"U{self.position} is already occupied by {other} in rack {rack}."
                return

    def _clean_primary_ips(self, errors: dict[str, str]) -> None:
        for field, family in (("primary_ip4", 4), ("primary_ip6", 6)):
            ip = getattr(self, field)
            if ip is None:
                continue
            if ip.family != family:
                errors[field] = f"{ip} is not an IPv{family} address."
            elif self.pk is None or ip.assigned_object_id is None or ip.assigned_object.device_id != self.pk:
                errors[field] = f"{ip} is not assigned to an interface of this device."


class Interface(PrimaryModel):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="interfaces")
    name = models.CharField(max_length=64)
    _name = models.CharField(
        max_length=NATURAL_KEY_LENGTH, editable=False, default="", help_text="Natural sort key of the name"
    )
    label = models.CharField(max_length=64, blank=True)
    type = models.CharField(max_length=50, choices=InterfaceTypeChoices.CHOICES)
    lag = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        related_name="member_interfaces",
        blank=True,
        null=True,
        verbose_name="parent LAG",
    )
    mode = models.CharField(
        max_length=50, choices=InterfaceModeChoices.CHOICES, blank=True, verbose_name="802.1Q mode"
    )
    vrf = models.ForeignKey(
        "inventory.VRF",
        on_delete=models.SET_NULL,
        related_name="interfaces",
        blank=True,
        null=True,
        verbose_name="VRF",
    )
    enabled = models.BooleanField(default=True)
    mgmt_only = models.BooleanField(default=False, verbose_name="management only")
    mark_connected = models.BooleanField(
        default=False, help_text="Treat as if a cable is connected: expected up when enabled (NetBox)"
    )
    speed = models.PositiveBigIntegerField(blank=True, null=True, verbose_name="speed (Kbps)")
    mtu = models.PositiveIntegerField(
        blank=True, null=True, validators=[MinValueValidator(1), MaxValueValidator(65536)], verbose_name="MTU"
    )
    mac_address = models.CharField(
        max_length=17, blank=True, validators=[validate_mac], verbose_name="MAC address"
    )
    tags = models.ManyToManyField("inventory.Tag", blank=True, related_name="interfaces")

    constraint_error_fields: ClassVar = {"dcim_interface_unique_device_name": "name"}

    class Meta:
        ordering = ("device", "_name", "pk")
        indexes = (models.Index(fields=("device", "_name", "id"), name="dcim_interface_natural_order"),)
        constraints = (
            models.UniqueConstraint(
                fields=("device", "name"),
                name="dcim_interface_unique_device_name",
                violation_error_message="This device already has an interface with this name.",
            ),
        )

    def __str__(self) -> str:
        return self.name

    def changelog_parent(self):
        return self.device

    def clean(self) -> None:
        super().clean()
        if self.mac_address and MAC_RE.match(self.mac_address):
            self.mac_address = normalize_mac(self.mac_address)
        if self.lag_id is not None:
            if self.lag_id == self.pk:
                raise ValidationError({"lag": "An interface cannot be its own LAG."})
            if self.lag.device_id != self.device_id:
                raise ValidationError({"lag": f"LAG {self.lag} belongs to another device."})
            if self.lag.type != "lag":
                raise ValidationError({"lag": f"{self.lag} is not a LAG interface (type lag)."})

    @property
    def cable(self):
        """The cable ending on this interface (either end), or None."""
        for end in ("cable_a", "cable_b"):
            try:
                return getattr(self, end)
            except ObjectDoesNotExist:
                continue
        return None

    @property
    def link_peer(self) -> Interface | None:
        """The interface at the far end of this interface's cable, or None."""
        cable = self.cable
        return cable.far_end(self.pk) if cable is not None else None

    @property
    def is_connected(self) -> bool:
        """Expected up when enabled: cabled, or marked connected (what InterfaceDown alerts on)."""
        return self.mark_connected or self.cable is not None

    def set_stored_values(self) -> None:
        """The natural sort key of ``name`` (bulk writers call this instead of ``save()``)."""
        self._name = natural_key(self.name or "")

    def save(self, *args, **kwargs):
        self.set_stored_values()
        super().save(*args, **kwargs)
