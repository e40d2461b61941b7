"""Free space in a prefix and allocation from it (NetBox's available-ips / available-prefixes).

Allocation locks the parent prefix row (``SELECT … FOR UPDATE``) so concurrent requests for the
next free address or child prefix serialise and never hand out the same one twice.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from inventory.models import IPAddress, Prefix
from inventory.models.sortkeys import network_keys
from inventory.services.objects import create_object

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InsufficientSpace(Exception):
    """Fewer free addresses or prefixes than requested (the API answers 409)."""


def _used_hosts(prefix: Prefix) -> set[int]:
    first, last = network_keys(prefix.network)
    keys = IPAddress.objects.filter(
        family=prefix.family, vrf=prefix.vrf_id, host_key__gte=first, host_key__lte=last
    ).values_list("host_key", flat=True)
    return {int(key, 16) for key in keys}


def _candidate_hosts(prefix: Prefix) -> Iterator[int]:
    """Hosts that may be handed out: all but the network and broadcast addresses of an IPv4 subnet
    (and the subnet-router anycast address of IPv6), unless the prefix is a pool or a /31, /32, /127, /128."""
    network = prefix.network
    first, last = int(network.network_address), int(network.broadcast_address)
    whole = prefix.is_pool or network.num_addresses <= 2
    if not whole:
        first += 1
        if network.version == 4:
            last -= 1
    return iter(range(first, last + 1))


def available_ips(*, prefix: Prefix, limit: int) -> list[str]:
    """Up to ``limit`` free addresses of ``prefix`` in its VRF, with the prefix's mask (``10.0.0.5/24``)."""
    used = _used_hosts(prefix)
    length = prefix.network.prefixlen
    make = ipaddress.IPv4Address if prefix.family == 4 else ipaddress.IPv6Address
    found: list[str] = []
    for host in _candidate_hosts(prefix):
        if len(found) >= limit:
            break
        if host not in used:
            found.append(f"{make(host)}/{length}")
    return found


def allocate_ips(*, prefix: Prefix, rows: Sequence[Mapping[str, Any]], user=None) -> list[IPAddress]:
    """Create one address per row (its other fields from the row) at the next free addresses, in one
    transaction under a lock of the prefix. Raises InsufficientSpace when there are too few."""
    with transaction.atomic():
        prefix = Prefix.objects.select_for_update().get(pk=prefix.pk)
        free = available_ips(prefix=prefix, limit=len(rows))
        if len(free) < len(rows):
            raise InsufficientSpace(
                f"An insufficient number of IP addresses are available within prefix {prefix.prefix} "
                f"({len(rows)} requested, {len(free)} available)."
            )
        created = []
        for address, row in zip(free, rows, strict=True):
            data = {**row, "address": address, "vrf": prefix.vrf}
            created.append(create_object(model=IPAddress, data=data, user=user))
        return created


def _free_networks(prefix: Prefix) -> list[Network]:
    first, last = network_keys(prefix.network)
    children = Prefix.objects.filter(
        family=prefix.family, vrf=prefix.vrf_id, start_key__gte=first, end_key__lte=last
    ).exclude(pk=prefix.pk)
    free: list[Network] = [prefix.network]
    for child in sorted({c.network for c in children}, key=lambda n: (n.prefixlen, n.network_address)):
        remaining: list[Network] = []
        for block in free:
            if child.subnet_of(block):
                remaining.extend(block.address_exclude(child) if child != block else [])
            elif not block.subnet_of(child):
                remaining.append(block)
        free = remaining
    return sorted(ipaddress.collapse_addresses(free), key=lambda n: n.network_address)


def available_prefixes(*, prefix: Prefix) -> list[str]:
    """The free blocks of ``prefix`` in its VRF (largest aligned networks, in address order)."""
    return [str(network) for network in _free_networks(prefix)]


def allocate_prefixes(*, prefix: Prefix, rows: Sequence[Mapping[str, Any]], user=None) -> list[Prefix]:
    """Create one child prefix of each row's ``prefix_length`` at the first free place, under a lock of
    the parent. Raises ValidationError for a bad length and InsufficientSpace when none fits."""
    with transaction.atomic():
        prefix = Prefix.objects.select_for_update().get(pk=prefix.pk)
        max_length = 32 if prefix.family == 4 else 128
        created = []
        for index, row in enumerate(rows):
            length = row.get("prefix_length")
            if (
                isinstance(length, bool)
                or not isinstance(length, int)
                or not prefix.network.prefixlen <= length <= max_length
            ):
                raise ValidationError(
                    {
                        "prefix_length": f"Row {index}: give an integer from "
                        f"{prefix.network.prefixlen} to {max_length}."
                    }
                )
            block = next((b for b in _free_networks(prefix) if b.prefixlen <= length), None)
            if block is None:
                raise InsufficientSpace(
                    "Insufficient space is available to accommodate the requested prefix size(s) "
                    f"in {prefix.prefix}."
                )
            network = next(block.subnets(new_prefix=length))
            data = {key: value for key, value in row.items() if key != "prefix_length"}
            data.update(prefix=str(network), vrf=prefix.vrf)
            created.append(create_object(model=Prefix, data=data, user=user))
        return created
