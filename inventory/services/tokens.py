"""API tokens for people and collectors."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from inventory.models import CollectorGroup, CredentialFetch, Token
from inventory.services.changelog import change_context

COLLECTOR_GROUP = "collectors"
"""The auth group of collector users."""

COLLECTOR_PERMISSIONS = (
    ("inventory", "view_device"),
    ("inventory", "view_snmpprofile"),
    ("inventory", "view_collectorgroup"),
    ("inventory", "view_deviceobservation"),
    ("inventory", "add_deviceobservation"),
    ("inventory", "change_deviceobservation"),
    ("inventory", "add_event"),
)
"""What a collector user may do: read its targets (devices, profiles, groups) and report observations.

A collector token (``Token.collector``) is additionally limited by the API to the collector endpoints.
"""


PROMETHEUS_GROUP = "prometheus"
"""The auth group of Prometheus' user (http_sd and the inventory's /metrics)."""

PROMETHEUS_PERMISSIONS = (("inventory", "view_device"),)
"""What Prometheus needs: the device list behind http_sd and /metrics, nothing else."""


def _auth_group(name: str, permissions: tuple[tuple[str, str], ...]) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    wanted = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in permissions
    ]
    if set(group.permissions.all()) != set(wanted):
        group.permissions.set(wanted)
    return group


def collector_group() -> Group:
    """The ``collectors`` group holding exactly :data:`COLLECTOR_PERMISSIONS`."""
    return _auth_group(COLLECTOR_GROUP, COLLECTOR_PERMISSIONS)


def prometheus_group() -> Group:
    """The ``prometheus`` group holding exactly :data:`PROMETHEUS_PERMISSIONS`."""
    return _auth_group(PROMETHEUS_GROUP, PROMETHEUS_PERMISSIONS)


def token_create(
    *,
    username: str,
    write_enabled: bool = False,
    collector: bool = False,
    groups: Sequence[str] = (),
    prometheus: bool = False,
    description: str = "",
    expires: datetime | None = None,
    actor: str = "createtoken",
) -> tuple[Token, str, bool]:
    """A new token for ``username`` (created without a usable password if missing).

    A collector token is write-enabled (it posts observations), bound to the collector groups whose
    slugs are ``groups`` (at least one; only a collector token takes groups), and its user joins the
    collectors group. A ``prometheus`` token's user joins the prometheus group (http_sd, /metrics).
    Returns ``(token, plaintext_key, user_created)``; the plaintext is not stored. Raises
    ``ValidationError`` naming the unknown group(s) or the missing/unexpected ``groups``.
    """
    bound = _collector_groups(collector=collector, slugs=groups)
    with transaction.atomic(), change_context(username=actor):
        user_model = get_user_model()
        user, user_created = user_model.objects.get_or_create(**{user_model.USERNAME_FIELD: username})
        if user_created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if collector:
            user.groups.add(collector_group())
        if prometheus:
            user.groups.add(prometheus_group())
        token, plaintext = Token.create_token(
            user=user,
            write_enabled=write_enabled or collector,
            collector=collector,
            description=description,
            expires=expires,
        )
        if bound:
            token.collector_groups.set(bound)
    return token, plaintext, user_created


def _collector_groups(*, collector: bool, slugs: Sequence[str]) -> list[CollectorGroup]:
    wanted = list(dict.fromkeys(slug.strip() for slug in slugs if slug.strip()))
    if not collector:
        if wanted:
            raise ValidationError({"groups": "Only a collector token is bound to collector groups."})
        return []
    if not wanted:
        raise ValidationError(
            {"groups": "A collector token needs at least one collector group (--group SLUG)."}
        )
    found = {group.slug: group for group in CollectorGroup.objects.filter(slug__in=wanted)}
    missing = [slug for slug in wanted if slug not in found]
    if missing:
        known = ", ".join(CollectorGroup.objects.order_by("slug").values_list("slug", flat=True)) or "none"
        raise ValidationError(
            {"groups": f"Unknown collector group(s): {', '.join(missing)}. Known: {known}."}
        )
    return [found[slug] for slug in wanted]


def credential_fetch_record(
    *, request, group_slug: str, group: CollectorGroup | None, status: int, targets: int = 0
) -> CredentialFetch:
    """Record one targets request of the request's collector token: a single INSERT, no secret."""
    token = request.auth
    return CredentialFetch.objects.create(
        token_id=token.pk,
        token_prefix=token.key_prefix,
        user_id=token.user_id,
        username=token.user.get_username(),
        group_id=group.pk if group is not None else None,
        group_slug=group_slug[: CredentialFetch._meta.get_field("group_slug").max_length],
        client_address=_client_address(request),
        status=status,
        targets=targets,
    )


def _client_address(request) -> str | None:
    """The peer address (``REMOTE_ADDR``; the inventory terminates TLS itself, so no proxy header)."""
    address = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
