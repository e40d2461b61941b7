"""IPAM: prefixes and IP addresses (with mask, as strings validated by :mod:`ipaddress`)."""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.db import models

from inventory.choices import IPAddressRoleChoices, IPAddressStatusChoices, PrefixStatusChoices
from inventory.models.base import PrimaryModel
from inventory.models.sortkeys import HOST_KEY_LENGTH, host_key, network_keys


def _refuse_zone(text: str, value: object) -> None:
    """An IPv6 zone id (``fe80::1%eth0``) names an interface of one host: the inventory cannot keep it
    (``ipaddress`` would drop it silently), so it is an error rather than a different address."""
    if "%" in text:
        raise ValidationError(
            f"{value!r} has an IPv6 zone id (the part after %); give the address without it "
            "and assign it to the interface instead."
        )


def parse_prefix(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    _refuse_zone(str(value), value)
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not an IP prefix (e.g. 10.20.0.0/16 or 2001:db8::/32).") from exc


def parse_address(value: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    text = str(value).strip()
    _refuse_zone(text, value)
    if "/" not in text:
        raise ValidationError(f"{value!r} needs a mask length (e.g. 10.20.0.1/24 or 2001:db8::1/64).")
    try:
        return ipaddress.ip_interface(text)
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not an IP address with mask (e.g. 10.20.0.1/24).") from exc


class VRF(PrimaryModel):
    """A routing table (NetBox's VRF): prefixes and addresses in different VRFs may overlap."""

    name = models.CharField(max_length=100)
    rd = models.CharField(
        max_length=21,
        unique=True,
        blank=True,
        null=True,
        verbose_name="route distinguisher",
        help_text="Unique route distinguisher (RFC 4364), e.g. 65000:1",
    )
    tenant = models.ForeignKey(
        "inventory.Tenant", on_delete=models.PROTECT, related_name="vrfs", blank=True, null=True
    )
    enforce_unique = models.BooleanField(default=True, verbose_name="enforce unique space")
    tags = models.ManyToManyField("inventory.Tag", blank=True, related_name="vrfs")

    class Meta:
        ordering = ("name", "rd", "pk")
        verbose_name = "VRF"
        verbose_name_plural = "VRFs"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.rd == "":
            self.rd = None


class Prefix(PrimaryModel):
    prefix = models.CharField(max_length=43, help_text="IPv4 or IPv6 network with mask, e.g. 10.20.0.0/16")
    family = models.PositiveSmallIntegerField(editable=False, default=4)
    vrf = models.ForeignKey(
        VRF, on_delete=models.PROTECT, related_name="prefixes", blank=True, null=True, verbose_name="VRF"
    )
    start_key = models.CharField(max_length=HOST_KEY_LENGTH, editable=False, default="")
    end_key = models.CharField(max_length=HOST_KEY_LENGTH, editable=False, default="")
    prefix_length = models.PositiveSmallIntegerField(editable=False, default=0)
    site = models.ForeignKey(
        "inventory.Site", on_delete=models.PROTECT, related_name="prefixes", blank=True, null=True
    )
    tenant = models.ForeignKey(
        "inventory.Tenant", on_delete=models.PROTECT, related_name="prefixes", blank=True, null=True
    )
    status = models.CharField(
        max_length=50, choices=PrefixStatusChoices.CHOICES, default=PrefixStatusChoices.STATUS_ACTIVE
    )
    is_pool = models.BooleanField(default=False, verbose_name="is a pool")
    tags = models.ManyToManyField("inventory.Tag", blank=True, related_name="prefixes")

    class Meta:
        ordering = ("family", "start_key", "prefix_length", "pk")
        verbose_name_plural = "prefixes"
        indexes = (
            models.Index(
                fields=("family", "start_key", "prefix_length", "id"), name="ipam_prefix_value_order"
            ),
        )

    def __str__(self) -> str:
        return self.prefix

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.prefix)

    def clean(self) -> None:
        super().clean()
        if not self.prefix:
            return
        try:
            network = parse_prefix(self.prefix)
        except ValidationError as exc:
            raise ValidationError({"prefix": exc.messages}) from exc
        self.prefix, self.family = str(network), network.version
        if Prefix.objects.filter(prefix=self.prefix, vrf=self.vrf_id).exclude(pk=self.pk).exists():
            where = f" in VRF {self.vrf}" if self.vrf_id else ""
            raise ValidationError({"prefix": f"Prefix {self.prefix} already exists{where}."})

    def set_value_keys(self) -> None:
        """Normalise ``prefix`` and fill the stored family and sort/range keys from it."""
        network = ipaddress.ip_network(self.prefix, strict=False)
        self.prefix, self.family, self.prefix_length = str(network), network.version, network.prefixlen
        self.start_key, self.end_key = network_keys(network)

    def set_stored_values(self) -> None:
        """What ``save()`` derives before writing (bulk writers call it instead of ``save()``)."""
        if self.prefix:
            self.set_value_keys()

    def save(self, *args, **kwargs):
        self.set_stored_values()
        super().save(*args, **kwargs)


class IPAddress(PrimaryModel):
    address = models.CharField(
        max_length=49, help_text="IPv4 or IPv6 address with mask, e.g. 10.20.0.1/24 or 2001:db8::1/64"
    )
    family = models.PositiveSmallIntegerField(editable=False, default=4)
    host_key = models.CharField(max_length=HOST_KEY_LENGTH, editable=False, default="")
    mask_length = models.PositiveSmallIntegerField(editable=False, default=0)
    vrf = models.ForeignKey(
        VRF, on_delete=models.PROTECT, related_name="ip_addresses", blank=True, null=True, verbose_name="VRF"
    )
    status = models.CharField(
        max_length=50, choices=IPAddressStatusChoices.CHOICES, default=IPAddressStatusChoices.STATUS_ACTIVE
    )
    role = models.CharField(max_length=50, choices=IPAddressRoleChoices.CHOICES, blank=True)
    tenant = models.ForeignKey(
        "inventory.Tenant", on_delete=models.PROTECT, related_name="ip_addresses", blank=True, null=True
    )
    assigned_object = models.ForeignKey(
        "inventory.Interface",
        on_delete=models.CASCADE,
        related_name="ip_addresses",
        blank=True,
        null=True,
        verbose_name="assigned interface",
        help_text="The interface this address is configured on (NetBox: assigned_object, a dcim.interface)",
    )
    dns_name = models.CharField(
        max_length=255,
        blank=True,
        verbose_name="DNS name",
        help_text="Hostname or FQDN (not case-sensitive)",
    )
    tags = models.ManyToManyField("inventory.Tag", blank=True, related_name="ip_addresses")

    class Meta:
        ordering = ("family", "host_key", "mask_length", "pk")
        indexes = (
            models.Index(
                fields=("family", "host_key", "mask_length", "id"), name="ipam_ipaddress_value_order"
            ),
        )
        verbose_name = "IP address"
        verbose_name_plural = "IP addresses"

    def __str__(self) -> str:
        return self.address

    @property
    def interface(self) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
        return ipaddress.ip_interface(self.address)

    @property
    def host(self) -> str:
        """The address without its mask, e.g. ``10.20.0.1``."""
        return str(self.interface.ip)

    def changelog_parent(self):
        return self.assigned_object

    def clean(self) -> None:
        super().clean()
        if not self.address:
            return
        try:
            value = parse_address(self.address)
        except ValidationError as exc:
            raise ValidationError({"address": exc.messages}) from exc
        self.address, self.family = value.with_prefixlen, value.version
        self.dns_name = self.dns_name.strip().lower()
        unique_space = self.vrf_id is None or self.vrf.enforce_unique
        duplicates = unique_space and list(
            IPAddress.objects.filter(
                family=value.version, host_key=host_key(value.ip), vrf=self.vrf_id
            ).exclude(pk=self.pk)
        )
        shared = IPAddressRoleChoices.SHARED_ROLES
        if duplicates and (self.role not in shared or any(ip.role not in shared for ip in duplicates)):
            raise ValidationError(
                {"address": f"Address {value.ip} already exists (only {', '.join(shared)} may repeat)."}
            )
        if self.pk is not None:
            self._clean_primary_reassignment()

    def _clean_primary_reassignment(self) -> None:
        """A device's primary IP cannot move away from that device's interfaces."""
        for related in ("primary_ip4_for", "primary_ip6_for"):
            device = getattr(self, related, None) if self.pk else None
            if device is None:
                continue
            on_device = self.assigned_object_id and self.assigned_object.device_id == device.pk
            if not on_device:
                raise ValidationError(
                    {
                        "assigned_object": f"{self.address} is the primary IP of {device}; "
                        "unset it there before moving or unassigning it."
                    }
                )

    def set_value_keys(self) -> None:
        """Normalise ``address`` and fill the stored family and sort keys from it."""
        value = ipaddress.ip_interface(self.address)
        self.address, self.family = value.with_prefixlen, value.version
        self.host_key, self.mask_length = host_key(value.ip), value.network.prefixlen

    def set_stored_values(self) -> None:
        """What ``save()`` derives before writing (bulk writers call it instead of ``save()``)."""
        if self.address:
            self.set_value_keys()

    def save(self, *args, **kwargs):
        self.set_stored_values()
        super().save(*args, **kwargs)
