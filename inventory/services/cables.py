"""Cable writes: the interfaces at both ends are locked first, so two writers cannot cable one port twice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from inventory.models import Cable, Interface
from inventory.services.changelog import change_context
from inventory.services.objects import create_object, update_object


def _end_id(value: Any) -> int | None:
    return value.pk if isinstance(value, Interface) else value


def _lock_ends(*interfaces: Any) -> None:
    """Row-lock the end interfaces (in id order, so concurrent writers cannot deadlock)."""
    ids = sorted({pk for pk in map(_end_id, interfaces) if pk is not None})
    list(Interface.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


def cable_create(*, data: Mapping[str, Any], user=None) -> Cable:
    """Create a cable between ``a_interface`` and ``b_interface`` (validated: distinct, not yet cabled)."""
    with transaction.atomic(), change_context(user=user):
        _lock_ends(data.get("a_interface"), data.get("b_interface"))
        return create_object(model=Cable, data=data, user=user)


def cable_update(*, cable: Cable, data: Mapping[str, Any], user=None) -> Cable:
    """Change a cable; moving an end re-checks that the new interface is free."""
    with transaction.atomic(), change_context(user=user):
        _lock_ends(data.get("a_interface"), data.get("b_interface"))
        return update_object(instance=cable, data=data, user=user)
