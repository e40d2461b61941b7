"""Hostile input is a clear 4xx JSON (never a 500) and writes nothing; a database outage is a 503."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection

from inventory import models as m
from inventory.api.views.base import MAX_BULK_ROWS


@pytest.fixture
def collector(inv, make_token, client_for):
    return client_for(make_token(collector=True))


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def post_raw(client, path: str, body: str, method: str = "post"):
    return getattr(client, method)(path, body, content_type="application/json")


def test_deeply_nested_json_is_a_400_on_every_kind_of_endpoint(api, collector, inv):
    site = inv.sites[0]
    writes = m.ObjectChange.objects.count()
    for depth in (100, 5000, 100_000):
        body = nested(depth)
        wrapped = '{"name": "x", "slug": "x", "tags": ' + body + "}"
        for client, method, path, payload in [
            (api, "post", "/api/dcim/sites/", wrapped),
            (api, "post", "/api/dcim/sites/", "[" + wrapped + "]"),
            (api, "patch", f"/api/dcim/sites/{site.pk}/", wrapped),
            (api, "patch", "/api/dcim/sites/", body),
            (api, "delete", "/api/dcim/sites/", body),
            (
                collector,
                "post",
                "/api/collector/observations/",
                '{"collector": "c", "observations": ' + body + "}",
            ),
        ]:
            response = post_raw(client, path, payload, method)
            assert response.status_code == 400, (depth, method, path, response.status_code)
            assert "nested deeper" in response.json()["detail"], response.json()
    for depth in (5000, 100_000):  # the import view has its own parsers: still a 400, not a 500
        response = post_raw(api, "/api/import/", '{"model": "sites", "data": ' + nested(depth) + "}")
        assert response.status_code == 400, (depth, response.content[:300])
    assert m.ObjectChange.objects.count() == writes
    assert not m.DeviceObservation.objects.exists()


def test_nul_characters_are_a_400_and_write_nothing(api, collector, inv):
    device = {"name": "new", "role": inv.roles[0].pk, "device_type": inv.device_type.pk}
    cases = [
        {**device, "site": {"slug": "casablanca\x00-dc1"}},
        {**device, "site": inv.sites[0].pk, "tags": [{"name": "Core\x00"}]},
        {**device, "site": inv.sites[0].pk, "comments": "fine", "custom\x00": 1},
    ]
    for payload in cases:
        response = api.post("/api/dcim/devices/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
        assert "NUL" in response.json()["detail"]
    assert not m.Device.objects.filter(name="new").exists()
    for path in (
        "/api/collector/targets/?group=%00",
        "/api/dcim/devices/?name=rtr%00",
        "/api/dcim/devices/?site=%00",
        "/api/dcim/devices/?q%00=x",
    ):
        client = collector if "collector" in path else api
        response = client.get(path)
        assert response.status_code == 400, (path, response.content)
        assert "NUL" in response.json()["detail"]


def test_bodies_over_the_limit_are_413_json(api, inv, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    big = {"name": "big", "slug": "big", "description": "x" * 3000}
    response = api.post("/api/dcim/sites/", big, format="json")
    assert response.status_code == 413
    assert "limit is 2000 bytes" in response.json()["detail"]
    assert not m.Site.objects.filter(slug="big").exists()


def test_bulk_writes_past_the_row_limit_are_413_and_point_to_the_import(api, inv):
    tags = [{"name": f"t{i}", "slug": f"t{i}"} for i in range(MAX_BULK_ROWS + 1)]
    before = m.Tag.objects.count()
    response = api.post("/api/extras/tags/", tags, format="json")
    assert response.status_code == 413
    assert f"at most {MAX_BULK_ROWS}" in response.json()["detail"]
    assert "/api/import/" in response.json()["detail"]
    assert m.Tag.objects.count() == before
    ids = [{"id": tag.pk, "description": "x"} for tag in m.Tag.objects.all()] * (MAX_BULK_ROWS + 1)
    assert api.patch("/api/extras/tags/", ids, format="json").status_code == 413
    assert api.delete("/api/extras/tags/", ids, format="json").status_code == 413
    assert m.Tag.objects.count() == before
    assert api.post("/api/extras/tags/", tags[:2], format="json").status_code == 201


@contextmanager
def database_down():
    """Every query on this thread's connection fails as when the server is gone."""

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        yield


def test_a_database_outage_is_a_503_json_with_retry_after(api, inv, client, django_user_model):
    user = django_user_model.objects.create_superuser("admin-ui", password="x-Unused-9")
    client.force_login(user)
    client.raise_request_exception = api.raise_request_exception = False  # answer as a server would
    for web, path in ((api, "/api/dcim/sites/"), (client, "/api/dcim/devices/"), (api, "/api/status/")):
        with database_down():
            response = web.get(path)
        assert response.status_code == 503, (path, response.content[:300])
        assert response["Retry-After"].isdigit()
        assert "database" in json.loads(response.content)["detail"]
    with database_down():
        page = client.get("/dcim/sites/")
    assert page.status_code == 503 and page["Retry-After"].isdigit()
