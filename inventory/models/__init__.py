"""The inventory's models, one module per area (NetBox layout)."""

from inventory.models.changelog import ObjectChange
from inventory.models.dcim import (
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    Location,
    Manufacturer,
    Platform,
    Rack,
    Region,
    Site,
)
from inventory.models.extras import Tag
from inventory.models.ipam import IPAddress, Prefix
from inventory.models.monitoring import CollectorGroup, DeviceObservation, SnmpProfile
from inventory.models.tenancy import Contact, ContactAssignment, ContactRole, Tenant, TenantGroup
from inventory.models.users import CredentialFetch, Token

__all__ = [
    "CollectorGroup",
    "Contact",
    "ContactAssignment",
    "ContactRole",
    "CredentialFetch",
    "Device",
    "DeviceObservation",
    "DeviceRole",
    "DeviceType",
    "IPAddress",
    "Interface",
    "Location",
    "Manufacturer",
    "ObjectChange",
    "Platform",
    "Prefix",
    "Rack",
    "Region",
    "Site",
    "SnmpProfile",
    "Tag",
    "Tenant",
    "TenantGroup",
    "Token",
]
