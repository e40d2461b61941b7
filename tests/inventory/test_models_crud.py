"""Generic create/update/delete through the services for every change-logged model (NetBox-style:
one base class does the work, each model fills in valid data)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse

from inventory import models as m
from inventory.fields import REDACTED
from inventory.services import create_object, delete_object, update_object
from tests.inventory.factories import Inventory


@pytest.fixture
def user(db, django_user_model):
    return django_user_model.objects.create(username="crud")


def _comparable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list) and value and isinstance(value[0], models.Model):
        return sorted(item.pk for item in value)
    return value


def _stored(obj: models.Model, name: str) -> Any:
    field = obj._meta.get_field(name)
    if field.many_to_many:
        return sorted(item.pk for item in getattr(obj, name).all())
    if field.is_relation:
        return getattr(obj, field.attname)
    value = getattr(obj, name)
    return field.to_python(value) if isinstance(value, Decimal | str) and not field.choices else value


class ObjectTests:
    """What every model must do; subclasses set ``model`` and give valid create and update data."""

    model: ClassVar[type[models.Model]]
    secret_fields: ClassVar[tuple[str, ...]] = ()

    def create_data(self, inv: Inventory) -> dict[str, Any]:
        raise NotImplementedError

    def update_data(self, inv: Inventory) -> dict[str, Any]:
        raise NotImplementedError

    def _changes(self, obj) -> models.QuerySet:
        return m.ObjectChange.objects.filter(
            changed_object_type=ContentType.objects.get_for_model(self.model), changed_object_id=obj.pk
        )

    def _check_stored(self, obj, data: dict[str, Any]) -> None:
        fresh = self.model.objects.get(pk=obj.pk)
        for name, value in data.items():
            if name in self.secret_fields:
                assert getattr(fresh, name) == value
            else:
                expected = _comparable(value)
                if isinstance(expected, str) and isinstance(
                    self.model._meta.get_field(name), models.DecimalField
                ):
                    expected = Decimal(expected)
                assert _stored(fresh, name) == expected, name

    def test_create_stores_values_and_logs_one_create(self, inv, user):
        data = self.create_data(inv)
        obj = create_object(model=self.model, data=data, user=user)
        self._check_stored(obj, data)
        record = self._changes(obj).get()
        assert (record.action, record.user) == ("create", user)
        assert set(data) <= set(record.postchange_data)
        for name in self.secret_fields:
            assert record.postchange_data[name] == (REDACTED if data.get(name) else "")
        assert str(obj)

    def test_update_changes_values_and_logs_one_update(self, inv, user):
        obj = create_object(model=self.model, data=self.create_data(inv), user=user)
        data = self.update_data(inv)
        update_object(instance=obj, data=data, user=user)
        self._check_stored(obj, data)
        record = self._changes(obj).get(action="update")
        changed = set(record.diff()) - {"last_updated"}
        assert changed >= set(data) - set(self.secret_fields)

    def test_delete_removes_and_logs_one_delete(self, inv, user):
        obj = create_object(model=self.model, data=self.create_data(inv), user=user)
        pk = obj.pk
        delete_object(instance=obj, user=user)
        assert not self.model.objects.filter(pk=pk).exists()
        record = m.ObjectChange.objects.get(
            changed_object_type=ContentType.objects.get_for_model(self.model),
            changed_object_id=pk,
            action="delete",
        )
        assert record.prechange_data is not None and record.postchange_data is None

    def test_admin_change_page_loads(self, inv, user, admin_client_logged_in):
        obj = create_object(model=self.model, data=self.create_data(inv), user=user)
        name = self.model._meta.model_name
        response = admin_client_logged_in.get(reverse(f"admin:inventory_{name}_change", args=[obj.pk]))
        assert response.status_code == 200


class TestRegion(ObjectTests):
    model = m.Region

    def create_data(self, inv):
        return {"name": "Oriental", "slug": "oriental", "description": "Region"}

    def update_data(self, inv):
        return {"parent": m.Region.objects.create(name="Morocco", slug="morocco"), "description": "Eastern"}


class TestSite(ObjectTests):
    model = m.Site

    def create_data(self, inv):
        return {
            "name": "Oujda PoP",
            "slug": "oujda-pop",
            "country": "MA",
            "strands": ["digital-inclusion"],
            "latitude": "34.681400",
            "longitude": "-1.900200",
            "tags": [inv.tag],
        }

    def update_data(self, inv):
        return {"status": "planned", "tenant": inv.tenant, "strands": ["infrastructure"], "tags": []}


class TestLocation(ObjectTests):
    model = m.Location

    def create_data(self, inv):
        return {"site": inv.site, "name": "Hall 2", "slug": "hall-2"}

    def update_data(self, inv):
        return {"status": "retired", "facility": "H2"}


class TestRack(ObjectTests):
    model = m.Rack

    def create_data(self, inv):
        return {"site": inv.site, "name": "R09", "u_height": 42}

    def update_data(self, inv):
        return {"status": "planned", "u_height": 48, "asset_tag": "RACK-9"}


class TestManufacturer(ObjectTests):
    model = m.Manufacturer

    def create_data(self, inv):
        return {"name": "Medina Devices", "slug": "medina"}

    def update_data(self, inv):
        return {"description": "Fictional vendor"}


class TestDeviceType(ObjectTests):
    model = m.DeviceType

    def create_data(self, inv):
        return {"manufacturer": inv.manufacturer, "model": "AS-9", "slug": "as-9", "u_height": "1.0"}

    def update_data(self, inv):
        return {"u_height": "2.0", "part_number": "AS9-48"}


class TestDeviceRole(ObjectTests):
    model = m.DeviceRole

    def create_data(self, inv):
        return {"name": "Firewall", "slug": "firewall", "color": "f44336"}

    def update_data(self, inv):
        return {"color": "00ff00"}


class TestPlatform(ObjectTests):
    model = m.Platform

    def create_data(self, inv):
        return {"name": "Atlas NOS", "slug": "atlas-nos"}

    def update_data(self, inv):
        return {"manufacturer": inv.manufacturer}


class TestDevice(ObjectTests):
    model = m.Device

    def create_data(self, inv):
        return {
            "name": "casa-fw01",
            "site": inv.site,
            "device_type": inv.device_type,
            "role": inv.role,
            "tenant": inv.tenant,
            "snmp_profile": inv.profile,
            "collector_group": inv.group,
            "monitored": True,
            "tags": [inv.tag],
        }

    def update_data(self, inv):
        return {"status": "failed", "poll_interval": 120, "serial": "SN-1", "monitored": False}


class TestInterface(ObjectTests):
    model = m.Interface

    def create_data(self, inv):
        return {"device": inv.device, "name": "xe-0/0/1", "type": "10gbase-x-sfpp", "speed": 10_000_000}

    def update_data(self, inv):
        return {"enabled": False, "mtu": 9000, "mac_address": "02:00:00:00:00:01"}


class TestPrefix(ObjectTests):
    model = m.Prefix

    def create_data(self, inv):
        return {"prefix": "10.30.0.0/16", "site": inv.site}

    def update_data(self, inv):
        return {"status": "reserved", "is_pool": True}


class TestIPAddress(ObjectTests):
    model = m.IPAddress

    def create_data(self, inv):
        return {"address": "10.30.0.1/24", "assigned_object": inv.interface}

    def update_data(self, inv):
        return {"dns_name": "casa-rtr01.example.org", "role": "loopback", "assigned_object": None}


class TestTenantGroup(ObjectTests):
    model = m.TenantGroup

    def create_data(self, inv):
        return {"name": "Ministries", "slug": "ministries"}

    def update_data(self, inv):
        return {"description": "Government ministries"}


class TestTenant(ObjectTests):
    model = m.Tenant

    def create_data(self, inv):
        return {"name": "Agency C", "slug": "agency-c"}

    def update_data(self, inv):
        return {"group": m.TenantGroup.objects.create(name="G", slug="g"), "comments": "Partner"}


class TestContactRole(ObjectTests):
    model = m.ContactRole

    def create_data(self, inv):
        return {"name": "Owner", "slug": "owner"}

    def update_data(self, inv):
        return {"description": "Business owner"}


class TestContact(ObjectTests):
    model = m.Contact

    def create_data(self, inv):
        return {"name": "A. Engineer", "email": "a.engineer@example.org"}

    def update_data(self, inv):
        return {"phone": "+352 20 00 00 01", "title": "Network engineer"}


class TestContactAssignment(ObjectTests):
    model = m.ContactAssignment

    def create_data(self, inv):
        return {
            "object_type": ContentType.objects.get_for_model(m.Device),
            "object_id": inv.device.pk,
            "contact": m.Contact.objects.create(name="B. Operator"),
            "role": m.ContactRole.objects.create(name="NOC", slug="noc"),
        }

    def update_data(self, inv):
        return {"priority": "secondary"}


class TestTag(ObjectTests):
    model = m.Tag

    def create_data(self, inv):
        return {"name": "edge", "slug": "edge", "color": "2196f3"}

    def update_data(self, inv):
        return {"color": "9c27b0", "description": "Edge sites"}


class TestSnmpProfile(ObjectTests):
    model = m.SnmpProfile
    secret_fields = ("community", "auth_key", "priv_key")

    def create_data(self, inv):
        return {"name": "v2c-ma", "version": "2c", "community": "crud-community", "port": 1161}

    def update_data(self, inv):
        return {
            "version": "3",
            "community": "",
            "username": "monitor",
            "auth_protocol": "SHA-384",
            "auth_key": "crud-auth-key",
            "priv_protocol": "AES-192",
            "priv_key": "crud-priv-key",
            "modules": ["system", "if_mib", "lldp"],
        }


class TestCollectorGroup(ObjectTests):
    model = m.CollectorGroup

    def create_data(self, inv):
        return {"name": "Luxembourg", "slug": "lu", "exporter_address": "127.0.0.1:9782"}

    def update_data(self, inv):
        return {"exporter_address": "[::1]:9781", "poll_interval": 30}
