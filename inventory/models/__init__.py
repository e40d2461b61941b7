"""The inventory's models, one module per area (NetBox layout)."""

from inventory.models.cables import Cable
from inventory.models.changelog import ObjectChange
from inventory.models.customfields import CustomField
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
from inventory.models.discovery import (
    DiscoveryJob,
    DiscoveryJobProfile,
    DiscoveryProposal,
    SysObjectIdMapping,
)
from inventory.models.drift import DriftItem, PlatformMapping
from inventory.models.events import AlertRecord, Event
from inventory.models.extras import Tag
from inventory.models.ipam import VRF, IPAddress, Prefix
from inventory.models.jobs import Job
from inventory.models.journal import JournalEntry
from inventory.models.membership import CollectorMember
from inventory.models.monitoring import CollectorGroup, DeviceObservation, SnmpProfile
from inventory.models.slo import MaintenanceWindow, ServiceLevelObjective
from inventory.models.templates import InterfaceTemplate
from inventory.models.tenancy import Contact, ContactAssignment, ContactRole, Tenant, TenantGroup
from inventory.models.users import CredentialFetch, Token, UserConfig

__all__ = [
    "VRF",
    "AlertRecord",
    "Cable",
    "CollectorGroup",
    "CollectorMember",
    "Contact",
    "ContactAssignment",
    "ContactRole",
    "CredentialFetch",
    "CustomField",
    "Device",
    "DeviceObservation",
    "DeviceRole",
    "DeviceType",
    "DiscoveryJob",
    "DiscoveryJobProfile",
    "DiscoveryProposal",
    "DriftItem",
    "Event",
    "IPAddress",
    "Interface",
    "InterfaceTemplate",
    "Job",
    "JournalEntry",
    "Location",
    "MaintenanceWindow",
    "Manufacturer",
    "ObjectChange",
    "Platform",
    "PlatformMapping",
    "Prefix",
    "Rack",
    "Region",
    "ServiceLevelObjective",
    "Site",
    "SnmpProfile",
    "SysObjectIdMapping",
    "Tag",
    "Tenant",
    "TenantGroup",
    "Token",
    "UserConfig",
]
