"""Choice sets, NetBox style: one class per set, constants plus an ordered ``CHOICES`` list."""

from __future__ import annotations

from typing import ClassVar


class ChoiceSet:
    """A named set of ``(value, label)`` choices with optional per-value colors.

    Subclasses declare constants and ``CHOICES``; ``COLORS`` maps a value to a hex color.
    """

    CHOICES: ClassVar[list[tuple[str, str]]] = []
    COLORS: ClassVar[dict[str, str]] = {}

    @classmethod
    def values(cls) -> list[str]:
        return [value for value, _ in cls.CHOICES]

    @classmethod
    def label(cls, value: str) -> str | None:
        return dict(cls.CHOICES).get(value)

    @classmethod
    def color(cls, value: str) -> str:
        return cls.COLORS.get(value, "9e9e9e")


# -- dcim ------------------------------------------------------------------------------------------


class SiteStatusChoices(ChoiceSet):
    STATUS_PLANNED = "planned"
    STATUS_STAGING = "staging"
    STATUS_ACTIVE = "active"
    STATUS_DECOMMISSIONING = "decommissioning"
    STATUS_RETIRED = "retired"

    CHOICES: ClassVar = [
        (STATUS_PLANNED, "Planned"),
        (STATUS_STAGING, "Staging"),
        (STATUS_ACTIVE, "Active"),
        (STATUS_DECOMMISSIONING, "Decommissioning"),
        (STATUS_RETIRED, "Retired"),
    ]
    COLORS: ClassVar = {
        STATUS_PLANNED: "00bcd4",
        STATUS_STAGING: "2196f3",
        STATUS_ACTIVE: "4caf50",
        STATUS_DECOMMISSIONING: "ffc107",
        STATUS_RETIRED: "f44336",
    }


class LocationStatusChoices(SiteStatusChoices):
    """Locations share the site statuses (as in NetBox)."""


class StrandChoices(ChoiceSet):
    """The memorandum's strands a site serves."""

    STRAND_E_GOVERNMENT = "e-government"
    STRAND_DIGITAL_INCLUSION = "digital-inclusion"
    STRAND_INFRASTRUCTURE = "infrastructure"

    CHOICES: ClassVar = [
        (STRAND_E_GOVERNMENT, "E-government"),
        (STRAND_DIGITAL_INCLUSION, "Digital inclusion"),
        (STRAND_INFRASTRUCTURE, "Infrastructure"),
    ]


class RackStatusChoices(ChoiceSet):
    STATUS_RESERVED = "reserved"
    STATUS_AVAILABLE = "available"
    STATUS_PLANNED = "planned"
    STATUS_ACTIVE = "active"
    STATUS_DEPRECATED = "deprecated"

    CHOICES: ClassVar = [
        (STATUS_RESERVED, "Reserved"),
        (STATUS_AVAILABLE, "Available"),
        (STATUS_PLANNED, "Planned"),
        (STATUS_ACTIVE, "Active"),
        (STATUS_DEPRECATED, "Deprecated"),
    ]


class DeviceStatusChoices(ChoiceSet):
    STATUS_OFFLINE = "offline"
    STATUS_ACTIVE = "active"
    STATUS_PLANNED = "planned"
    STATUS_STAGED = "staged"
    STATUS_FAILED = "failed"
    STATUS_INVENTORY = "inventory"
    STATUS_DECOMMISSIONING = "decommissioning"

    CHOICES: ClassVar = [
        (STATUS_OFFLINE, "Offline"),
        (STATUS_ACTIVE, "Active"),
        (STATUS_PLANNED, "Planned"),
        (STATUS_STAGED, "Staged"),
        (STATUS_FAILED, "Failed"),
        (STATUS_INVENTORY, "Inventory"),
        (STATUS_DECOMMISSIONING, "Decommissioning"),
    ]
    COLORS: ClassVar = {
        STATUS_OFFLINE: "9e9e9e",
        STATUS_ACTIVE: "4caf50",
        STATUS_PLANNED: "00bcd4",
        STATUS_STAGED: "2196f3",
        STATUS_FAILED: "f44336",
        STATUS_INVENTORY: "9c27b0",
        STATUS_DECOMMISSIONING: "ffc107",
    }


class DeviceFaceChoices(ChoiceSet):
    FACE_FRONT = "front"
    FACE_REAR = "rear"

    CHOICES: ClassVar = [(FACE_FRONT, "Front"), (FACE_REAR, "Rear")]


class InterfaceModeChoices(ChoiceSet):
    """802.1Q mode of an interface (NetBox's ``mode``)."""

    MODE_ACCESS = "access"
    MODE_TAGGED = "tagged"
    MODE_TAGGED_ALL = "tagged-all"
    MODE_Q_IN_Q = "q-in-q"

    CHOICES: ClassVar = [
        (MODE_ACCESS, "Access"),
        (MODE_TAGGED, "Tagged"),
        (MODE_TAGGED_ALL, "Tagged (All)"),
        (MODE_Q_IN_Q, "Q-in-Q (802.1ad)"),
    ]


class InterfaceTypeChoices(ChoiceSet):
    """A subset of NetBox's interface types (same values)."""

    TYPE_VIRTUAL = "virtual"
    TYPE_BRIDGE = "bridge"
    TYPE_LAG = "lag"
    TYPE_100ME_FIXED = "100base-tx"
    TYPE_1GE_FIXED = "1000base-t"
    TYPE_1GE_SFP = "1000base-x-sfp"
    TYPE_10GE_FIXED = "10gbase-t"
    TYPE_10GE_SFP_PLUS = "10gbase-x-sfpp"
    TYPE_25GE_SFP28 = "25gbase-x-sfp28"
    TYPE_40GE_QSFP_PLUS = "40gbase-x-qsfpp"
    TYPE_100GE_QSFP28 = "100gbase-x-qsfp28"
    TYPE_OTHER = "other"

    CHOICES: ClassVar = [
        (TYPE_VIRTUAL, "Virtual"),
        (TYPE_BRIDGE, "Bridge"),
        (TYPE_LAG, "Link Aggregation Group (LAG)"),
        (TYPE_100ME_FIXED, "100BASE-TX (10/100ME)"),
        (TYPE_1GE_FIXED, "1000BASE-T (1GE)"),
        (TYPE_1GE_SFP, "SFP (1GE)"),
        (TYPE_10GE_FIXED, "10GBASE-T (10GE)"),
        (TYPE_10GE_SFP_PLUS, "SFP+ (10GE)"),
        (TYPE_25GE_SFP28, "SFP28 (25GE)"),
        (TYPE_40GE_QSFP_PLUS, "QSFP+ (40GE)"),
        (TYPE_100GE_QSFP28, "QSFP28 (100GE)"),
        (TYPE_OTHER, "Other"),
    ]


# -- ipam ------------------------------------------------------------------------------------------


class PrefixStatusChoices(ChoiceSet):
    STATUS_CONTAINER = "container"
    STATUS_ACTIVE = "active"
    STATUS_RESERVED = "reserved"
    STATUS_DEPRECATED = "deprecated"

    CHOICES: ClassVar = [
        (STATUS_CONTAINER, "Container"),
        (STATUS_ACTIVE, "Active"),
        (STATUS_RESERVED, "Reserved"),
        (STATUS_DEPRECATED, "Deprecated"),
    ]


class IPAddressStatusChoices(ChoiceSet):
    STATUS_ACTIVE = "active"
    STATUS_RESERVED = "reserved"
    STATUS_DEPRECATED = "deprecated"
    STATUS_DHCP = "dhcp"
    STATUS_SLAAC = "slaac"

    CHOICES: ClassVar = [
        (STATUS_ACTIVE, "Active"),
        (STATUS_RESERVED, "Reserved"),
        (STATUS_DEPRECATED, "Deprecated"),
        (STATUS_DHCP, "DHCP"),
        (STATUS_SLAAC, "SLAAC"),
    ]


class IPAddressRoleChoices(ChoiceSet):
    ROLE_LOOPBACK = "loopback"
    ROLE_SECONDARY = "secondary"
    ROLE_ANYCAST = "anycast"
    ROLE_VIP = "vip"
    ROLE_VRRP = "vrrp"
    ROLE_HSRP = "hsrp"
    ROLE_GLBP = "glbp"
    ROLE_CARP = "carp"

    CHOICES: ClassVar = [
        (ROLE_LOOPBACK, "Loopback"),
        (ROLE_SECONDARY, "Secondary"),
        (ROLE_ANYCAST, "Anycast"),
        (ROLE_VIP, "VIP"),
        (ROLE_VRRP, "VRRP"),
        (ROLE_HSRP, "HSRP"),
        (ROLE_GLBP, "GLBP"),
        (ROLE_CARP, "CARP"),
    ]

    #: Roles whose address may legitimately exist more than once (NetBox's global-uniqueness exemption).
    SHARED_ROLES: ClassVar = (ROLE_ANYCAST, ROLE_VIP, ROLE_VRRP, ROLE_HSRP, ROLE_GLBP, ROLE_CARP)


# -- tenancy ---------------------------------------------------------------------------------------


class ContactPriorityChoices(ChoiceSet):
    PRIORITY_PRIMARY = "primary"
    PRIORITY_SECONDARY = "secondary"
    PRIORITY_TERTIARY = "tertiary"
    PRIORITY_INACTIVE = "inactive"

    CHOICES: ClassVar = [
        (PRIORITY_PRIMARY, "Primary"),
        (PRIORITY_SECONDARY, "Secondary"),
        (PRIORITY_TERTIARY, "Tertiary"),
        (PRIORITY_INACTIVE, "Inactive"),
    ]


# -- monitoring ------------------------------------------------------------------------------------


class SnmpVersionChoices(ChoiceSet):
    VERSION_1 = "1"
    VERSION_2C = "2c"
    VERSION_3 = "3"

    CHOICES: ClassVar = [(VERSION_1, "SNMPv1"), (VERSION_2C, "SNMPv2c"), (VERSION_3, "SNMPv3")]


class SnmpAuthProtocolChoices(ChoiceSet):
    """SNMPv3 authentication protocols (empty value: noAuth)."""

    CHOICES: ClassVar = [
        ("MD5", "HMAC-MD5-96"),
        ("SHA", "HMAC-SHA-96"),
        ("SHA-224", "HMAC-SHA-224"),
        ("SHA-256", "HMAC-SHA-256"),
        ("SHA-384", "HMAC-SHA-384"),
        ("SHA-512", "HMAC-SHA-512"),
    ]


class SnmpPrivProtocolChoices(ChoiceSet):
    """SNMPv3 privacy protocols (empty value: noPriv)."""

    CHOICES: ClassVar = [
        ("DES", "CBC-DES"),
        ("AES-128", "CFB-AES-128"),
        ("AES-192", "CFB-AES-192"),
        ("AES-256", "CFB-AES-256"),
        ("AES-192-C", "CFB-AES-192 (Cisco key extension)"),
        ("AES-256-C", "CFB-AES-256 (Cisco key extension)"),
    ]


class SnmpModuleChoices(ChoiceSet):
    """MIB modules the collector knows (DEVELOPERS.md contract 4; data in collectors/modules/*.yaml)."""

    CHOICES: ClassVar = [
        ("system", "system (SNMPv2-MIB)"),
        ("if_mib", "if_mib (IF-MIB)"),
        ("host_resources", "host_resources (HOST-RESOURCES-MIB)"),
        ("ucd", "ucd (UCD-SNMP-MIB)"),
        ("entity", "entity (ENTITY-MIB)"),
        ("entity_sensor", "entity_sensor (ENTITY-SENSOR-MIB)"),
        ("ups_mib", "ups_mib (UPS-MIB)"),
        ("lldp", "lldp (LLDP-MIB)"),
        ("ip_mib", "ip_mib (IP-MIB ipAddrTable)"),
    ]

    DEFAULT: ClassVar = ["system", "if_mib"]


# -- extras --------------------------------------------------------------------------------------------


class JournalEntryKindChoices(ChoiceSet):
    KIND_INFO = "info"
    KIND_SUCCESS = "success"
    KIND_WARNING = "warning"
    KIND_DANGER = "danger"

    CHOICES: ClassVar = [
        (KIND_INFO, "Info"),
        (KIND_SUCCESS, "Success"),
        (KIND_WARNING, "Warning"),
        (KIND_DANGER, "Danger"),
    ]
    COLORS: ClassVar = {
        KIND_INFO: "00bcd4",
        KIND_SUCCESS: "4caf50",
        KIND_WARNING: "ffc107",
        KIND_DANGER: "f44336",
    }


class CustomFieldTypeChoices(ChoiceSet):
    """The value types of custom fields (a subset of NetBox's)."""

    TYPE_TEXT = "text"
    TYPE_LONGTEXT = "longtext"
    TYPE_INTEGER = "integer"
    TYPE_DECIMAL = "decimal"
    TYPE_BOOLEAN = "boolean"
    TYPE_DATE = "date"
    TYPE_URL = "url"
    TYPE_SELECT = "select"

    CHOICES: ClassVar = [
        (TYPE_TEXT, "Text"),
        (TYPE_LONGTEXT, "Text (long)"),
        (TYPE_INTEGER, "Integer"),
        (TYPE_DECIMAL, "Decimal"),
        (TYPE_BOOLEAN, "Boolean (true/false)"),
        (TYPE_DATE, "Date"),
        (TYPE_URL, "URL"),
        (TYPE_SELECT, "Selection"),
    ]


# -- change log ------------------------------------------------------------------------------------


class ObjectChangeActionChoices(ChoiceSet):
    ACTION_CREATE = "create"
    ACTION_UPDATE = "update"
    ACTION_DELETE = "delete"

    CHOICES: ClassVar = [(ACTION_CREATE, "Created"), (ACTION_UPDATE, "Updated"), (ACTION_DELETE, "Deleted")]
    COLORS: ClassVar = {ACTION_CREATE: "4caf50", ACTION_UPDATE: "2196f3", ACTION_DELETE: "f44336"}


# -- events and alerts -----------------------------------------------------------------------------


class EventSourceChoices(ChoiceSet):
    """Where an event of the event log comes from."""

    SOURCE_TRAP = "trap"
    SOURCE_POLL = "poll"
    SOURCE_ALERT = "alert"
    SOURCE_DRIFT = "drift"
    SOURCE_CHANGE = "change"

    CHOICES: ClassVar = [
        (SOURCE_TRAP, "SNMP trap"),
        (SOURCE_POLL, "Poll state change"),
        (SOURCE_ALERT, "Alert"),
        (SOURCE_DRIFT, "Drift"),
        (SOURCE_CHANGE, "Change"),
    ]
    COLORS: ClassVar = {
        SOURCE_TRAP: "9c27b0",
        SOURCE_POLL: "2196f3",
        SOURCE_ALERT: "f44336",
        SOURCE_DRIFT: "ff9800",
        SOURCE_CHANGE: "607d8b",
    }


class EventSeverityChoices(ChoiceSet):
    """Event severities (Alertmanager's usual ``severity`` label values)."""

    SEVERITY_INFO = "info"
    SEVERITY_WARNING = "warning"
    SEVERITY_CRITICAL = "critical"

    CHOICES: ClassVar = [
        (SEVERITY_INFO, "Info"),
        (SEVERITY_WARNING, "Warning"),
        (SEVERITY_CRITICAL, "Critical"),
    ]
    COLORS: ClassVar = {SEVERITY_INFO: "2196f3", SEVERITY_WARNING: "ffc107", SEVERITY_CRITICAL: "f44336"}


class AlertStatusChoices(ChoiceSet):
    """An Alertmanager alert's status."""

    STATUS_FIRING = "firing"
    STATUS_RESOLVED = "resolved"

    CHOICES: ClassVar = [(STATUS_FIRING, "Firing"), (STATUS_RESOLVED, "Resolved")]
    COLORS: ClassVar = {STATUS_FIRING: "f44336", STATUS_RESOLVED: "4caf50"}


# -- drift (documented vs observed) ----------------------------------------------------------------


class DriftKindChoices(ChoiceSet):
    """What a drift item compares: a device attribute, an interface attribute, or reachability."""

    KIND_SERIAL = "serial"
    KIND_MODEL = "model"
    KIND_NAME = "name"
    KIND_PLATFORM = "platform"
    KIND_INTERFACE_UNDOCUMENTED = "interface_undocumented"
    KIND_INTERFACE_UNOBSERVED = "interface_unobserved"
    KIND_INTERFACE_NAME = "interface_name"
    KIND_INTERFACE_SPEED = "interface_speed"
    KIND_INTERFACE_MAC = "interface_mac"
    KIND_INTERFACE_ENABLED = "interface_enabled"
    KIND_INTERFACE_DESCRIPTION = "interface_description"
    KIND_PRIMARY_IP = "primary_ip"
    KIND_NEVER_ANSWERED = "never_answered"
    KIND_CABLE_MISSING = "cable_missing"
    KIND_CABLE_MISMATCH = "cable_mismatch"
    KIND_NEIGHBOR_UNDOCUMENTED = "neighbor_undocumented"

    CHOICES: ClassVar = [
        (KIND_SERIAL, "Serial number"),
        (KIND_MODEL, "Model"),
        (KIND_NAME, "Name (sysName)"),
        (KIND_PLATFORM, "Platform"),
        (KIND_INTERFACE_UNDOCUMENTED, "Interface observed, not documented"),
        (KIND_INTERFACE_UNOBSERVED, "Interface documented, not observed"),
        (KIND_INTERFACE_NAME, "Interface name (ifName)"),
        (KIND_INTERFACE_SPEED, "Interface speed"),
        (KIND_INTERFACE_MAC, "Interface MAC address"),
        (KIND_INTERFACE_ENABLED, "Interface admin status"),
        (KIND_INTERFACE_DESCRIPTION, "Interface description (ifAlias)"),
        (KIND_PRIMARY_IP, "Primary IP vs polled address"),
        (KIND_NEVER_ANSWERED, "Monitored, never answered"),
        (KIND_CABLE_MISSING, "LLDP neighbour, no cable documented"),
        (KIND_CABLE_MISMATCH, "Cable contradicted by LLDP"),
        (KIND_NEIGHBOR_UNDOCUMENTED, "LLDP neighbour not documented"),
    ]


class DriftStateChoices(ChoiceSet):
    STATE_OPEN = "open"
    STATE_ACKNOWLEDGED = "acknowledged"
    STATE_RESOLVED = "resolved"

    CHOICES: ClassVar = [
        (STATE_OPEN, "Open"),
        (STATE_ACKNOWLEDGED, "Acknowledged"),
        (STATE_RESOLVED, "Resolved"),
    ]
    COLORS: ClassVar = {STATE_OPEN: "ff9800", STATE_ACKNOWLEDGED: "2196f3", STATE_RESOLVED: "4caf50"}


# -- cables ----------------------------------------------------------------------------------------


class CableStatusChoices(ChoiceSet):
    STATUS_CONNECTED = "connected"
    STATUS_PLANNED = "planned"
    STATUS_DECOMMISSIONING = "decommissioning"

    CHOICES: ClassVar = [
        (STATUS_CONNECTED, "Connected"),
        (STATUS_PLANNED, "Planned"),
        (STATUS_DECOMMISSIONING, "Decommissioning"),
    ]
    COLORS: ClassVar = {
        STATUS_CONNECTED: "4caf50",
        STATUS_PLANNED: "00bcd4",
        STATUS_DECOMMISSIONING: "ffc107",
    }


class CableTypeChoices(ChoiceSet):
    """NetBox's common cable types (a subset: copper, fibre, DAC, power)."""

    CHOICES: ClassVar = [
        ("cat5e", "CAT5e"),
        ("cat6", "CAT6"),
        ("cat6a", "CAT6a"),
        ("cat7", "CAT7"),
        ("cat8", "CAT8"),
        ("dac-active", "Direct Attach Copper (Active)"),
        ("dac-passive", "Direct Attach Copper (Passive)"),
        ("coaxial", "Coaxial"),
        ("mmf", "Multimode Fiber"),
        ("mmf-om3", "Multimode Fiber (OM3)"),
        ("mmf-om4", "Multimode Fiber (OM4)"),
        ("smf", "Singlemode Fiber"),
        ("smf-os1", "Singlemode Fiber (OS1)"),
        ("smf-os2", "Singlemode Fiber (OS2)"),
        ("aoc", "Active Optical Cabling (AOC)"),
        ("power", "Power"),
    ]


class CableLengthUnitChoices(ChoiceSet):
    CHOICES: ClassVar = [
        ("km", "Kilometers"),
        ("m", "Meters"),
        ("cm", "Centimeters"),
        ("mi", "Miles"),
        ("ft", "Feet"),
        ("in", "Inches"),
    ]
