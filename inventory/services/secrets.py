"""Key rotation: re-encrypt every stored secret under the first key of ``settings.SECRETS_KEYS``."""

from __future__ import annotations

from django.apps import apps
from django.db import connection, transaction

from inventory import crypto
from inventory.fields import EncryptedTextField


def encrypted_fields() -> list[tuple[type, EncryptedTextField]]:
    """Every (model, field) of the inventory that is encrypted at rest."""
    return [
        (model, field)
        for model in apps.get_app_config("inventory").get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def reencrypt_secrets() -> int:
    """Rewrite each stored secret under the current first key; returns the number of values rewritten.

    Works on the raw column (no model save), so it changes no plaintext and logs no change record.
    """
    rewritten = 0
    with transaction.atomic():
        for model, field in encrypted_fields():
            table, column, pk = model._meta.db_table, field.column, model._meta.pk.column
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)}")
                rows = cursor.fetchall()
                for row_pk, token in rows:
                    if not token:
                        continue
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk)} = %s",
                        [crypto.rotate(token), row_pk],
                    )
                    rewritten += 1
    return rewritten
