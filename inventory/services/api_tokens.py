"""Tokens issued through the API (``/api/users/tokens/`` and ``…/provision/``)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from inventory.models import Token
from inventory.services.changelog import change_context


def token_issue(
    *, user, write_enabled: bool = True, description: str = "", expires: datetime | None = None, actor=None
) -> tuple[Token, str]:
    """A new (non-collector) token of ``user``, logged as done by ``actor`` (default: the user).

    Returns the token and its plaintext key, which is stored nowhere.
    """
    with transaction.atomic(), change_context(user=actor or user):
        return Token.create_token(
            user=user, write_enabled=write_enabled, description=description, expires=expires
        )
