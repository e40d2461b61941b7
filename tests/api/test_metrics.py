"""The inventory's /metrics: site info for the geomap, device counts, observation state; promtool-clean."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from inventory import models as m
from inventory.services.monitoring import observation_record


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def test_content(api, inv):
    observation_record(device=inv.devices[0], collector="c1", polled_at=timezone.now(), up=True)
    observation_record(
        device=inv.devices[1], collector="c1", polled_at=timezone.now(), up=False, error="timeout"
    )
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    found = samples(response.content.decode())
    info = {s.labels["site"]: s for s in found if s.name == "infrastrand_site_info"}
    assert info["casablanca-dc1"].labels == {
        "site": "casablanca-dc1",
        "name": "Casablanca DC1",
        "country": "MA",
        "region": "grand-casablanca",
        "tenant": "add",
        "strands": "e-government,infrastructure",
        "latitude": "33.573110",
        "longitude": "-7.589843",
        "status": "active",
    }
    assert info["betzdorf"].labels["latitude"] == "" and info["betzdorf"].value == 1
    devices = {
        (s.labels["site"], s.labels["role"]): s.value for s in found if s.name == "infrastrand_devices"
    }
    assert devices == {("casablanca-dc1", "core-router"): 2, ("betzdorf", "access-switch"): 1}
    up = {s.labels["device"]: s.value for s in found if s.name == "infrastrand_device_observation_up"}
    assert up == {"rtr-000": 1, "rtr-001": 0}
    assert not [
        s for s in found if s.name == "infrastrand_device_observation_up" and s.labels["device"] == "rtr-002"
    ]


def test_promtool_check_metrics(api, inv):
    observation_record(device=inv.devices[0], collector="c1", polled_at=timezone.now(), up=True)
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) must be installed"
    text = api.get("/metrics").content
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=30)
    # Parses (exit 1 would be a format error); the only lint finding allowed is the MIB's camelCase
    # ``ifName`` label of infrastrand_interface_documented, kept so alerts join on the polled series' label.
    camel = b"infrastrand_interface_documented label names should be written in 'snake_case' not 'camelCase'"
    findings = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode in (0, 3) and all(line == camel for line in findings), (
        result.stdout + result.stderr
    )


def test_auth_token_or_public_setting(inv, settings, make_token, client_for):
    anonymous = APIClient()
    assert anonymous.get("/metrics").status_code == 401
    assert client_for(make_token("view_site")).get("/metrics").status_code == 403
    assert client_for(make_token("view_device", write=False)).get("/metrics").status_code == 200
    assert client_for(make_token("view_device", collector=True)).get("/metrics").status_code == 403
    settings.METRICS_PUBLIC = True
    assert anonymous.get("/metrics").status_code == 200


@pytest.mark.parametrize("count", [0, 5])
def test_device_counts_follow_the_inventory(api, inv, count):
    m.Device.objects.filter(pk__in=[d.pk for d in inv.devices[count:]]).update(status="offline")
    found = samples(api.get("/metrics").content.decode())
    offline = sum(
        s.value for s in found if s.name == "infrastrand_devices" and s.labels["status"] == "offline"
    )
    assert offline == max(0, len(inv.devices) - count)


def test_metrics_are_token_protected_by_default():
    """Shipped settings (no INFRASTRAND_METRICS_PUBLIC in the environment): /metrics wants a token."""
    code = "import django; django.setup(); from django.conf import settings; print(settings.METRICS_PUBLIC)"
    env = {k: v for k, v in os.environ.items() if k != "INFRASTRAND_METRICS_PUBLIC"}
    env["DJANGO_SETTINGS_MODULE"] = "inventory.project.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "False", result.stderr


def test_documented_interfaces_for_alerts(api, inv):
    """issue 13.4: what is documented, per interface of a monitored device, to join with ifOperStatus."""
    first = m.Interface.objects.get(device=inv.devices[0], name="Gi0/0")
    patched = api.patch(f"/api/dcim/interfaces/{first.pk}/", {"mark_connected": True}, format="json")
    assert patched.status_code == 200 and patched.json()["mark_connected"] is True
    m.Interface.objects.filter(device=inv.devices[0], name="Gi0/1").update(enabled=False)
    m.Device.objects.filter(pk=inv.devices[2].pk).update(monitored=False)
    found = samples(api.get("/metrics").content.decode())
    documented = {
        (s.labels["device"], s.labels["ifName"]): (s.labels["enabled"], s.labels["mark_connected"], s.value)
        for s in found
        if s.name == "infrastrand_interface_documented"
    }
    assert documented == {
        ("rtr-000", "Gi0/0"): ("true", "true", 1),
        ("rtr-000", "Gi0/1"): ("false", "false", 1),
        ("rtr-001", "Gi0/0"): ("true", "false", 1),
        ("rtr-001", "Gi0/1"): ("true", "false", 1),
    }
    assert [
        i["name"] for i in api.get("/api/dcim/interfaces/", {"mark_connected": "true"}).json()["results"]
    ] == ["Gi0/0"]
