"""OpenAPI 3: the schema validates, describes every endpoint, filter and error shape; docs work offline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate

from inventory.api.urls import ROUTES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def schema(api, db) -> dict:
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_every_endpoint_filter_and_error_is_described(schema):
    paths = schema["paths"]
    for app, routes in ROUTES.items():
        for prefix, _ in routes:
            assert f"/api/{app}/{prefix}/" in paths
            assert f"/api/{app}/{prefix}/{{id}}/" in paths
    for path in (
        "/api/status/",
        "/api/prometheus/sd/devices/",
        "/api/collector/targets/",
        "/api/collector/observations/",
        "/api/import/",
    ):
        assert path in paths, path
    devices = paths["/api/dcim/devices/"]
    parameters = {p["name"] for p in devices["get"]["parameters"]}
    assert {
        "name__ic",
        "name__nie",
        "site",
        "site_id__n",
        "status",
        "tag",
        "q",
        "ordering",
        "limit",
        "offset",
    } <= parameters
    assert {"400", "401", "403"} <= set(devices["post"]["responses"])
    assert devices["patch"]["operationId"] == "dcim_devices_bulk_partial_update"
    assert devices["patch"]["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"
    assert "404" in paths["/api/dcim/devices/{id}/"]["get"]["responses"]
    assert "409" in paths["/api/dcim/devices/{id}/"]["delete"]["responses"]
    sd = paths["/api/prometheus/sd/devices/"]["get"]
    assert "monitored" in {p["name"] for p in sd["parameters"]}
    components = schema["components"]
    assert "tokenAuth" in components["securitySchemes"]
    profile = components["schemas"]["SnmpProfile"]["properties"]
    assert "has_community" in profile and "community" not in profile
    assert "community" in components["schemas"]["SnmpProfileRequest"]["properties"]
    status = components["schemas"]["Device"]["properties"]["status"]
    assert set(status["properties"]) == {"value", "label"}


def test_spectacular_validate_fail_on_warn(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["INFRASTRAND_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(tmp_path / "s.yaml"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "s.yaml").stat().st_size > 10_000


def test_docs_are_served_without_external_network(api, db):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(src|href)=\"https?://", html), "docs must not load anything from the internet"
    assets = re.findall(r"/static/(drf_spectacular_sidecar/[^\"']+)", html)
    assert assets
    for asset in assets:
        assert finders.find(asset), asset
