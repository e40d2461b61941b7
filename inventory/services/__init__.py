"""Keyword-only write functions, each validating, saving and logging its change in one transaction."""

from inventory.services.changelog import change_context, serialize_object
from inventory.services.objects import create_object, delete_object, ensure_object, update_object

__all__ = [
    "change_context",
    "create_object",
    "delete_object",
    "ensure_object",
    "serialize_object",
    "update_object",
]
