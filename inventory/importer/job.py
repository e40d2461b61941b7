"""The ``import`` job kind: an import run by ``manage.py runworker`` instead of inside a request."""

from __future__ import annotations

from typing import Any

from inventory.importer.errors import ImportFailed
from inventory.importer.parsing import parse
from inventory.importer.run import run
from inventory.models.jobs import Job
from inventory.services.jobs import enqueue_job

KIND = "import"


def enqueue_import(
    *, model: str, format: str, text: str, user=None, dry_run: bool = False, total: int = 0
) -> Job:
    """Queue an import of ``text`` (the file's content) as a background job."""
    return enqueue_job(
        kind=KIND,
        data={"model": model, "format": format, "text": text, "dry_run": dry_run},
        user=user,
        total=total,
    )


def run_import_job(job: Job, progress) -> dict[str, Any]:
    """Parse and import the job's file; every error goes into the result of the failed job."""
    from inventory.worker import JobFailed

    data = job.data or {}
    model = data.get("model", "")
    try:
        rows = parse(data.get("text", ""), format=data.get("format", ""), model=model)
        progress("checking", 0, len(rows))
        result = run(rows, model=model, user=job.user, dry_run=bool(data.get("dry_run")), progress=progress)
    except ImportFailed as failed:
        raise JobFailed(
            {"model": model, "errors": [error.as_dict() for error in failed.errors], "written": 0}
        ) from None
    return result.as_dict()
