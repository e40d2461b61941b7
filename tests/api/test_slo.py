"""Availability objectives and maintenance windows (issue 14.4): API writes through the services with a
change record, errors naming the field, and their export on the inventory's /metrics (promtool-clean)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from inventory import models as m


def samples(text: str, name: str) -> list:
    return [s for f in text_string_to_metric_families(text) for s in f.samples if s.name == name]


def test_slo_crud_logs_changes_and_names_bad_fields(api, inv):
    response = api.post(
        "/api/monitoring/slos/",
        {
            "name": "Infrastructure",
            "target_percent": "99.5",
            "scope": "strand",
            "scope_value": "infrastructure",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["scope"] == {"value": "strand", "label": "Strand"}
    assert body["window"]["value"] == "monthly" and body["target_percent"] == 99.5
    change = m.ObjectChange.objects.get(
        changed_object_id=body["id"], action="create", object_repr="Infrastructure"
    )
    assert change.postchange_data["target_percent"] in ("99.500", 99.5, "99.5")

    bad = api.post(
        "/api/monitoring/slos/",
        {"name": "Nowhere", "target_percent": "99.5", "scope": "site", "scope_value": "atlantis"},
        format="json",
    )
    assert bad.status_code == 400 and "scope_value" in bad.json()
    too_high = api.patch(f"/api/monitoring/slos/{body['id']}/", {"target_percent": "100"}, format="json")
    assert too_high.status_code == 400 and "target_percent" in too_high.json()
    assert api.get("/api/monitoring/slos/", {"scope": "strand"}).json()["count"] == 1
    assert api.get("/api/monitoring/slos/", {"scope": "site"}).json()["count"] == 0


def test_maintenance_window_end_after_start(api, inv):
    now = timezone.now()
    response = api.post(
        "/api/monitoring/maintenance-windows/",
        {
            "start": now.isoformat(),
            "end": (now - timedelta(hours=1)).isoformat(),
            "reason": "UPS swap",
            "scope": "site",
            "scope_value": "casablanca-dc1",
        },
        format="json",
    )
    assert response.status_code == 400 and "end" in response.json()
    # A list is all-or-nothing: one bad row and nothing is written.
    rows = [
        {"start": now.isoformat(), "end": (now + timedelta(hours=2)).isoformat(), "reason": "ok"}
        | {"scope": "device", "scope_value": inv.devices[0].name},
        {"start": now.isoformat(), "end": (now + timedelta(hours=2)).isoformat(), "reason": "bad"}
        | {"scope": "device", "scope_value": "no-such-device"},
    ]
    assert api.post("/api/monitoring/maintenance-windows/", rows, format="json").status_code == 400
    assert not m.MaintenanceWindow.objects.exists()


def test_objectives_and_active_maintenance_on_metrics(api, inv):
    now = timezone.now()
    m.ServiceLevelObjective.objects.create(
        name="MA sites", target_percent="99.5", scope="country", scope_value="MA"
    )
    current = m.MaintenanceWindow.objects.create(
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=1),
        reason="Power work",
        scope="site",
        scope_value="casablanca-dc1",
    )
    m.MaintenanceWindow.objects.create(
        start=now - timedelta(days=2),
        end=now - timedelta(days=1),
        reason="Over",
        scope="site",
        scope_value="betzdorf",
    )
    text = api.get("/metrics").content.decode()
    [objective] = samples(text, "infrastrand_slo_objective_ratio")
    assert objective.labels == {"slo": "MA sites", "scope": "country", "scope_value": "MA"}
    assert objective.value == 0.995
    active = samples(text, "infrastrand_maintenance_active")
    in_casablanca = sorted(d.name for d in inv.devices if d.site.slug == "casablanca-dc1")
    assert sorted(s.labels["device"] for s in active) == in_casablanca
    assert {s.labels["window"] for s in active} == {str(current.pk)}
    assert {s.labels["maintenance_scope"] for s in active} == {"site"}
    assert all(s.labels["country"] == "MA" and s.value == 1 for s in active)

    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) must be installed"
    ours = "".join(
        line + "\n"
        for line in text.splitlines()
        if "infrastrand_slo_objective_ratio" in line or "infrastrand_maintenance_active" in line
    )
    result = subprocess.run(
        [promtool, "check", "metrics"], input=ours.encode(), capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
