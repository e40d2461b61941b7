"""Discovery (issue 15): prefix sweeps run by a group's collector, the proposals they produce, and the
sysObjectID mapping that names what answered.

A :class:`DiscoveryJob` and its :class:`DiscoveryProposal` rows are operational state (like ``Job`` and
``DriftItem``), written by ``inventory.services.discovery``, not change-logged; approving a proposal creates
the device, interfaces and address through the services, which log them. :class:`SysObjectIdMapping` is
documentation (editable, change-logged).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from inventory.choices import ChoiceSet
from inventory.models.base import ChangeLoggedModel
from inventory.models.drift import validate_oid_prefix

MAX_ADDRESSES = 65_536
"""A prefix with more addresses than a /16 is refused unless the job is forced."""


class DiscoveryJobStatusChoices(ChoiceSet):
    STATUS_PENDING = "pending"
    STATUS_RUNNING = "running"
    STATUS_COMPLETED = "completed"
    STATUS_FAILED = "failed"
    STATUS_CANCELLED = "cancelled"

    CHOICES = [
        (STATUS_PENDING, "Pending"),
        (STATUS_RUNNING, "Running"),
        (STATUS_COMPLETED, "Completed"),
        (STATUS_FAILED, "Failed"),
        (STATUS_CANCELLED, "Cancelled"),
    ]
    COLORS = {
        STATUS_PENDING: "9e9e9e",
        STATUS_RUNNING: "2196f3",
        STATUS_COMPLETED: "4caf50",
        STATUS_FAILED: "f44336",
        STATUS_CANCELLED: "795548",
    }
    OPEN = (STATUS_PENDING, STATUS_RUNNING)


class ProposalSourceChoices(ChoiceSet):
    SOURCE_SWEEP = "sweep"
    SOURCE_LLDP = "lldp"

    CHOICES = [(SOURCE_SWEEP, "Prefix sweep"), (SOURCE_LLDP, "LLDP neighbour")]
    COLORS = {SOURCE_SWEEP: "2196f3", SOURCE_LLDP: "9c27b0"}


class ProposalStatusChoices(ChoiceSet):
    STATUS_OPEN = "open"
    STATUS_APPROVED = "approved"
    STATUS_REJECTED = "rejected"
    STATUS_DOCUMENTED = "documented"

    CHOICES = [
        (STATUS_OPEN, "Open"),
        (STATUS_APPROVED, "Approved"),
        (STATUS_REJECTED, "Rejected"),
        (STATUS_DOCUMENTED, "Already documented"),
    ]
    COLORS = {
        STATUS_OPEN: "ff9800",
        STATUS_APPROVED: "4caf50",
        STATUS_REJECTED: "9e9e9e",
        STATUS_DOCUMENTED: "00bcd4",
    }


class MatchReasonChoices(ChoiceSet):
    REASON_SERIAL = "serial"
    REASON_NAME = "name"
    REASON_IP = "ip"

    CHOICES = [(REASON_SERIAL, "Serial number"), (REASON_NAME, "sysName"), (REASON_IP, "Documented IP")]


def default_rate() -> float:
    """``INFRASTRAND_DISCOVERY_RATE`` (requests per second per job, default 50)."""
    return float(settings.DISCOVERY_RATE)


def prefix_hosts_count(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> int:
    """How many addresses a sweep of ``network`` visits (contract 9): IPv4 shorter than /31 without the
    network and broadcast address; /31, /32 and IPv6 every address."""
    if network.version == 4 and network.prefixlen < 31:
        return network.num_addresses - 2
    return network.num_addresses


def parse_prefix(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """``value`` as a network (host bits must be zero); ValidationError naming what is wrong."""
    try:
        return ipaddress.ip_network(str(value).strip(), strict=True)
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not a network prefix such as 10.20.0.0/24 ({exc}).") from None


class DiscoveryJob(models.Model):
    """One prefix sweep: which addresses, with which credentials, by which collector group, and progress.

    ``done`` counts swept addresses in ascending order (the resume point when a lease expires);
    ``answered`` those that answered. ``site``/``role``/``tenant`` are the defaults offered on approval.
    """

    prefix = models.CharField(max_length=64, help_text="e.g. 10.20.0.0/24 (at most a /16 unless forced)")
    group = models.ForeignKey(
        "inventory.CollectorGroup",
        on_delete=models.PROTECT,
        related_name="discovery_jobs",
        verbose_name="collector group",
    )
    profiles = models.ManyToManyField(
        "inventory.SnmpProfile",
        through="inventory.DiscoveryJobProfile",
        related_name="discovery_jobs",
        help_text="Credentials to try, in order, on every address",
    )
    port = models.PositiveIntegerField(
        blank=True,
        null=True,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
        help_text="UDP port for every profile (empty: each profile's own)",
    )
    rate = models.FloatField(
        default=default_rate,
        validators=[MinValueValidator(0.1), MaxValueValidator(100_000)],
        help_text="Requests per second the collector may send for this job",
    )
    timeout = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.05), MaxValueValidator(60)],
        help_text="Seconds per request",
    )
    retries = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(5)])
    force = models.BooleanField(default=False, help_text="Allow a prefix larger than a /16")
    site = models.ForeignKey(
        "inventory.Site",
        on_delete=models.SET_NULL,
        related_name="+",
        blank=True,
        null=True,
        help_text="Default site for approved devices",
    )
    role = models.ForeignKey(
        "inventory.DeviceRole",
        on_delete=models.SET_NULL,
        related_name="+",
        blank=True,
        null=True,
        help_text="Default role for approved devices",
    )
    tenant = models.ForeignKey(
        "inventory.Tenant",
        on_delete=models.SET_NULL,
        related_name="+",
        blank=True,
        null=True,
        help_text="Default tenant for approved devices",
    )
    status = models.CharField(
        max_length=20,
        choices=DiscoveryJobStatusChoices.CHOICES,
        default=DiscoveryJobStatusChoices.STATUS_PENDING,
    )
    total = models.PositiveIntegerField(default=0, help_text="Addresses to sweep")
    done = models.PositiveIntegerField(default=0, help_text="Addresses swept (in ascending order)")
    answered = models.PositiveIntegerField(default=0, help_text="Addresses that answered")
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_expires = models.DateTimeField(blank=True, null=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(blank=True, null=True)
    finished = models.DateTimeField(blank=True, null=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+", blank=True, null=True
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("-created", "-pk")
        verbose_name = "sweep"
        indexes = (models.Index(fields=("group", "status"), name="discovery_job_group_status"),)

    def __str__(self) -> str:
        return f"Sweep {self.prefix}" if not self.pk else f"Sweep #{self.pk} {self.prefix}"

    @property
    def is_open(self) -> bool:
        return self.status in DiscoveryJobStatusChoices.OPEN

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == DiscoveryJobStatusChoices.STATUS_COMPLETED else 0
        return min(100, self.done * 100 // self.total)

    def ordered_profiles(self) -> list:
        """The profiles in the order they are tried."""
        links = sorted(self.profile_links.all(), key=lambda link: (link.position, link.pk))
        return [link.profile for link in links]

    def clean(self) -> None:
        super().clean()
        try:
            network = parse_prefix(self.prefix)
        except ValidationError as exc:
            raise ValidationError({"prefix": exc.messages}) from None
        self.prefix = str(network)
        count = prefix_hosts_count(network)
        if count > MAX_ADDRESSES and not self.force:
            raise ValidationError(
                {
                    "prefix": f"{self.prefix} has {count:,} addresses, more than a /16 ({MAX_ADDRESSES:,}): "
                    "split it, or set force to sweep it anyway."
                }
            )
        self.total = count


class DiscoveryJobProfile(models.Model):
    """A job's credential, at its position in the order they are tried."""

    job = models.ForeignKey(DiscoveryJob, on_delete=models.CASCADE, related_name="profile_links")
    profile = models.ForeignKey("inventory.SnmpProfile", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("job", "position", "pk")
        constraints = (
            models.UniqueConstraint(fields=("job", "profile"), name="discovery_job_profile_unique"),
        )

    def __str__(self) -> str:
        return f"{self.job_id}:{self.position}:{self.profile_id}"


class DiscoveryProposal(models.Model):
    """A device discovery saw: proposed for documentation, or recognised as already documented."""

    job = models.ForeignKey(
        DiscoveryJob, on_delete=models.SET_NULL, related_name="proposals", blank=True, null=True
    )
    source = models.CharField(
        max_length=10, choices=ProposalSourceChoices.CHOICES, default=ProposalSourceChoices.SOURCE_SWEEP
    )
    address = models.GenericIPAddressField(blank=True, null=True, help_text="The address that answered")
    name = models.CharField(max_length=255, blank=True, help_text="sysName (LLDP: the neighbour's)")
    facts = models.JSONField(default=dict, blank=True)
    interfaces = models.JSONField(default=list, blank=True)
    serial = models.CharField(max_length=50, blank=True)
    sys_object_id = models.CharField(max_length=200, blank=True, verbose_name="sysObjectID")
    chassis_id = models.CharField(max_length=100, blank=True, help_text="LLDP chassis ID")
    mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text="Names from the sysObjectID mapping: manufacturer, platform, device_type",
    )
    manufacturer = models.ForeignKey(
        "inventory.Manufacturer", on_delete=models.SET_NULL, related_name="+", blank=True, null=True
    )
    platform = models.ForeignKey(
        "inventory.Platform", on_delete=models.SET_NULL, related_name="+", blank=True, null=True
    )
    device_type = models.ForeignKey(
        "inventory.DeviceType", on_delete=models.SET_NULL, related_name="+", blank=True, null=True
    )
    profile = models.ForeignKey(
        "inventory.SnmpProfile",
        on_delete=models.SET_NULL,
        related_name="+",
        blank=True,
        null=True,
        help_text="The SNMP profile that answered",
    )
    group = models.ForeignKey(
        "inventory.CollectorGroup",
        on_delete=models.SET_NULL,
        related_name="+",
        blank=True,
        null=True,
        help_text="The collector group that saw it",
    )
    seen_from = models.ForeignKey(
        "inventory.Device",
        on_delete=models.SET_NULL,
        related_name="+",
        blank=True,
        null=True,
        help_text="LLDP: the documented device that reported this neighbour",
    )
    matched_device = models.ForeignKey(
        "inventory.Device",
        on_delete=models.SET_NULL,
        related_name="discovery_matches",
        blank=True,
        null=True,
    )
    match_reason = models.CharField(max_length=10, choices=MatchReasonChoices.CHOICES, blank=True)
    contradictions = models.JSONField(
        default=list, blank=True, help_text="Where the observation disagrees with the matched device"
    )
    status = models.CharField(
        max_length=20, choices=ProposalStatusChoices.CHOICES, default=ProposalStatusChoices.STATUS_OPEN
    )
    device = models.ForeignKey(
        "inventory.Device",
        on_delete=models.SET_NULL,
        related_name="discovery_proposals",
        blank=True,
        null=True,
        help_text="The device created on approval",
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(blank=True, null=True)

    class Meta:
        ordering = ("-last_seen", "-pk")
        verbose_name = "discovery proposal"
        indexes = (
            models.Index(fields=("status", "address"), name="discovery_prop_status_addr"),
            models.Index(fields=("source", "chassis_id"), name="discovery_prop_source_chassis"),
        )

    def __str__(self) -> str:
        return self.name or self.address or self.chassis_id or f"proposal {self.pk}"


class SysObjectIdMapping(ChangeLoggedModel):
    """What a sysObjectID says: manufacturer, platform and device type, by name (the longest matching
    prefix wins). Names, not references: the shipped data creates no documentation objects; approving a
    proposal finds them by name or slug and creates the missing ones through the services."""

    prefix = models.CharField(
        max_length=200,
        unique=True,
        validators=[validate_oid_prefix],
        verbose_name="sysObjectID prefix",
        help_text="e.g. 1.3.6.1.4.1.9.1.1208 (matches that OID and everything below it)",
    )
    manufacturer = models.CharField(max_length=100, help_text="Manufacturer name, e.g. Cisco")
    platform = models.CharField(max_length=100, blank=True, help_text="Platform name, e.g. IOS-XE")
    device_type = models.CharField(
        max_length=100, blank=True, help_text="Device type model name, e.g. WS-C2960X-48FPD-L"
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("prefix",)
        verbose_name = "sysObjectID mapping"

    def __str__(self) -> str:
        return self.prefix

    def clean(self) -> None:
        super().clean()
        self.prefix = self.prefix.strip().strip(".")
        self.manufacturer = self.manufacturer.strip()
        if not self.manufacturer:
            raise ValidationError({"manufacturer": "Give the manufacturer's name."})

    def matches(self, oid: str) -> bool:
        oid = oid.strip().strip(".")
        return oid == self.prefix or oid.startswith(self.prefix + ".")


def longest_mapping(oid: str, mappings: list[SysObjectIdMapping]) -> SysObjectIdMapping | None:
    """The mapping with the longest prefix matching ``oid`` (by arcs), or None."""
    best = None
    for mapping in mappings:
        if mapping.matches(oid) and (best is None or mapping.prefix.count(".") > best.prefix.count(".")):
            best = mapping
    return best
