"""The job queue on the database under test (SQLite or PostgreSQL): claims, leases, outcomes, workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from inventory.models import Job
from inventory.models.jobs import JobStatusChoices as S
from inventory.services.jobs import claim_job, enqueue_job, finish_job, heartbeat_job
from inventory.worker import JobFailed, Worker

LEASE = timedelta(seconds=60)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def t0():
    return timezone.now()


def test_claims_oldest_first_each_job_once(db, t0):
    first = enqueue_job(kind="k", data={"n": 1}, now=t0)
    second = enqueue_job(kind="k", data={"n": 2}, now=t0 + timedelta(seconds=1))
    a = claim_job(worker="a", now=t0 + timedelta(seconds=2), lease=LEASE)
    b = claim_job(worker="b", now=t0 + timedelta(seconds=2), lease=LEASE)
    assert (a.pk, b.pk) == (first.pk, second.pk)
    assert (a.status, a.worker, a.attempts, a.lease_expires) == (
        S.STATUS_RUNNING,
        "a",
        1,
        t0 + LEASE + timedelta(seconds=2),
    )
    assert claim_job(worker="c", now=t0 + timedelta(seconds=3), lease=LEASE) is None
    assert claim_job(worker="c", kinds=["other"], now=t0) is None


def test_a_dead_workers_job_is_reclaimed_after_its_lease_and_errored_after_max_attempts(db, t0):
    job = enqueue_job(kind="k", data={}, now=t0)
    claimed = claim_job(worker="dies", now=t0, lease=LEASE)
    # the heartbeat keeps it: no takeover before the renewed lease runs out
    assert heartbeat_job(
        job=claimed, lease=LEASE, done=5, total=10, stage="checking", now=t0 + timedelta(seconds=50)
    )
    assert claim_job(worker="other", now=t0 + timedelta(seconds=100), lease=LEASE) is None
    again = claim_job(worker="other", now=t0 + timedelta(seconds=111), lease=LEASE)
    assert (again.pk, again.worker, again.attempts) == (job.pk, "other", 2)
    # the first worker lost it: its heartbeat and its outcome are refused
    assert not heartbeat_job(job=claimed, now=t0 + timedelta(seconds=112))
    assert not finish_job(job=claimed, status=S.STATUS_COMPLETED, result={})
    third = claim_job(worker="third", now=t0 + timedelta(seconds=200), lease=LEASE)
    assert third.attempts == 3
    assert claim_job(worker="fourth", now=t0 + timedelta(seconds=300), lease=LEASE) is None
    job.refresh_from_db()
    assert job.status == S.STATUS_ERRORED and "stopped 3 times" in job.result["error"] and job.data is None


def test_finish_records_the_outcome_and_drops_the_input(db, t0):
    enqueue_job(kind="k", data={"secret": "community"}, total=3, now=t0)
    job = claim_job(worker="w", now=t0)
    assert finish_job(job=job, status=S.STATUS_COMPLETED, result={"created": 3})
    job.refresh_from_db()
    assert (job.status, job.result, job.data, job.progress_done, job.lease_expires) == (
        S.STATUS_COMPLETED, {"created": 3}, None, 3, None,
    )  # fmt: skip
    with pytest.raises(ValueError, match="final"):
        finish_job(job=job, status=S.STATUS_RUNNING, result={})


def test_worker_runs_handlers_to_completed_failed_errored(db):
    def handler(job, progress):
        progress("checking", 1, 2)
        if job.data == "bad input":
            raise JobFailed({"errors": ["row 1"]})
        if job.data == "crash":
            raise RuntimeError("boom")
        progress("writing", 2, 2)
        return {"ok": job.data}

    jobs = [enqueue_job(kind="test", data=data) for data in ("fine", "bad input", "crash")]
    worker = Worker(name="w1", handlers={"test": handler}, heartbeat_every=0.05)
    assert worker.run(until_idle=True, max_jobs=10) == 3
    done = [Job.objects.get(pk=j.pk) for j in jobs]
    assert [(j.status, j.result) for j in done] == [
        (S.STATUS_COMPLETED, {"ok": "fine"}),
        (S.STATUS_FAILED, {"errors": ["row 1"]}),
        (S.STATUS_ERRORED, {"error": "RuntimeError: boom"}),
    ]
    assert (done[0].progress_done, done[0].progress_total, done[0].progress_stage) == (2, 2, "writing")
    assert (done[1].progress_done, done[1].progress_stage) == (1, "checking")


def _check_drained(report: dict) -> None:
    assert report["errors"] == [] and report["alive"] == 0
    assert sorted(pk for pk, _ in report["runs"]) == sorted(report["ids"])  # every job once, none twice
    assert report["statuses"] == [S.STATUS_COMPLETED]


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_run_the_same_job():
    """Real concurrent claims, four workers with their own connections draining 40 jobs: in this process
    on PostgreSQL (SKIP LOCKED); on SQLite in a helper process on a file database (the in-memory test
    database has no file locking), with the production setting ``transaction_mode=IMMEDIATE``."""
    if connection.vendor == "postgresql":
        from tests.jobs.concurrent_claims import drain

        _check_drained(drain(jobs=40, workers=4))
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'claims.sqlite3'}"
        out = subprocess.run(
            [sys.executable, "-m", "tests.jobs.concurrent_claims", url],
            capture_output=True, text=True, timeout=600, cwd=ROOT,
            env={**os.environ, "INFRASTRAND_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": ""},
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-3000:]
        _check_drained(json.loads(out.stdout.strip().splitlines()[-1]))


def test_runworker_command_drains_the_queue(db, capsys):
    from django.core.management import call_command

    from inventory.importer.job import enqueue_import

    job = enqueue_import(model="tags", format="csv", text="name,slug\nGold,gold\n", total=1)
    call_command("runworker", "--until-idle", "--name", "cmd-worker")
    job.refresh_from_db()
    assert (job.status, job.worker, job.result["created"]) == (S.STATUS_COMPLETED, "cmd-worker", 1)
    assert "ran 1 job(s)" in capsys.readouterr().out
