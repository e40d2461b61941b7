"""Collectors racing to claim one discovery job, each thread with its own connection; prints the outcome.

    python -m tests.api.concurrent_claims DATABASE_URL

Used by the tests for SQLite, whose in-memory test database cannot show file-database locking: this
process migrates a fresh SQLite file (``transaction_mode=IMMEDIATE`` as in production) and runs the
threads there. Bounded: each thread claims once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading

THREADS = 4


def race(job_id: int, key: str) -> dict:
    """THREADS collectors POST a claim of the job at once (through the API); their answers."""
    from django.db import connection
    from rest_framework.test import APIClient

    answers: dict[str, int] = {}
    errors: list[str] = []
    start = threading.Barrier(THREADS, timeout=60)

    def work(k: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            start.wait()
            response = client.post(
                f"/api/collector/discovery/{job_id}/claim/", {"collector": f"collector-{k}"}, format="json"
            )
            answers[f"collector-{k}"] = response.status_code
        except Exception as exc:  # reported to the test, which fails on any
            errors.append(f"{k}: {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    from inventory.models import DiscoveryJob

    holder = DiscoveryJob.objects.get(pk=job_id).claimed_by
    return {
        "errors": errors,
        "alive": sum(t.is_alive() for t in threads),
        "answers": answers,
        "holder": holder,
    }


def make_job() -> tuple[int, str]:
    """A group, a profile, a job of that group and a collector token bound to it (in the current database)."""
    from inventory.models import CollectorGroup, SnmpProfile
    from inventory.services.discovery import discovery_job_create
    from inventory.services.tokens import token_create

    group = CollectorGroup.objects.create(name="Race", slug="race", exporter_address="127.0.0.1:9781")
    profile = SnmpProfile.objects.create(name="race-v2c", version="2c", community="race-community-1")
    job = discovery_job_create(data={"prefix": "127.77.0.0/28", "group": group, "profiles": [profile]})
    _, key, _ = token_create(username="race-collector", collector=True, groups=["race"])
    return job.pk, key


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("database_url")
    args = ap.parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("INFRASTRAND_VAR_DIR", tempfile.mkdtemp(prefix="infrastrand-claims-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "inventory.project.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    print(json.dumps(race(*make_job())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
