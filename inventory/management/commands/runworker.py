"""``manage.py runworker``: run background jobs (imports) from the database-backed queue."""

from __future__ import annotations

import signal
from datetime import timedelta

from django.core.management.base import BaseCommand

from inventory.worker import Worker


class Command(BaseCommand):
    help = (
        "Run queued background jobs (large imports). Any number of workers may run at once, on PostgreSQL "
        "or SQLite; a job whose worker died is taken over when its lease runs out."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", help="worker name in the job records (default: host:pid:thread)")
        parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between queue checks")
        parser.add_argument(
            "--lease", type=float, default=600.0, help="seconds a claim holds without a heartbeat (600)"
        )
        parser.add_argument("--max-jobs", type=int, help="stop after this many jobs")
        parser.add_argument("--until-idle", action="store_true", help="stop when the queue is empty")

    def handle(self, *args, **options) -> None:
        worker = Worker(name=options["name"], lease=timedelta(seconds=options["lease"]))

        def stop(signum, frame) -> None:  # finish the running job, then leave
            worker.stopping.set()

        previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        self.stdout.write(f"worker {worker.name} waiting for jobs")
        self.stdout.flush()
        try:
            count = worker.run(
                poll_interval=options["poll_interval"],
                max_jobs=options["max_jobs"],
                until_idle=options["until_idle"],
            )
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write(f"worker {worker.name} ran {count} job(s)")
