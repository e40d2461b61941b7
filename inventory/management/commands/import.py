"""``manage.py import FILE [--model …] [--format …]``: bulk import, all-or-nothing, with a progress bar."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inventory import importer
from inventory.importer.job import enqueue_import
from inventory.models.jobs import Job, JobStatusChoices


class _Bar:
    """One tqdm bar per stage (checking, writing) fed by the importer's progress callback."""

    def __init__(self, model: str, disable: bool) -> None:
        self.model, self.disable = model, disable
        self.bar: tqdm | None = None
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage or self.bar is None:
            self.close()
            self.stage = stage
            self.bar = tqdm(
                total=total, unit="row", desc=f"{stage} {self.model}", disable=self.disable, file=sys.stderr
            )
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = (
        "Import (create, or update rows with an id) any model of the API from a CSV, YAML or JSON file. "
        "Related objects by slug or name. Writes everything or nothing; every error names row and field."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="path of the file, or - for standard input (then give --format)")
        parser.add_argument(
            "--model", help="what the file holds: an API endpoint name (default: from the file name)"
        )
        parser.add_argument(
            "--format", choices=importer.FORMATS, help="file format (default: from its extension)"
        )
        parser.add_argument("--user", help="user the change log names (default: none)")
        parser.add_argument("--dry-run", action="store_true", help="only validate; write nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--background",
            action="store_true",
            help="queue it as a job for manage.py runworker and follow its progress",
        )
        parser.add_argument(
            "--timeout", type=float, default=3600.0, help="with --background: seconds to follow the job"
        )

    def handle(self, *args, **options) -> None:
        path = options["file"]
        model = options["model"] or _model_from_name(path)
        if model not in importer.model_names():
            raise CommandError(f"Unknown model {model!r}; use one of {', '.join(importer.model_names())}.")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.")
        bar = _Bar(model, disable=options["no_progress"])
        try:
            fmt = options["format"] or importer.format_for(path)
            text = importer.parsing.text_of(sys.stdin.read() if path == "-" else Path(path).read_bytes())
            rows = importer.parse(text, format=fmt, model=model)
            if options["background"]:
                job = enqueue_import(
                    model=model, format=fmt, text=text, user=user, dry_run=options["dry_run"], total=len(rows)
                )
                self.stdout.write(f"Queued job {job.pk} ({len(rows)} {model}).")
                self._follow(job, bar, options["timeout"])
                return
            result = importer.run(rows, model=model, user=user, dry_run=options["dry_run"], progress=bar)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        except importer.ImportFailed as failed:
            bar.close()
            self._fail(failed.errors)
        bar.close()
        self._done(result.as_dict())

    def _follow(self, job: Job, bar: _Bar, timeout: float) -> None:
        """Show the job's progress until it finishes (or ``timeout`` seconds pass)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.progress_stage:
                bar(job.progress_stage, job.progress_done, job.progress_total)
            if job.finished:
                break
            time.sleep(0.5)
        bar.close()
        if not job.finished:
            raise CommandError(f"Job {job.pk} is still {job.status}; is manage.py runworker running?")
        if job.status == JobStatusChoices.STATUS_FAILED:
            errors = job.result.get("errors", [])
            self._fail([importer.RowError(e["row"], e["field"], e["message"]) for e in errors])
        if job.status == JobStatusChoices.STATUS_ERRORED:
            raise CommandError(f"Job {job.pk} errored: {job.result.get('error')}")
        self._done(job.result)

    def _fail(self, errors: list[importer.RowError]) -> None:
        for error in errors:
            self.stderr.write(str(error))
        raise CommandError(f"Import failed: {len(errors)} error(s); nothing was written.")

    def _done(self, result: dict) -> None:
        model = result["model"]
        if result.get("dry_run"):
            self.stdout.write(f"The {model} are valid (dry run: nothing written).")
            return
        self.stdout.write(
            self.style.SUCCESS(f"Imported {model}: {result['created']} created, {result['updated']} updated.")
        )


def _model_from_name(path: str) -> str:
    """``sites.csv`` → ``sites``; ``ip_addresses.yaml`` → ``ip-addresses``."""
    stem = Path(path).stem.lower().replace("_", "-")
    names = sorted(importer.model_names(), key=len, reverse=True)  # "device-types" before "devices"
    for model in names:
        if stem == model or stem.endswith(f"-{model}") or stem.startswith(f"{model}-"):
            return model
    raise CommandError(
        f"Give --model (one of {', '.join(importer.model_names())}): cannot tell it from {path!r}."
    )
