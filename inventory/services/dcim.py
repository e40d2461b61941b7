"""Domain writes for devices and addresses."""

from __future__ import annotations

from django.db import transaction

from inventory.models import Device, Interface, IPAddress
from inventory.services.changelog import change_context
from inventory.services.objects import create_object, update_object
from inventory.services.templates import interfaces_from_templates


def device_set_primary_ip(*, device: Device, ip: IPAddress | None, family: int = 4, user=None) -> Device:
    """Make ``ip`` (assigned to one of the device's interfaces) its primary IPv4/IPv6; None unsets it."""
    field = "primary_ip4" if family == 4 else "primary_ip6"
    return update_object(instance=device, data={field: ip}, user=user)


def interface_add_ip(
    *, interface: Interface, address: str, primary: bool = False, user=None, **fields
) -> IPAddress:
    """Create an address on an interface, optionally making it the device's primary IP, in one go."""
    with transaction.atomic(), change_context(user=user):
        ip = create_object(
            model=IPAddress, data={"address": address, "assigned_object": interface, **fields}, user=user
        )
        if primary:
            device_set_primary_ip(device=interface.device, ip=ip, family=ip.family, user=user)
    return ip


def device_create(*, data: dict, user=None) -> Device:
    """Create a device with the interfaces its device type's templates describe, in one transaction."""
    with transaction.atomic(), change_context(user=user):
        device = create_object(model=Device, data=data, user=user)
        interfaces_from_templates(device=device, user=user)
    return device
