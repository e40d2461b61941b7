"""Checks between rows of one file that a model's ``clean()`` makes against the database only.

``Prefix.clean()`` and ``IPAddress.clean()`` look for an existing prefix/address with a query, which
cannot see the other rows of an import written in bulk. The same rules are applied here across the
file: a later row repeating an earlier row's prefix (per VRF) or address (per unique VRF space, unless
every one of them has a shared role such as anycast or VRRP) is an error naming the earlier row.
"""

from __future__ import annotations

import ipaddress

from django.db import models

from inventory.choices import IPAddressRoleChoices
from inventory.importer.errors import RowError
from inventory.models import IPAddress, Prefix


def _prefix_key(instance: Prefix) -> tuple | None:
    try:
        network = ipaddress.ip_network(instance.prefix, strict=False)
    except ValueError:
        return None
    return (str(network), instance.vrf_id)


def _address_key(instance: IPAddress) -> tuple | None:
    if instance.vrf_id is not None and not instance.vrf.enforce_unique:
        return None  # a VRF without a unique space allows repeats
    try:
        value = ipaddress.ip_interface(instance.address)
    except ValueError:
        return None
    return (value.version, int(value.ip), instance.vrf_id)


def check(
    model: type[models.Model], instances: list[tuple[int, models.Model]], *, label: str = "row"
) -> list[RowError]:
    """Errors for rows that repeat an earlier row's prefix or address (``(row number, instance)``;
    ``label`` names what the numbers count in messages)."""
    errors: list[RowError] = []
    if model is Prefix:
        first: dict[tuple, int] = {}
        for number, instance in instances:
            key = _prefix_key(instance)
            if key is None:
                continue
            if key in first:
                where = f" in VRF {instance.vrf}" if instance.vrf_id else ""
                errors.append(
                    RowError(number, "prefix", f"Prefix {key[0]}{where} is also in {label} {first[key]}.")
                )
            else:
                first[key] = number
    elif model is IPAddress:
        shared = IPAddressRoleChoices.SHARED_ROLES
        seen: dict[tuple, list[tuple[int, str]]] = {}
        for number, instance in instances:
            key = _address_key(instance)
            if key is None:
                continue
            earlier = seen.setdefault(key, [])
            if earlier and (instance.role not in shared or any(role not in shared for _, role in earlier)):
                host = ipaddress.ip_interface(instance.address).ip
                errors.append(
                    RowError(
                        number,
                        "address",
                        f"Address {host} is also in {label} {earlier[0][0]} "
                        f"(only {', '.join(shared)} may repeat).",
                    )
                )
            earlier.append((number, instance.role))
    return errors
