"""HA collector groups: leases renewed by the targets request, devices shared by rendezvous hashing.

PostgreSQL (or SQLite) is the source of truth: a collector is a live member of its group while its
:class:`~inventory.models.CollectorMember` row's ``lease_expires`` is in the future, and that is checked
in the query (``lease_expires > now``), never from a cached list.  A lease lasts
``COLLECTOR_LEASE_REFRESHES`` (default 3) of the collector's own refresh periods, so a collector that
misses three refreshes drops out and the survivors take its devices on their next refresh.

Each device goes to the live member with the highest ``score(member, device)`` (rendezvous / HRW
hashing): removing a member moves only its own devices, and a member that comes back takes back only
the devices it scores highest on, ~1/N of the group.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from inventory.models import CollectorGroup, CollectorMember

DEFAULT_LEASE_REFRESHES = 3
"""A member is dropped after this many missed refreshes (setting ``COLLECTOR_LEASE_REFRESHES``)."""
MIN_REFRESH_SECONDS = 0.5
MAX_REFRESH_SECONDS = 3600.0


def lease_refreshes() -> float:
    return float(getattr(settings, "COLLECTOR_LEASE_REFRESHES", DEFAULT_LEASE_REFRESHES))


def heartbeat(
    *, group: CollectorGroup, name: str, address: str, refresh: float, now: datetime | None = None
) -> CollectorMember:
    """Register ``name`` in ``group`` (or renew its lease) in one upsert statement.

    ``INSERT … ON CONFLICT (group, name) DO UPDATE`` on PostgreSQL and SQLite: concurrent heartbeats
    of the same or different collectors neither lose a row nor fail on the unique constraint.
    """
    now = now or timezone.now()
    refresh = min(max(float(refresh), MIN_REFRESH_SECONDS), MAX_REFRESH_SECONDS)
    member = CollectorMember(
        group=group,
        name=name,
        exporter_address=address,
        refresh_seconds=refresh,
        first_seen=now,
        last_seen=now,
        lease_expires=now + timedelta(seconds=refresh * lease_refreshes()),
    )
    CollectorMember.objects.bulk_create(
        [member],
        update_conflicts=True,
        unique_fields=("group", "name"),
        update_fields=("exporter_address", "refresh_seconds", "last_seen", "lease_expires"),
    )
    return member


def live_members(
    group_ids: Iterable[int], *, now: datetime | None = None
) -> dict[int, list[CollectorMember]]:
    """The members whose lease has not expired, by group id (expiry checked in SQL)."""
    now = now or timezone.now()
    out: dict[int, list[CollectorMember]] = {}
    rows = CollectorMember.objects.filter(group_id__in=list(group_ids), lease_expires__gt=now)
    for member in rows.order_by("group_id", "name"):
        out.setdefault(member.group_id, []).append(member)
    return out


def scrape_members(
    group_ids: Iterable[int], *, now: datetime | None = None
) -> dict[int, list[CollectorMember]]:
    """Whom Prometheus should scrape, by group: the live members; for a group without any, the members
    whose lease ran out less than one lease ago.

    When every lease of a group runs out at once the inventory itself was most likely slow (a stalled
    process or database delays every heartbeat alike), not every collector dead: pointing the scrapes
    at the group's static address then would fail them all.  The collectors keep polling what they
    were last given, so the last members are the better guess for one more lease.
    """
    now = now or timezone.now()
    ids = list(group_ids)
    out = live_members(ids, now=now)
    orphaned = [gid for gid in ids if gid not in out]
    if orphaned:
        recent = CollectorMember.objects.filter(group_id__in=orphaned, lease_expires__lte=now)
        for member in recent.order_by("group_id", "name"):
            if member.lease_expires + (member.lease_expires - member.last_seen) > now:
                out.setdefault(member.group_id, []).append(member)
    return out


def score(member: str, device: str) -> int:
    """The rendezvous weight of ``device`` on ``member`` (stable across processes and versions)."""
    digest = hashlib.blake2b(f"{member}\0{device}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def assigned(device: str, members: list[CollectorMember]) -> CollectorMember:
    """The live member that polls ``device``: the highest score (ties, impossible in practice, by name)."""
    return max(members, key=lambda m: (score(m.name, device), m.name))
