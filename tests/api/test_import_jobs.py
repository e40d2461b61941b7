"""Imports as background jobs: API 202 + job polling, the worker, the CLI, permissions and secrets."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from inventory import models as m
from inventory.models.jobs import JobStatusChoices as S
from inventory.worker import Worker

DEVICES = [
    {"name": f"job-dev-{i}", "site": "casablanca-dc1", "role": "core-router", "device_type": "C8300"}
    for i in range(5)
]


def _job(api, pk: int) -> dict:
    response = api.get(f"/api/core/jobs/{pk}/")
    assert response.status_code == 200, response.content
    return response.json()


def test_large_import_answers_202_and_the_job_shows_progress_and_result(api, inv, monkeypatch):
    monkeypatch.setattr("inventory.api.views.importer.SYNC_MAX_ROWS", 3)  # 5 rows: over the threshold
    response = api.post("/api/import/", {"model": "devices", "data": DEVICES}, format="json")
    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"].endswith(f"/api/core/jobs/{job['id']}/")
    assert (job["status"]["value"], job["kind"], job["progress"]["total"]) == ("pending", "import", 5)
    assert "data" not in job and not m.Device.objects.filter(name__startswith="job-dev-").exists()

    assert Worker(name="test-worker").run_once().pk == job["id"]
    done = _job(api, job["id"])
    assert done["status"]["value"] == "completed"
    assert done["progress"] == {"done": 5, "total": 5, "stage": "writing", "percent": 100}
    assert (done["result"]["created"], done["result"]["updated"], len(done["result"]["ids"])) == (5, 0, 5)
    assert m.Device.objects.filter(name__startswith="job-dev-").count() == 5
    assert m.Job.objects.get(pk=job["id"]).data is None  # the input is not kept
    listed = api.get("/api/core/jobs/?status=completed").json()
    assert [j["id"] for j in listed["results"]] == [job["id"]]


def test_a_failed_job_reports_every_error_and_writes_nothing(api, inv):
    rows = [*DEVICES[:2], {"name": "bad", "site": "atlantis", "role": "core-router", "device_type": "C8300"},
            {**DEVICES[0], "status": "sleeping"}]  # fmt: skip
    response = api.post("/api/import/", {"model": "devices", "data": rows, "background": True}, format="json")
    assert response.status_code == 202
    Worker(name="test-worker").run_once()
    job = _job(api, response.json()["id"])
    assert job["status"]["value"] == "failed"
    errors = [(e["row"], e["field"]) for e in job["result"]["errors"]]
    assert (3, "site") in errors and (4, "status") in errors and (4, "name") in errors
    assert not m.Device.objects.filter(name__startswith="job-dev-").exists()


def test_jobs_are_private_to_their_user_and_never_show_secrets(api, inv, make_token):
    rows = [{"name": "v2c-secret", "version": "2c", "community": "very-secret-community"}]
    response = api.post(
        "/api/import/", {"model": "snmp-profiles", "data": rows, "background": True}, format="json"
    )
    pk = response.json()["id"]
    other = make_token("add_snmpprofile")
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.get(f"/api/core/jobs/{pk}/", HTTP_AUTHORIZATION=f"Token {other.key}").status_code == 404
    assert "very-secret" not in json.dumps(_job(api, pk))
    Worker(name="test-worker").run_once()
    assert "very-secret" not in json.dumps(_job(api, pk))
    assert m.SnmpProfile.objects.get(name="v2c-secret").community == "very-secret-community"


def test_import_needs_the_add_or_change_permission(inv, make_token):
    from rest_framework.test import APIClient

    client = APIClient()
    adder = make_token("add_device")
    client.credentials(HTTP_AUTHORIZATION=f"Token {adder.key}")
    response = client.post("/api/import/", {"model": "devices", "data": DEVICES[:1]}, format="json")
    assert response.status_code == 201, response.content
    update = [{"id": inv.devices[0].pk, "status": "planned"}]
    response = client.post("/api/import/", {"model": "devices", "data": update}, format="json")
    assert response.status_code == 403 and "change_device" in response.json()["detail"]
    response = client.post("/api/import/", {"model": "sites", "data": [{"name": "x"}]}, format="json")
    assert response.status_code == 403


def test_cli_background_import_queues_a_job_and_follows_it(inv, tmp_path, capsys):
    path = tmp_path / "devices.json"
    path.write_text(json.dumps(DEVICES))
    with pytest.raises(CommandError, match="runworker"):  # no worker ran within the time allowed
        call_command("import", str(path), "--background", "--timeout", "0", "--no-progress")
    job = m.Job.objects.get()
    assert (job.status, job.progress_total) == (S.STATUS_PENDING, 5)
    Worker(name="test-worker").run_once()
    job.refresh_from_db()
    assert job.status == S.STATUS_COMPLETED
    assert m.Device.objects.filter(name__startswith="job-dev-").count() == 5


def test_cli_shows_a_progress_bar_per_stage(inv, tmp_path, capsys):
    path = tmp_path / "devices.json"
    path.write_text(json.dumps(DEVICES))
    call_command("import", str(path))
    captured = capsys.readouterr()
    assert "checking devices" in captured.err and "writing devices" in captured.err and "5/5" in captured.err
    assert "Imported devices: 5 created, 0 updated." in captured.out
