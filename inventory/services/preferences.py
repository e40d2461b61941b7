"""A user's UI preferences: read and written by dotted path, under a row lock so two tabs lose nothing."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from inventory.models import UserConfig


def get_preference(*, user, path: str, default: Any = None) -> Any:
    if not getattr(user, "is_authenticated", False):
        return default
    config = UserConfig.objects.filter(user=user).first()
    node: Any = config.data if config else {}
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


@transaction.atomic
def set_preference(*, user, path: str, value: Any) -> None:
    """Set (or with ``value=None`` remove) the preference at ``path``; other paths are kept."""
    UserConfig.objects.get_or_create(user=user)
    config = UserConfig.objects.select_for_update().get(user=user)
    *parents, leaf = path.split(".")
    node = config.data
    for part in parents:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value
    config.save(update_fields=["data"])
