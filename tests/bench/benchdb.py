"""The benchmarks' throw-away inventory database: fresh PostgreSQL, Django set up on it, migrated."""

from __future__ import annotations

import contextlib
import os
import tempfile
from urllib.parse import urlparse

BENCH_SECRETS_KEY = "YmVuY2gtb25seS1rZXktbm90LWEtc2VjcmV0LTAwMDA="
"""A fixed Fernet key for the benchmark databases' throw-away SNMP secrets, so a later run can reuse them."""


def fresh_postgres(url: str) -> None:
    """Drop and re-create the database of ``url`` (connecting to the server's ``postgres`` database)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    """Django on the database of ``url`` (empty: SQLite in a temporary directory), migrated."""
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("INFRASTRAND_VAR_DIR", tempfile.mkdtemp(prefix="infrastrand-bench-"))
    os.environ["INFRASTRAND_SECRETS_KEYS"] = BENCH_SECRETS_KEY
    os.environ["DJANGO_SETTINGS_MODULE"] = "inventory.project.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
