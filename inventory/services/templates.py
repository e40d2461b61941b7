"""Device type interface templates: new devices get their interfaces; a live device can be the template."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from inventory.models import Device, DeviceObservation, Interface, InterfaceTemplate
from inventory.services.changelog import change_context
from inventory.services.drift import observed_name
from inventory.services.drift_adopt import interface_type_of
from inventory.services.objects import create_object


def interfaces_from_templates(*, device: Device, user=None) -> list[Interface]:
    """Create on ``device`` the interfaces its type's templates describe (names it has are skipped)."""
    with transaction.atomic(), change_context(user=user):
        existing = set(device.interfaces.values_list("name", flat=True))
        created = []
        for template in InterfaceTemplate.objects.filter(device_type_id=device.device_type_id):
            if template.name in existing:
                continue
            data = {
                "device": device,
                "name": template.name,
                "label": template.label,
                "type": template.type,
                "enabled": template.enabled,
                "mgmt_only": template.mgmt_only,
                "description": template.description,
            }
            created.append(create_object(model=Interface, data=data, user=user))
    return created


def interface_templates_from_device(*, device: Device, user=None) -> list[InterfaceTemplate]:
    """ "Make this the template": one interface template per interface the device's last poll reported.

    Names its type already has a template for are kept as they are. The observed admin status becomes
    ``enabled``; the description (a per-device ifAlias) is not copied.
    """
    observation = DeviceObservation.objects.filter(device=device).first()
    entries = (
        observation.interfaces if observation is not None and isinstance(observation.interfaces, list) else []
    )
    names = [(observed_name(entry)[:64], entry) for entry in entries if isinstance(entry, dict)]
    names = [(name, entry) for name, entry in names if name]
    if not names:
        raise ValidationError({"device": f"{device} has no observed interfaces to make a template from."})
    with transaction.atomic(), change_context(user=user):
        existing = set(
            InterfaceTemplate.objects.filter(device_type_id=device.device_type_id).values_list(
                "name", flat=True
            )
        )
        created = []
        for name, entry in names:
            if name in existing:
                continue
            existing.add(name)
            data = {
                "device_type_id": device.device_type_id,
                "name": name,
                "type": interface_type_of(entry),
                "enabled": entry.get("ifAdminStatus") != "down",
            }
            created.append(create_object(model=InterfaceTemplate, data=data, user=user))
    return created
