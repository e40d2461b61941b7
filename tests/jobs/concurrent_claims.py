"""Concurrent workers on one database: each thread has its own connection; prints who ran which job.

    python -m tests.jobs.concurrent_claims DATABASE_URL [--jobs 40] [--workers 4]

Used by the tests for SQLite, whose in-memory test database cannot show file-database locking:
this process migrates a fresh SQLite file (``transaction_mode=IMMEDIATE`` as in production) and drains
the queue with real concurrent claims. Bounded: each worker stops when the queue is empty.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading


def drain(jobs: int, workers: int) -> dict:
    """Enqueue ``jobs`` jobs and run ``workers`` threads until the queue is empty."""
    from django.db import connection

    from inventory.models import Job
    from inventory.services.jobs import enqueue_job
    from inventory.worker import Worker

    ids = [enqueue_job(kind="count", data=i).pk for i in range(jobs)]
    runs: list[list] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(workers, timeout=60)

    def handler(job, progress):
        with lock:
            runs.append([job.pk, threading.current_thread().name])
        return {}

    def work(name: str) -> None:
        try:
            start.wait()
            worker = Worker(name=name, handlers={"count": handler}, heartbeat_every=5)
            worker.run(until_idle=True, max_jobs=jobs)
        except Exception as exc:  # reported to the test, which fails on any
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",), name=f"w{i}") for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    statuses = sorted(set(Job.objects.filter(pk__in=ids).values_list("status", flat=True)))
    return {
        "ids": ids,
        "runs": runs,
        "errors": errors,
        "alive": sum(thread.is_alive() for thread in threads),
        "statuses": statuses,
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("database_url")
    ap.add_argument("--jobs", type=int, default=40)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("INFRASTRAND_VAR_DIR", tempfile.mkdtemp(prefix="infrastrand-claims-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "inventory.project.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    print(json.dumps(drain(args.jobs, args.workers)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
