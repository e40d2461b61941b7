"""Stored sort keys: IP values and natural names as fixed-form text that sorts right under any collation.

The keys hold only ``0-9a-f`` so PostgreSQL (whatever its locale) and SQLite order them byte-wise,
which lets a plain B-tree index serve ``ORDER BY`` and range filters (prefix containment).
"""

from __future__ import annotations

import ipaddress
import re

HOST_KEY_LENGTH = 32
"""Hex digits of a 128-bit address; IPv4 addresses are zero-padded to the same width."""

NATURAL_KEY_LENGTH = 200
NATURAL_DIGITS = 8

_DIGITS = re.compile(r"\d+")


def host_key(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """``10.0.0.2`` → ``000…0a000002``: the address as zero-padded hex (sorts like the number)."""
    return f"{int(address):0{HOST_KEY_LENGTH}x}"


def network_keys(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[str, str]:
    """The host keys of a network's first and last address."""
    return host_key(network.network_address), host_key(network.broadcast_address)


def natural_key(name: str) -> str:
    """A key under which ``Gi0/2`` sorts before ``Gi0/10``: digit runs zero-padded, then hex-encoded.

    Digit runs longer than the pad width keep their length (they still sort after shorter ones of
    the same prefix only if padded equally, which names of real equipment never exceed). The hex form
    makes the order byte-wise under every database collation.
    """
    padded = _DIGITS.sub(lambda match: match.group().lstrip("0").zfill(NATURAL_DIGITS), name.lower())
    return padded.encode().hex()[:NATURAL_KEY_LENGTH]
