"""One list table per model."""

from __future__ import annotations

import django_tables2 as tables

from inventory.models import (
    CollectorGroup,
    Contact,
    ContactAssignment,
    ContactRole,
    Device,
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
from inventory.ui.pollstate import poll_state
from inventory.ui.tables_base import (
    BooleanBadgeColumn,
    ChoiceBadgeColumn,
    CountryColumn,
    LinkColumn,
    ManyColumn,
    ObjectTable,
    badge,
)


class RegionTable(ObjectTable):
    name = LinkColumn()
    parent = LinkColumn()
    site_count = tables.Column(verbose_name="Sites")

    class Meta(ObjectTable.Meta):
        model = Region
        fields = ("name", "slug", "parent", "site_count", "description")


class SiteTable(ObjectTable):
    name = LinkColumn()
    status = ChoiceBadgeColumn()
    country = CountryColumn()
    region = LinkColumn()
    tenant = LinkColumn()
    strands = ManyColumn()
    device_count = tables.Column(verbose_name="Devices")

    class Meta(ObjectTable.Meta):
        model = Site
        fields = ("name", "status", "country", "region", "strands", "tenant", "facility", "device_count")


class LocationTable(ObjectTable):
    name = LinkColumn()
    site = LinkColumn()
    parent = LinkColumn()
    status = ChoiceBadgeColumn()
    tenant = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = Location
        fields = ("name", "site", "parent", "status", "tenant", "facility")


class RackTable(ObjectTable):
    name = LinkColumn()
    site = LinkColumn()
    location = LinkColumn()
    status = ChoiceBadgeColumn()
    tenant = LinkColumn()
    device_count = tables.Column(verbose_name="Devices")

    class Meta(ObjectTable.Meta):
        model = Rack
        fields = ("name", "site", "location", "status", "tenant", "u_height", "device_count")


class ManufacturerTable(ObjectTable):
    name = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = Manufacturer
        fields = ("name", "slug", "description")


class DeviceTypeTable(ObjectTable):
    model = LinkColumn()
    manufacturer = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = DeviceType
        fields = ("model", "manufacturer", "slug", "part_number", "u_height", "is_full_depth")


class DeviceRoleTable(ObjectTable):
    name = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = DeviceRole
        fields = ("name", "slug", "color", "description")


class PlatformTable(ObjectTable):
    name = LinkColumn()
    manufacturer = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = Platform
        fields = ("name", "slug", "manufacturer", "description")


class DeviceTable(ObjectTable):
    name = LinkColumn()
    status = ChoiceBadgeColumn()
    site = LinkColumn()
    rack = LinkColumn()
    role = LinkColumn()
    device_type = LinkColumn(verbose_name="Type")
    tenant = LinkColumn()
    primary_ip4 = LinkColumn(verbose_name="Primary IPv4")
    last_poll = tables.Column(
        accessor="observation__up", verbose_name="Last poll", default="—", order_by=("observation__up",)
    )

    class Meta(ObjectTable.Meta):
        model = Device
        fields = (
            "name",
            "status",
            "site",
            "rack",
            "role",
            "device_type",
            "tenant",
            "primary_ip4",
            "monitored",
            "last_poll",
        )

    def render_last_poll(self, record: Device) -> str:
        state = poll_state(record, record.observation)
        return badge(state.value, state.label)

    def value_last_poll(self, record: Device) -> str:
        return poll_state(record, record.observation).value

    def render_monitored(self, value: bool) -> str:
        return badge("yes" if value else "no", "Yes" if value else "No")

    def value_monitored(self, value: bool) -> str:
        return "true" if value else "false"


class InterfaceTable(ObjectTable):
    name = LinkColumn()
    device = LinkColumn()
    enabled = BooleanBadgeColumn()
    mgmt_only = BooleanBadgeColumn(verbose_name="Mgmt only")
    ip_addresses = ManyColumn(verbose_name="IP addresses")

    class Meta(ObjectTable.Meta):
        model = Interface
        fields = (
            "device",
            "name",
            "label",
            "type",
            "enabled",
            "mgmt_only",
            "speed",
            "mac_address",
            "ip_addresses",
        )


class PrefixTable(ObjectTable):
    prefix = LinkColumn()
    status = ChoiceBadgeColumn()
    site = LinkColumn()
    tenant = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = Prefix
        fields = ("prefix", "status", "site", "tenant", "is_pool", "description")


class IPAddressTable(ObjectTable):
    address = LinkColumn()
    status = ChoiceBadgeColumn()
    tenant = LinkColumn()
    device = LinkColumn(accessor="assigned_object__device", verbose_name="Device")
    assigned_object = LinkColumn(verbose_name="Interface")

    class Meta(ObjectTable.Meta):
        model = IPAddress
        fields = ("address", "status", "role", "tenant", "device", "assigned_object", "dns_name")


class TenantGroupTable(ObjectTable):
    name = LinkColumn()
    parent = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = TenantGroup
        fields = ("name", "slug", "parent", "description")


class TenantTable(ObjectTable):
    name = LinkColumn()
    group = LinkColumn()
    site_count = tables.Column(verbose_name="Sites")
    device_count = tables.Column(verbose_name="Devices")

    class Meta(ObjectTable.Meta):
        model = Tenant
        fields = ("name", "slug", "group", "site_count", "device_count", "description")


class ContactRoleTable(ObjectTable):
    name = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = ContactRole
        fields = ("name", "slug", "description")


class ContactTable(ObjectTable):
    name = LinkColumn()
    assignment_count = tables.Column(verbose_name="Assignments")

    class Meta(ObjectTable.Meta):
        model = Contact
        fields = ("name", "title", "phone", "email", "assignment_count")


class ContactAssignmentTable(ObjectTable):
    id = LinkColumn(verbose_name="ID")
    contact = LinkColumn()
    role = LinkColumn()
    object = LinkColumn(accessor="object", orderable=False, verbose_name="Assigned to")
    priority = ChoiceBadgeColumn()

    class Meta(ObjectTable.Meta):
        model = ContactAssignment
        fields = ("id", "contact", "role", "object", "priority")


class TagTable(ObjectTable):
    name = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = Tag
        fields = ("name", "slug", "color", "description")


class SnmpProfileTable(ObjectTable):
    """Secrets never appear, not even in the CSV export: only whether one is set."""

    name = LinkColumn()
    device_count = tables.Column(verbose_name="Devices")
    security = tables.Column(accessor="security_level", orderable=False, verbose_name="v3 security")

    class Meta(ObjectTable.Meta):
        model = SnmpProfile
        fields = ("name", "version", "security", "port", "timeout", "retries", "device_count")

    def render_security(self, record: SnmpProfile, value: str) -> str:
        return value if record.version == "3" else "—"


class CollectorGroupTable(ObjectTable):
    name = LinkColumn()
    device_count = tables.Column(verbose_name="Devices")

    class Meta(ObjectTable.Meta):
        model = CollectorGroup
        fields = ("name", "slug", "exporter_address", "poll_interval", "device_count")
