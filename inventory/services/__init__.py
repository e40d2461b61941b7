"""Keyword-only write functions, each validating, saving and logging its change in one transaction."""

from inventory.services.changelog import change_context, serialize_object
from inventory.services.objects import (
    create_object,
    delete_object,
    ensure_object,
    lock_object,
    object_version,
    update_object,
)

__all__ = [
    "change_context",
    "create_object",
    "delete_object",
    "ensure_object",
    "lock_object",
    "object_version",
    "serialize_object",
    "update_object",
]
