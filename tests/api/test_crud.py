"""CRUD of every model endpoint through the generic test base (tests/api/crud.py)."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils.text import slugify

from inventory import models as m
from tests.api.crud import CrudCase
from tests.api.data import create

SLUGGED_BRIEF = {"id", "url", "display", "name", "slug", "description"}


def slugged(prefix: str, count: int = 3, **extra) -> list[dict]:
    return [{"name": f"{prefix} {i}", "slug": slugify(f"{prefix}-{i}"), **extra} for i in range(count)]


class TestRegions(CrudCase):
    endpoint = "/api/dcim/regions/"
    model = m.Region
    brief_fields = SLUGGED_BRIEF

    def create_data(self, inv):
        return slugged("Rabat", parent=inv.regions[0].pk)

    def bad_row(self, inv):
        return {"name": "Grand Casablanca", "slug": "grand-casablanca"}  # a top-level sibling exists

    def update_data(self, inv):
        return {"description": "Updated"}

    def deletable(self, inv):
        return [create(m.Region, name=f"Tmp {i}", slug=f"tmp-{i}") for i in range(2)]


class TestSites(CrudCase):
    endpoint = "/api/dcim/sites/"
    model = m.Site
    brief_fields = SLUGGED_BRIEF

    def create_data(self, inv):
        return [
            {
                "name": f"Rabat DC{i}",
                "slug": f"rabat-dc{i}",
                "country": "MA",
                "status": "planned",
                "region": {"slug": "grand-casablanca"},
                "tenant": inv.tenants[0].pk,
                "strands": ["e-government", "infrastructure"],
                "latitude": 34.02,
                "longitude": -6.83,
                "tags": [inv.tags[0].pk],
            }
            for i in range(3)
        ]

    def bad_row(self, inv):
        return {"name": "Bad", "slug": "bad", "country": "XX"}

    bad_field = "country"

    def update_data(self, inv):
        return {"status": "retired", "facility": "Floor 2"}

    def deletable(self, inv):
        return [create(m.Site, name=f"Tmp {i}", slug=f"tmp-{i}", country="LU") for i in range(2)]


class TestLocations(CrudCase):
    endpoint = "/api/dcim/locations/"
    model = m.Location
    brief_fields = SLUGGED_BRIEF

    def create_data(self, inv):
        return slugged("Hall", site=inv.sites[0].pk, status="active")

    def bad_row(self, inv):
        return {"name": "No site", "slug": "no-site"}

    bad_field = "site"

    def update_data(self, inv):
        return {"status": "planned"}

    def deletable(self, inv):
        return [create(m.Location, name=f"Room {i}", slug=f"room-{i}", site=inv.sites[1]) for i in range(2)]

    def existing(self, inv):
        return self.deletable(inv)[0]


class TestRacks(CrudCase):
    endpoint = "/api/dcim/racks/"
    model = m.Rack
    brief_fields = {"id", "url", "display", "name", "description"}

    def create_data(self, inv):
        return [{"name": f"R{i}", "site": {"slug": "casablanca-dc1"}, "u_height": 42} for i in range(3)]

    def bad_row(self, inv):
        return {"name": "R9", "site": inv.sites[0].pk, "u_height": 500}

    bad_field = "u_height"

    def update_data(self, inv):
        return {"status": "reserved", "serial": "RK-1"}

    def deletable(self, inv):
        return [create(m.Rack, name=f"Tmp {i}", site=inv.sites[1]) for i in range(2)]

    def existing(self, inv):
        return self.deletable(inv)[0]


class TestManufacturers(CrudCase):
    endpoint = "/api/dcim/manufacturers/"
    model = m.Manufacturer
    brief_fields = SLUGGED_BRIEF

    def create_data(self, inv):
        return slugged("Juniper")

    def bad_row(self, inv):
        return {"name": "Cisco", "slug": "cisco-2"}

    def update_data(self, inv):
        return {"description": "Vendor"}

    def deletable(self, inv):
        return [create(m.Manufacturer, name=f"Tmp {i}", slug=f"tmp-{i}") for i in range(2)]


class TestDeviceTypes(CrudCase):
    endpoint = "/api/dcim/device-types/"
    model = m.DeviceType
    brief_fields = {"id", "url", "display", "manufacturer", "model", "slug", "description"}

    def create_data(self, inv):
        return [
            {"manufacturer": {"slug": "cisco"}, "model": f"C9{i}00", "slug": f"c9{i}00"} for i in range(3)
        ]

    def bad_row(self, inv):
        return {"manufacturer": inv.manufacturer.pk, "model": "C8300", "slug": "other"}

    bad_field = "model"

    def update_data(self, inv):
        return {"part_number": "PN-1", "u_height": 2.0}

    def deletable(self, inv):
        return [
            create(m.DeviceType, manufacturer=inv.manufacturer, model=f"Tmp {i}", slug=f"tmp-{i}")
            for i in range(2)
        ]


class TestDeviceRoles(CrudCase):
    endpoint = "/api/dcim/device-roles/"
    model = m.DeviceRole
    brief_fields = SLUGGED_BRIEF

    def create_data(self, inv):
        return slugged("Firewall", color="ff0000")

    def bad_row(self, inv):
        return {"name": "Bad colour", "slug": "bad-colour", "color": "red"}

    bad_field = "color"

    def update_data(self, inv):
        return {"color": "00ff00"}

    def deletable(self, inv):
        return [create(m.DeviceRole, name=f"Tmp {i}", slug=f"tmp-{i}") for i in range(2)]


class TestPlatforms(CrudCase):
    endpoint = "/api/dcim/platforms/"
    model = m.Platform
    brief_fields = SLUGGED_BRIEF

    def create_data(self, inv):
        return slugged("Junos", manufacturer=inv.manufacturer.pk)

    def bad_row(self, inv):
        return {"name": "IOS-XE", "slug": "ios-xe-2"}

    def update_data(self, inv):
        return {"description": "NOS"}

    def deletable(self, inv):
        return [create(m.Platform, name=f"Tmp {i}", slug=f"tmp-{i}") for i in range(2)]


class TestDevices(CrudCase):
    endpoint = "/api/dcim/devices/"
    model = m.Device
    brief_fields = {"id", "url", "display", "name", "description"}

    def create_data(self, inv):
        return [
            {
                "name": f"sw-{i}",
                "site": {"slug": "betzdorf"},
                "role": {"slug": "access-switch"},
                "device_type": {"manufacturer": {"slug": "cisco"}, "slug": "c8300"},
                "tenant": inv.tenants[1].pk,
                "status": "planned",
                "serial": f"X{i}",
                "tags": [inv.tags[1].pk],
            }
            for i in range(3)
        ]

    def bad_row(self, inv):
        existing = inv.devices[0]  # same name, site and tenant
        return {
            "name": existing.name.upper(),
            "site": existing.site_id,
            "role": existing.role_id,
            "device_type": existing.device_type_id,
            "tenant": existing.tenant_id,
        }

    def update_data(self, inv):
        return {"status": "offline", "serial": "NEW-SERIAL", "monitored": False}

    def deletable(self, inv):
        return [
            create(
                m.Device, name=f"tmp-{i}", site=inv.sites[1], role=inv.roles[1], device_type=inv.device_type
            )
            for i in range(2)
        ]


class TestInterfaces(CrudCase):
    endpoint = "/api/dcim/interfaces/"
    model = m.Interface
    brief_fields = {"id", "url", "display", "device", "name", "description"}

    def create_data(self, inv):
        return [{"device": inv.devices[0].pk, "name": f"Te1/{i}", "type": "10gbase-x-sfpp"} for i in range(3)]

    def bad_row(self, inv):
        return {"device": inv.devices[0].pk, "name": "Gi0/0", "type": "1000base-t"}  # exists on the device

    def update_data(self, inv):
        return {"enabled": False, "mtu": 9000, "description": "uplink"}

    def deletable(self, inv):
        return [create(m.Interface, device=inv.devices[1], name=f"Lo{i}", type="virtual") for i in range(2)]


class TestPrefixes(CrudCase):
    endpoint = "/api/ipam/prefixes/"
    model = m.Prefix
    brief_fields = {"id", "url", "display", "family", "prefix", "description"}

    def create_data(self, inv):
        return [{"prefix": f"10.{i}.0.0/16", "site": inv.sites[0].pk, "status": "active"} for i in range(3)]

    def bad_row(self, inv):
        return {"prefix": "10.300.0.0/16"}

    bad_field = "prefix"

    def update_data(self, inv):
        return {"status": "reserved", "is_pool": True}

    def deletable(self, inv):
        return [create(m.Prefix, prefix=f"192.168.{i}.0/24") for i in range(2)]


class TestIPAddresses(CrudCase):
    endpoint = "/api/ipam/ip-addresses/"
    model = m.IPAddress
    brief_fields = {"id", "url", "display", "family", "address", "description"}

    def create_data(self, inv):
        interface = inv.devices[0].interfaces.get(name="Gi0/1")
        return [
            {
                "address": f"10.9.0.{i + 1}/24",
                "assigned_object_type": "dcim.interface",
                "assigned_object_id": interface.pk,
                "status": "active",
                "dns_name": f"host{i}.example.ma",
            }
            for i in range(3)
        ]

    def bad_row(self, inv):
        return {"address": "10.9.0.300/24"}

    bad_field = "address"

    def update_data(self, inv):
        return {"status": "reserved", "role": "vip"}

    def deletable(self, inv):
        return [create(m.IPAddress, address=f"10.8.0.{i + 1}/24") for i in range(2)]

    def existing(self, inv):
        return self.deletable(inv)[0]


class TestTenantGroups(CrudCase):
    endpoint = "/api/tenancy/tenant-groups/"
    model = m.TenantGroup
    brief_fields = SLUGGED_BRIEF

    def create_data(self, inv):
        return slugged("Ministries")

    def bad_row(self, inv):
        return {"name": "Agencies", "slug": "agencies"}

    def update_data(self, inv):
        return {"description": "Updated"}

    def deletable(self, inv):
        return [create(m.TenantGroup, name=f"Tmp {i}", slug=f"tmp-{i}") for i in range(2)]


class TestTenants(CrudCase):
    endpoint = "/api/tenancy/tenants/"
    model = m.Tenant
    brief_fields = SLUGGED_BRIEF

    def create_data(self, inv):
        return slugged("Ministry", group={"slug": "agencies"})

    def bad_row(self, inv):
        return {"name": "Digital Development Agency", "slug": "add-2"}

    def update_data(self, inv):
        return {"description": "Agency"}

    def deletable(self, inv):
        return [create(m.Tenant, name=f"Tmp {i}", slug=f"tmp-{i}") for i in range(2)]


class TestContactRoles(CrudCase):
    endpoint = "/api/tenancy/contact-roles/"
    model = m.ContactRole
    brief_fields = SLUGGED_BRIEF

    def create_data(self, inv):
        return slugged("Operations")

    def bad_row(self, inv):
        return {"name": "", "slug": "x"}

    def update_data(self, inv):
        return {"description": "NOC"}

    def deletable(self, inv):
        return [create(m.ContactRole, name=f"Tmp {i}", slug=f"tmp-{i}") for i in range(2)]


class TestContacts(CrudCase):
    endpoint = "/api/tenancy/contacts/"
    model = m.Contact
    brief_fields = {"id", "url", "display", "name", "description"}

    def create_data(self, inv):
        return [{"name": f"Contact {i}", "email": f"c{i}@example.ma"} for i in range(3)]

    def bad_row(self, inv):
        return {"name": "Bad mail", "email": "not-an-address"}

    bad_field = "email"

    def update_data(self, inv):
        return {"phone": "+212 5 00 00 00 00"}

    def deletable(self, inv):
        return [create(m.Contact, name=f"Tmp {i}") for i in range(2)]


class TestContactAssignments(CrudCase):
    endpoint = "/api/tenancy/contact-assignments/"
    model = m.ContactAssignment
    brief_fields = {"id", "url", "display", "contact", "role", "priority"}

    @pytest.fixture(autouse=True)
    def _people(self, inv):
        self.contacts = [create(m.Contact, name=f"Person {i}") for i in range(4)]
        self.role = create(m.ContactRole, name="Owner", slug="owner")

    def create_data(self, inv):
        return [
            {
                "object_type": "dcim.site",
                "object_id": inv.sites[0].pk,
                "contact": c.pk,
                "role": self.role.pk,
                "priority": "primary",
            }
            for c in self.contacts[:3]
        ]

    def bad_row(self, inv):
        return {
            "object_type": "dcim.rack",
            "object_id": 1,
            "contact": self.contacts[3].pk,
            "role": self.role.pk,
        }

    bad_field = "object_type"

    def update_data(self, inv):
        return {"priority": "secondary"}

    def deletable(self, inv):
        site_type = ContentType.objects.get_for_model(m.Site)
        return [
            create(
                m.ContactAssignment,
                object_type=site_type,
                object_id=inv.sites[1].pk,
                contact=c,
                role=self.role,
            )
            for c in self.contacts[2:4]
        ]

    def existing(self, inv):
        return self.deletable(inv)[0]


class TestTags(CrudCase):
    endpoint = "/api/extras/tags/"
    model = m.Tag
    brief_fields = {"id", "url", "display", "name", "slug", "color"}

    def create_data(self, inv):
        return slugged("Backbone", color="336699")

    def bad_row(self, inv):
        return {"name": "Core", "slug": "core-2"}

    def update_data(self, inv):
        return {"color": "112233"}

    def deletable(self, inv):
        return [create(m.Tag, name=f"Tmp {i}", slug=f"tmp-{i}") for i in range(2)]


class TestVRFs(CrudCase):
    endpoint = "/api/ipam/vrfs/"
    model = m.VRF
    brief_fields = {"id", "url", "display", "name", "rd", "description"}

    def create_data(self, inv):
        return [{"name": f"Customer {i}", "rd": f"65000:{i}", "tenant": inv.tenants[0].pk} for i in range(3)]

    def bad_row(self, inv):
        create(m.VRF, name="Taken", rd="65001:1")
        return {"name": "Dup", "rd": "65001:1"}

    bad_field = "rd"

    def update_data(self, inv):
        return {"enforce_unique": False, "description": "shared space"}

    def deletable(self, inv):
        return [create(m.VRF, name=f"Tmp {i}") for i in range(2)]


class TestCustomFields(CrudCase):
    endpoint = "/api/extras/custom-fields/"
    model = m.CustomField
    brief_fields = {"id", "url", "display", "name", "description"}

    def create_data(self, inv):
        return [
            {
                "name": f"owner_{i}",
                "type": "text",
                "object_types": ["dcim.device"],
                "validation_regex": "^[a-z]+$",
            }
            for i in range(3)
        ]

    def bad_row(self, inv):
        return {"name": "Bad Name", "type": "text", "object_types": ["dcim.device"]}

    def update_data(self, inv):
        return {"label": "Owner team", "required": False, "weight": 10}

    def deletable(self, inv):
        device_type = ContentType.objects.get_for_model(m.Device)
        fields = [create(m.CustomField, name=f"tmp_{i}", type="integer") for i in range(2)]
        for field in fields:
            field.object_types.set([device_type])
        return fields


class TestJournalEntries(CrudCase):
    endpoint = "/api/extras/journal-entries/"
    model = m.JournalEntry
    brief_fields = {"id", "url", "display", "created"}
    bad_field = "kind"

    def create_data(self, inv):
        return [
            {
                "assigned_object_type": "dcim.device",
                "assigned_object_id": device.pk,
                "kind": "warning",
                "comments": f"Fan tray {i} replaced",
            }
            for i, device in enumerate(inv.devices)
        ]

    def bad_row(self, inv):
        return {
            "assigned_object_type": "dcim.device",
            "assigned_object_id": inv.devices[0].pk,
            "kind": "catastrophe",
            "comments": "x",
        }

    def update_data(self, inv):
        return {"kind": "success", "comments": "Fixed"}

    def deletable(self, inv):
        device_type = ContentType.objects.get_for_model(m.Device)
        return [
            create(
                m.JournalEntry,
                assigned_object_type=device_type,
                assigned_object_id=inv.devices[0].pk,
                comments=f"n{i}",
            )
            for i in range(2)
        ]


class TestCollectorGroups(CrudCase):
    endpoint = "/api/monitoring/collector-groups/"
    model = m.CollectorGroup
    brief_fields = SLUGGED_BRIEF

    def create_data(self, inv):
        return slugged("LU Betzdorf", exporter_address="127.0.0.1:9782", poll_interval=30)

    def bad_row(self, inv):
        return {"name": "Bad", "slug": "bad", "exporter_address": "not an address"}

    bad_field = "exporter_address"

    def update_data(self, inv):
        return {"poll_interval": 120}

    def deletable(self, inv):
        return [
            create(m.CollectorGroup, name=f"Tmp {i}", slug=f"tmp-{i}", exporter_address="127.0.0.1:9790")
            for i in range(2)
        ]


class TestSnmpProfiles(CrudCase):
    endpoint = "/api/monitoring/snmp-profiles/"
    model = m.SnmpProfile
    brief_fields = {"id", "url", "display", "name", "description"}

    def create_data(self, inv):
        return [
            {"name": f"v2c-{i}", "version": "2c", "community": f"new-secret-{i}", "modules": ["system"]}
            for i in range(3)
        ]

    def bad_row(self, inv):
        return {"name": "v2c-missing", "version": "2c"}

    bad_field = "community"

    def update_data(self, inv):
        return {"timeout": 2.5, "retries": 1}

    def deletable(self, inv):
        return [create(m.SnmpProfile, name=f"tmp-{i}", community="c-tmp") for i in range(2)]


class TestObjectChangesAreReadOnly:
    def test_list_and_refuse_writes(self, api, inv):
        response = api.get("/api/core/object-changes/", {"changed_object_type": "dcim.site"})
        assert response.status_code == 200
        assert response.json()["count"] == m.Site.objects.count()
        assert {item["changed_object_type"] for item in response.json()["results"]} == {"dcim.site"}
        change = m.ObjectChange.objects.first()
        assert api.delete(f"/api/core/object-changes/{change.pk}/").status_code == 405
        assert api.post("/api/core/object-changes/", {}, format="json").status_code == 405
        assert m.ObjectChange.objects.filter(pk=change.pk).exists()
