"""The shipped production path (systemd unit + env example + gunicorn): 404s, pages, parallel writers.

One gunicorn (the unit's 3 sync worker processes) on a database of its own serves every test here, so
parallel requests really run in parallel, on PostgreSQL or SQLite, as in production.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.api.production import ProductionServer, production_server

pytestmark = pytest.mark.slow

FIELDS = ("serial", "asset_tag", "description", "comments")
"""Four fields of one device, each PATCHed by its own writer."""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ProductionServer]:
    with production_server(tmp_path_factory.mktemp("production")) as running:
        yield running


@pytest.fixture(scope="module")
def device(server) -> dict:
    with server.client() as api:

        def post(path: str, body: dict) -> dict:
            response = api.post(path, json=body)
            assert response.status_code == 201, response.text
            return response.json()

        site = post("/api/dcim/sites/", {"name": "Race", "slug": "race", "country": "LU"})
        role = post("/api/dcim/device-roles/", {"name": "Core", "slug": "core"})
        maker = post("/api/dcim/manufacturers/", {"name": "Acme", "slug": "acme"})
        kind = post("/api/dcim/device-types/", {"manufacturer": maker["id"], "model": "A1", "slug": "a1"})
        return post(
            "/api/dcim/devices/",
            {"name": "race-1", "site": site["id"], "role": role["id"], "device_type": kind["id"]},
        )


def test_a_missing_page_is_a_404_and_pages_and_static_files_are_served(server):
    with server.client() as web:
        assert web.get("/no/such/page/").status_code == 404
        assert web.get("/api/dcim/no-such-endpoint/").status_code == 404
        login = web.get("/login/")
        assert login.status_code == 200
        stylesheets = [part.split('"')[0] for part in login.text.split('href="/static/')[1:]]
        assert stylesheets, "the login page links no static file"
        assert web.get(f"/static/{stylesheets[0]}").status_code == 200


def _parallel_patches(server: ProductionServer, url: str, values: dict[str, str]) -> dict[str, int]:
    """One PATCH per field, each from its own thread and connection, released together."""
    barrier = threading.Barrier(len(values), timeout=60)
    answers: dict[str, int] = {}

    def patch(field: str) -> None:
        with server.client() as api:
            barrier.wait()
            answers[field] = api.patch(url, json={field: values[field]}).status_code

    writers = [threading.Thread(target=patch, args=(field,)) for field in values]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    return answers


def test_parallel_patches_of_different_fields_are_all_kept_and_changes_chain(server, device):
    url = f"/api/dcim/devices/{device['id']}/"
    for round_ in range(4):
        answers = _parallel_patches(server, url, {field: f"{field}-{round_}" for field in FIELDS})
        assert answers == dict.fromkeys(FIELDS, 200)
        with server.client() as api:
            now = api.get(url).json()
        assert {field: now[field] for field in FIELDS} == {f: f"{f}-{round_}" for f in FIELDS}

    with server.client() as api:
        changes = api.get(
            "/api/core/object-changes/",
            params={"changed_object_type": "dcim.device", "changed_object_id": device["id"], "limit": 100},
        ).json()["results"]
    changes.sort(key=lambda change: change["id"])
    assert len(changes) == 1 + 4 * len(FIELDS)
    for before, after in itertools.pairwise(changes):
        assert after["prechange_data"] == before["postchange_data"], (before["id"], after["id"])


def test_if_match_guards_a_write_with_the_etag(server, device):
    url = f"/api/dcim/devices/{device['id']}/"
    with server.client() as api:
        read = api.get(url)
        etag = read.headers["ETag"]
        assert api.patch(url, json={"serial": "first"}, headers={"If-Match": etag}).status_code == 200
        stale = api.patch(url, json={"serial": "lost"}, headers={"If-Match": etag})
        assert stale.status_code == 412 and "ETag" in stale.json()["detail"]
        assert api.get(url).json()["serial"] == "first"
        assert api.delete(url, headers={"If-Match": etag}).status_code == 412
        current = api.get(url).headers["ETag"]
        assert current != etag
        written = api.patch(url, json={"serial": "second"}, headers={"If-Match": current})
        assert written.status_code == 200 and written.headers["ETag"] == api.get(url).headers["ETag"]
        assert api.patch(url, json={"serial": "any"}, headers={"If-Match": "*"}).status_code == 200


def test_server_log_has_no_tracebacks(server):
    httpx.get(server.url + "/-/nothing", timeout=30, verify=str(server.ca_file))
    assert "Traceback" not in server.log.read_text()
