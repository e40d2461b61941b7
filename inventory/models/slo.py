"""Availability objectives (SLOs) and planned maintenance windows.

Both name what they cover by a *scope* and a *scope value*, spelt as the labels of
``infrastrand_device_up``: a device name, a site slug, an ISO country code, a strand, a tenant
(agency) slug or a device role slug.  The inventory's /metrics exports them
(``infrastrand_slo_objective_ratio``, ``infrastrand_maintenance_active``) and the availability
rules in deploy/prometheus/rules/availability.yml read them there.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from inventory.choices import StrandChoices
from inventory.fields import choice_list_contains
from inventory.models.base import ChangeLoggedModel


class SloScope:
    """What an objective or a maintenance window covers (the label of ``infrastrand_device_up``)."""

    DEVICE = "device"
    SITE = "site"
    COUNTRY = "country"
    STRAND = "strand"
    TENANT = "tenant"
    ROLE = "role"

    OBJECTIVE_CHOICES = (
        (SITE, "Site"),
        (COUNTRY, "Country"),
        (STRAND, "Strand"),
        (TENANT, "Agency (tenant)"),
        (ROLE, "Device role"),
    )
    MAINTENANCE_CHOICES = ((DEVICE, "Device"), *OBJECTIVE_CHOICES)


def devices_in_scope(scope: str, value: str) -> Q:
    """The devices a scope value covers, as a filter on Device."""
    return {
        SloScope.DEVICE: Q(name=value),
        SloScope.SITE: Q(site__slug=value),
        SloScope.COUNTRY: Q(site__country=value),
        SloScope.STRAND: choice_list_contains("site__strands", value),
        SloScope.TENANT: Q(tenant__slug=value),
        SloScope.ROLE: Q(role__slug=value),
    }[scope]


def validate_scope_value(scope: str, value: str) -> None:
    """The scope value names something the inventory holds (error on ``scope_value``)."""
    from inventory.models import Device, DeviceRole, Site, Tenant

    exists = {
        SloScope.DEVICE: lambda: Device.objects.filter(name=value).exists(),
        SloScope.SITE: lambda: Site.objects.filter(slug=value).exists(),
        SloScope.COUNTRY: lambda: len(value) == 2 and value.isalpha() and value.isupper(),
        SloScope.STRAND: lambda: value in StrandChoices.values(),
        SloScope.TENANT: lambda: Tenant.objects.filter(slug=value).exists(),
        SloScope.ROLE: lambda: DeviceRole.objects.filter(slug=value).exists(),
    }.get(scope)
    if exists is not None and not exists():
        raise ValidationError({"scope_value": f"No {scope} {value!r} in the inventory."})


class ServiceLevelObjective(ChangeLoggedModel):
    """An availability objective over a calendar month, e.g. 99.5 % for the strand "infrastructure"."""

    WINDOW_MONTHLY = "monthly"

    name = models.CharField(max_length=100, unique=True)
    target_percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("50")), MaxValueValidator(Decimal("99.999"))],
        help_text="Share of the month the scope must be available, e.g. 99.5",
    )
    scope = models.CharField(max_length=10, choices=SloScope.OBJECTIVE_CHOICES)
    scope_value = models.CharField(
        max_length=100, help_text="Site slug, ISO country code, strand, tenant slug or role slug"
    )
    window = models.CharField(
        max_length=10, choices=((WINDOW_MONTHLY, "Calendar month"),), default=WINDOW_MONTHLY
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name = "service level objective"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.scope and self.scope_value:
            validate_scope_value(self.scope, self.scope_value)

    @property
    def target_ratio(self) -> float:
        return float(self.target_percent) / 100


class MaintenanceWindow(ChangeLoggedModel):
    """Planned work: the devices in scope are not counted as unavailable between start and end."""

    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200)
    scope = models.CharField(max_length=10, choices=SloScope.MAINTENANCE_CHOICES)
    scope_value = models.CharField(
        max_length=100,
        help_text="Device name, site slug, ISO country code, strand, tenant slug or role slug",
    )

    class Meta:
        ordering = ("start", "pk")
        indexes = (models.Index(fields=("end", "start")),)

    def __str__(self) -> str:
        return self.reason

    def clean(self) -> None:
        super().clean()
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The end must be after the start."})
        if self.scope and self.scope_value:
            validate_scope_value(self.scope, self.scope_value)
