"""Monitoring: SNMP credentials and settings, collector groups, and the latest observation per device."""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from collectors.snmp.usm import master_key
from inventory.choices import (
    SnmpAuthProtocolChoices,
    SnmpModuleChoices,
    SnmpPrivProtocolChoices,
    SnmpVersionChoices,
)
from inventory.fields import EncryptedTextField
from inventory.models.base import ChangeLoggedModel
from inventory.models.dcim import DEFAULT_POLL_INTERVAL, POLL_INTERVAL_VALIDATORS

V3_KEY_MIN_LENGTH = 8
"""RFC 3414: USM passphrases are at least 8 characters."""

HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9-]{1,63})*$"
)


def default_modules() -> list[str]:
    return list(SnmpModuleChoices.DEFAULT)


def validate_modules(value) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError('Give a list of module names, e.g. ["system", "if_mib"].')
    if not value:
        raise ValidationError("Give at least one module.")
    unknown = [item for item in value if item not in SnmpModuleChoices.values()]
    if unknown:
        raise ValidationError(
            f"Unknown module(s): {', '.join(unknown)}. Known: {', '.join(SnmpModuleChoices.values())}."
        )
    if len(set(value)) != len(value):
        raise ValidationError("A module is listed twice.")


def split_host_port(value: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` → (host, port); raises ValidationError if malformed."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]]+):(\d{1,5})", value.strip())
    if not match:
        raise ValidationError(f"{value!r} is not host:port (e.g. 127.0.0.1:9781 or [::1]:9781).")
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if not 1 <= port <= 65535:
        raise ValidationError(f"Port {port} is out of range 1-65535.")
    if match.group(1):
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise ValidationError(f"{host!r} is not an IPv6 address.") from exc
    elif not HOSTNAME_RE.match(host):
        raise ValidationError(f"{host!r} is not a host name or IPv4 address.")
    return host, port


def validate_host_port(value: str) -> None:
    split_host_port(value)


MASTER_KEY_STATE = (
    "version",
    "auth_protocol",
    "auth_key",
    "priv_protocol",
    "priv_key",
    "auth_master_key",
    "priv_master_key",
)
"""The SnmpProfile fields its shipped master keys are derived from, and the keys themselves."""


class SnmpProfile(ChangeLoggedModel):
    """How to talk SNMP to a device: version, credentials (encrypted at rest), timing and MIB modules."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)
    version = models.CharField(
        max_length=2, choices=SnmpVersionChoices.CHOICES, default=SnmpVersionChoices.VERSION_2C
    )
    community = EncryptedTextField(help_text="SNMPv1/v2c community (stored encrypted)")
    username = models.CharField(max_length=64, blank=True, help_text="SNMPv3 user (security name)")
    auth_protocol = models.CharField(
        max_length=8, choices=SnmpAuthProtocolChoices.CHOICES, blank=True, help_text="Empty: noAuth"
    )
    auth_key = EncryptedTextField(help_text="SNMPv3 authentication passphrase (stored encrypted)")
    priv_protocol = models.CharField(
        max_length=10, choices=SnmpPrivProtocolChoices.CHOICES, blank=True, help_text="Empty: noPriv"
    )
    priv_key = EncryptedTextField(help_text="SNMPv3 privacy passphrase (stored encrypted)")
    context = models.CharField(max_length=64, blank=True, help_text="SNMPv3 context name")
    auth_master_key = EncryptedTextField(
        editable=False, help_text="RFC 3414 master key (Ku, hex) of the authentication passphrase (derived)"
    )
    priv_master_key = EncryptedTextField(
        editable=False, help_text="RFC 3414 master key (Ku, hex) of the privacy passphrase (derived)"
    )
    port = models.PositiveIntegerField(
        default=161, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    timeout = models.FloatField(
        default=5.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(60)],
        help_text="Seconds per request",
    )
    retries = models.PositiveSmallIntegerField(default=3, validators=[MaxValueValidator(10)])
    max_repetitions = models.PositiveSmallIntegerField(
        default=25, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    modules = models.JSONField(
        default=default_modules, validators=[validate_modules], help_text="MIB modules to poll, in order"
    )

    class Meta:
        ordering = ("name",)
        verbose_name = "SNMP profile"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if not instance.get_deferred_fields() & set(MASTER_KEY_STATE):  # else: derived again at save
            instance._master_key_source = instance._master_key_state()
        return instance

    def _master_key_state(self) -> tuple:
        return tuple(getattr(self, name) for name in MASTER_KEY_STATE)

    def derive_master_keys(self) -> None:
        """Set ``auth_master_key``/``priv_master_key`` (hex Ku, RFC 3414 A.2) from the passphrases and
        the auth protocol, which the master keys depend on; empty where there is no passphrase to use.

        The 1 MiB hash per passphrase (~0.6 ms) runs only when an input or a key differs from what was
        loaded or last derived (a key refreshed from another writer's row is derived again); collectors
        then take the keys from contract 1 instead of hashing at start.
        """
        if self._master_key_state() == getattr(self, "_master_key_source", None):
            return
        v3 = self.version == SnmpVersionChoices.VERSION_3 and self.auth_protocol
        self.auth_master_key = (
            master_key(self.auth_protocol, self.auth_key.encode()).hex() if v3 and self.auth_key else ""
        )
        self.priv_master_key = (
            master_key(self.auth_protocol, self.priv_key.encode()).hex()
            if v3 and self.priv_protocol and self.priv_key
            else ""
        )
        self._master_key_source = self._master_key_state()

    def save(self, *args, **kwargs) -> None:
        self.derive_master_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "auth_master_key", "priv_master_key"}
        super().save(*args, **kwargs)

    @property
    def security_level(self) -> str:
        """USM security level of a v3 profile: noAuthNoPriv, authNoPriv or authPriv."""
        if not self.auth_protocol:
            return "noAuthNoPriv"
        return "authPriv" if self.priv_protocol else "authNoPriv"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.version in (SnmpVersionChoices.VERSION_1, SnmpVersionChoices.VERSION_2C):
            if not self.community:
                errors["community"] = f"SNMPv{self.version} needs a community."
        elif self.version == SnmpVersionChoices.VERSION_3:
            if not self.username:
                errors["username"] = "SNMPv3 needs a user name."
            if self.auth_protocol and len(self.auth_key) < V3_KEY_MIN_LENGTH:
                errors["auth_key"] = (
                    f"An authentication key of at least {V3_KEY_MIN_LENGTH} characters is needed."
                )
            if not self.auth_protocol and self.auth_key:
                errors["auth_protocol"] = "Choose an authentication protocol for this key."
            if self.priv_protocol and not self.auth_protocol:
                errors["priv_protocol"] = "Privacy (authPriv) also needs an authentication protocol."
            if self.priv_protocol and len(self.priv_key) < V3_KEY_MIN_LENGTH:
                errors["priv_key"] = f"A privacy key of at least {V3_KEY_MIN_LENGTH} characters is needed."
            if not self.priv_protocol and self.priv_key:
                errors["priv_protocol"] = "Choose a privacy protocol for this key."
        if errors:
            raise ValidationError(errors)


class CollectorGroup(ChangeLoggedModel):
    """A poller group: the collectors (and their exporter) that poll the devices assigned to it."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)
    exporter_address = models.CharField(
        max_length=261,
        validators=[validate_host_port],
        help_text="host:port where Prometheus scrapes this group's collector, e.g. 127.0.0.1:9781",
    )
    poll_interval = models.PositiveIntegerField(
        default=DEFAULT_POLL_INTERVAL,
        validators=list(POLL_INTERVAL_VALIDATORS),
        help_text="Default seconds between polls for this group's devices",
    )

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class DeviceObservation(models.Model):
    """The latest poll a collector reported for a device (contract 2); operational state, not logged."""

    device = models.OneToOneField(
        "inventory.Device", on_delete=models.CASCADE, related_name="observation", primary_key=True
    )
    collector = models.CharField(max_length=100)
    polled_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now=True)
    up = models.BooleanField()
    answered_at = models.DateTimeField(
        blank=True, null=True, help_text="The last poll the device answered (empty: it never has)"
    )
    duration_seconds = models.FloatField(blank=True, null=True)
    error = models.TextField(blank=True)
    facts = models.JSONField(default=dict, blank=True)
    interfaces = models.JSONField(default=list, blank=True)
    lldp_neighbors = models.JSONField(
        default=list,
        blank=True,
        help_text="LLDP neighbours (local_port, chassis_id, sys_name, port_id, port_descr) when walked",
    )

    class Meta:
        ordering = ("device",)

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.polled_at:%Y-%m-%d %H:%M:%S}"
