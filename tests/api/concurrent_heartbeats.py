"""Concurrent HA heartbeats on one database, each thread with its own connection; prints the outcome.

    python -m tests.api.concurrent_heartbeats DATABASE_URL

Used by the tests for SQLite, whose in-memory test database cannot show file-database locking: this
process migrates a fresh SQLite file (``transaction_mode=IMMEDIATE`` as in production) and runs the
threads there.  Bounded: each thread sends a fixed number of heartbeats.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading

THREADS = 8
ROUNDS = 20


def hammer(group_id: int) -> dict:
    """THREADS threads renew 4 shared and one own member each, ROUNDS times; the errors and rows."""
    from django.db import connection

    from inventory.models import CollectorGroup, CollectorMember
    from inventory.services.membership import heartbeat

    errors: list[str] = []
    start = threading.Barrier(THREADS, timeout=60)

    def work(k: int) -> None:
        try:
            group = CollectorGroup.objects.get(pk=group_id)
            start.wait()
            for i in range(ROUNDS):
                for name in (f"shared-{i % 4}", f"own-{k}"):
                    heartbeat(group=group, name=name, address=f"127.0.0.1:{9800 + k}", refresh=10)
        except Exception as exc:  # reported to the test, which fails on any
            errors.append(f"{k}: {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    names = sorted(CollectorMember.objects.filter(group_id=group_id).values_list("name", flat=True))
    return {"errors": errors, "alive": sum(t.is_alive() for t in threads), "names": names}


def expected_names() -> list[str]:
    return sorted([f"shared-{i}" for i in range(4)] + [f"own-{k}" for k in range(THREADS)])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("database_url")
    args = ap.parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("INFRASTRAND_VAR_DIR", tempfile.mkdtemp(prefix="infrastrand-heartbeats-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "inventory.project.settings"
    import django

    django.setup()
    from django.core.management import call_command

    from inventory.models import CollectorGroup

    call_command("migrate", verbosity=0, interactive=False)
    group = CollectorGroup.objects.create(name="HA", slug="ha", exporter_address="127.0.0.1:9781")
    print(json.dumps(hammer(group.pk)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
