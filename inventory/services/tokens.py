"""API tokens for people and collectors."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from inventory.models import Token
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
)
"""What a collector user may do: read its targets (devices, profiles, groups) and report observations.

A collector token (``Token.collector``) is additionally limited by the API to the collector endpoints.
"""


def collector_group() -> Group:
    """The ``collectors`` group holding exactly :data:`COLLECTOR_PERMISSIONS`."""
    group, _ = Group.objects.get_or_create(name=COLLECTOR_GROUP)
    wanted = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in COLLECTOR_PERMISSIONS
    ]
    if set(group.permissions.all()) != set(wanted):
        group.permissions.set(wanted)
    return group


def token_create(
    *,
    username: str,
    write_enabled: bool = False,
    collector: bool = False,
    description: str = "",
    expires: datetime | None = None,
    actor: str = "createtoken",
) -> tuple[Token, str, bool]:
    """A new token for ``username`` (created without a usable password if missing).

    A collector token is write-enabled (it posts observations) and its user joins the collectors group.
    Returns ``(token, plaintext_key, user_created)``; the plaintext is not stored anywhere.
    """
    with transaction.atomic(), change_context(username=actor):
        user_model = get_user_model()
        user, user_created = user_model.objects.get_or_create(**{user_model.USERNAME_FIELD: username})
        if user_created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if collector:
            user.groups.add(collector_group())
        token, plaintext = Token.create_token(
            user=user,
            write_enabled=write_enabled or collector,
            collector=collector,
            description=description,
            expires=expires,
        )
    return token, plaintext, user_created
