"""Small builders of valid inventory objects for tests (plain ORM saves, so they are change-logged)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from inventory import models as m

_seq = count(1)


def n() -> int:
    """A fresh number for unique names."""
    return next(_seq)


def make_site(**fields) -> m.Site:
    i = n()
    data = {"name": f"Site {i}", "slug": f"site-{i}", "country": "MA", "strands": ["infrastructure"]}
    data.update(fields)
    site = m.Site(**data)
    site.full_clean()
    site.save()
    return site


def make_device_type(**fields) -> m.DeviceType:
    i = n()
    manufacturer = fields.pop("manufacturer", None) or m.Manufacturer.objects.create(
        name=f"Vendor {i}", slug=f"vendor-{i}"
    )
    data = {"manufacturer": manufacturer, "model": f"Model {i}", "slug": f"model-{i}"}
    data.update(fields)
    return m.DeviceType.objects.create(**data)


def make_role(**fields) -> m.DeviceRole:
    i = n()
    return m.DeviceRole.objects.create(**{"name": f"Role {i}", "slug": f"role-{i}", **fields})


def make_device(**fields) -> m.Device:
    i = n()
    data = {
        "name": f"dev-{i}",
        "site": fields.pop("site", None) or make_site(),
        "device_type": fields.pop("device_type", None) or make_device_type(),
        "role": fields.pop("role", None) or make_role(),
    }
    data.update(fields)
    device = m.Device(**data)
    device.full_clean()
    device.save()
    return device


def make_interface(device: m.Device, **fields) -> m.Interface:
    data = {"device": device, "name": f"eth{n()}", "type": "1000base-t"}
    data.update(fields)
    return m.Interface.objects.create(**data)


def make_ip(address: str, interface: m.Interface | None = None, **fields) -> m.IPAddress:
    ip = m.IPAddress(address=address, assigned_object=interface, **fields)
    ip.full_clean()
    ip.save()
    return ip


def make_profile(**fields) -> m.SnmpProfile:
    i = n()
    data = {"name": f"profile-{i}", "version": "2c", "community": f"community-{i}"}
    data.update(fields)
    profile = m.SnmpProfile(**data)
    profile.full_clean()
    profile.save()
    return profile


def make_collector_group(**fields) -> m.CollectorGroup:
    i = n()
    data = {"name": f"Group {i}", "slug": f"group-{i}", "exporter_address": "127.0.0.1:9781"}
    data.update(fields)
    return m.CollectorGroup.objects.create(**data)


@dataclass
class Inventory:
    """A small valid inventory most tests start from."""

    site: m.Site
    other_site: m.Site
    tenant: m.Tenant
    manufacturer: m.Manufacturer
    device_type: m.DeviceType
    role: m.DeviceRole
    device: m.Device
    interface: m.Interface
    profile: m.SnmpProfile
    group: m.CollectorGroup
    tag: m.Tag


def make_inventory() -> Inventory:
    manufacturer = m.Manufacturer.objects.create(name="Acme Networks", slug="acme")
    device_type = make_device_type(manufacturer=manufacturer, model="AR-100", slug="ar-100")
    role = make_role(name="Core router", slug="core-router")
    site = make_site(name="Casablanca DC1", slug="casa-dc1")
    device = make_device(name="casa-rtr01", site=site, device_type=device_type, role=role)
    return Inventory(
        site=site,
        other_site=make_site(name="Rabat DC1", slug="rabat-dc1"),
        tenant=m.Tenant.objects.create(name="Agency A", slug="agency-a"),
        manufacturer=manufacturer,
        device_type=device_type,
        role=role,
        device=device,
        interface=make_interface(device, name="mgmt0", mgmt_only=True),
        profile=make_profile(name="v2c-default"),
        group=make_collector_group(name="Morocco", slug="ma"),
        tag=m.Tag.objects.create(name="core", slug="core"),
    )
