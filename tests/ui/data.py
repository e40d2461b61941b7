"""Builders of users and inventory objects for the UI tests (ORM saves, so they are change-logged)."""

from __future__ import annotations

from itertools import count

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.auth.models import Permission

from inventory import models as m

PASSWORD = "ui-tests-only-pw-7Q"
_seq = count(1)


def n() -> int:
    return next(_seq)


class _QuickHasher(PBKDF2PasswordHasher):
    """Few iterations: test users only (Django verifies with the count stored in the hash)."""

    iterations = 1000


def _user(username: str, actions: tuple[str, ...]):
    user = get_user_model()(username=username, email=f"{username}@example.org")
    user.password = make_password(PASSWORD, hasher=_QuickHasher())
    user.save()
    codenames = [
        p
        for p in Permission.objects.filter(content_type__app_label="inventory")
        if p.codename.split("_", 1)[0] in actions
    ]
    user.user_permissions.set(codenames)
    return user


def make_writer(username: str = "writer"):
    """An engineer who may view, add, change and delete every inventory object."""
    return _user(username, ("view", "add", "change", "delete"))


def make_reader(username: str = "reader"):
    """A read-only user: view permissions only."""
    return _user(username, ("view",))


def make_region(**fields) -> m.Region:
    i = n()
    return m.Region.objects.create(**{"name": f"Region {i}", "slug": f"region-{i}", **fields})


def make_tenant(**fields) -> m.Tenant:
    i = n()
    return m.Tenant.objects.create(**{"name": f"Agency {i}", "slug": f"agency-{i}", **fields})


def make_site(**fields) -> m.Site:
    i = n()
    site = m.Site(
        **{"name": f"Site {i}", "slug": f"site-{i}", "country": "MA", "strands": ["infrastructure"], **fields}
    )
    site.full_clean()
    site.save()
    return site


def make_manufacturer(**fields) -> m.Manufacturer:
    i = n()
    return m.Manufacturer.objects.create(**{"name": f"Vendor {i}", "slug": f"vendor-{i}", **fields})


def make_device_type(**fields) -> m.DeviceType:
    i = n()
    manufacturer = fields.pop("manufacturer", None) or make_manufacturer()
    return m.DeviceType.objects.create(
        **{"manufacturer": manufacturer, "model": f"Model {i}", "slug": f"model-{i}", **fields}
    )


def make_role(**fields) -> m.DeviceRole:
    i = n()
    return m.DeviceRole.objects.create(**{"name": f"Role {i}", "slug": f"role-{i}", **fields})


def make_rack(**fields) -> m.Rack:
    i = n()
    site = fields.pop("site", None) or make_site()
    return m.Rack.objects.create(**{"name": f"Rack {i}", "site": site, **fields})


def make_device(**fields) -> m.Device:
    i = n()
    data = {
        "name": f"dev-{i}",
        "site": fields.pop("site", None) or make_site(),
        "device_type": fields.pop("device_type", None) or make_device_type(),
        "role": fields.pop("role", None) or make_role(),
        **fields,
    }
    device = m.Device(**data)
    device.full_clean()
    device.save()
    return device


def make_interface(device: m.Device | None = None, **fields) -> m.Interface:
    device = device or make_device()
    return m.Interface.objects.create(
        **{"device": device, "name": f"eth{n()}", "type": "1000base-t", **fields}
    )


def make_ip(address: str | None = None, interface: m.Interface | None = None, **fields) -> m.IPAddress:
    ip = m.IPAddress(
        address=address or f"10.{n() % 250}.{n() % 250}.1/24", assigned_object=interface, **fields
    )
    ip.full_clean()
    ip.save()
    return ip


def make_profile(**fields) -> m.SnmpProfile:
    i = n()
    profile = m.SnmpProfile(
        **{"name": f"profile-{i}", "version": "2c", "community": f"community-{i}", **fields}
    )
    profile.full_clean()
    profile.save()
    return profile


def make_collector_group(**fields) -> m.CollectorGroup:
    i = n()
    return m.CollectorGroup.objects.create(
        **{"name": f"group-{i}", "slug": f"group-{i}", "exporter_address": "127.0.0.1:9781", **fields}
    )


def make_contact(**fields) -> m.Contact:
    return m.Contact.objects.create(**{"name": f"Contact {n()}", **fields})


def make_contact_role(**fields) -> m.ContactRole:
    i = n()
    return m.ContactRole.objects.create(
        **{"name": f"Contact role {i}", "slug": f"contact-role-{i}", **fields}
    )
