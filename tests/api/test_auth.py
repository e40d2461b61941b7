"""Authentication and authorization: every refusal answers 401/403 and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory import models as m

SITE = {"name": "Refused", "slug": "refused", "country": "MA"}


@pytest.fixture
def counts(inv):
    def snapshot():
        return (m.Site.objects.count(), m.Device.objects.count(), m.ObjectChange.objects.count())

    return snapshot


def test_no_token_is_401_everywhere(inv, counts):
    client = APIClient()
    before = counts()
    for url in (
        "/api/status/",
        "/api/dcim/sites/",
        "/api/dcim/devices/1/",
        "/api/prometheus/sd/devices/",
        "/api/collector/targets/?group=ma-casablanca",
        "/metrics",
    ):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
    assert client.post("/api/dcim/sites/", SITE, format="json").status_code == 401
    assert client.post("/api/import/", {"model": "sites", "data": [SITE]}, format="json").status_code == 401
    assert client.post("/api/collector/observations/", {}, format="json").status_code == 401
    assert counts() == before


def test_root_schema_and_docs_are_public_and_hold_no_data(inv):
    """As in NetBox: clients (pynetbox's version probe and openapi()) read them without a token."""
    client = APIClient()
    root = client.get("/api/")
    assert root.status_code == 200 and root["API-Version"] == "4.2"
    assert "dcim" in root.json()
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert "casablanca" not in schema.content.decode().lower()
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Token not-a-real-key", "Token", "Token a b", "Bearer nope", "Basic dXNlcjpwYXNz"],
)
def test_bad_credentials(inv, header, counts):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    before = counts()
    response = client.post("/api/dcim/sites/", SITE, format="json")
    assert response.status_code == 401, response.content
    assert counts() == before


def test_bearer_is_accepted(inv, admin_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_token.key}")
    assert client.get("/api/dcim/sites/").status_code == 200


def test_expired_token_and_inactive_user(inv, make_token, client_for):
    expired = make_token(superuser=True)
    expired.token.expires = timezone.now() - timedelta(minutes=1)
    expired.token.save()
    assert client_for(expired).get("/api/dcim/sites/").status_code == 401
    inactive = make_token(superuser=True)
    inactive.user.is_active = False
    inactive.user.save()
    assert client_for(inactive).get("/api/dcim/sites/").status_code == 401


def test_read_only_token_refuses_every_write(inv, make_token, client_for, counts):
    reader = client_for(make_token(superuser=True, write=False))
    site = inv.sites[1]
    before = counts()
    assert reader.get("/api/dcim/sites/").status_code == 200
    attempts = [
        reader.post("/api/dcim/sites/", SITE, format="json"),
        reader.post("/api/dcim/sites/", [SITE], format="json"),
        reader.patch(f"/api/dcim/sites/{site.pk}/", {"facility": "x"}, format="json"),
        reader.put(f"/api/dcim/sites/{site.pk}/", {**SITE}, format="json"),
        reader.patch("/api/dcim/sites/", [{"id": site.pk, "facility": "x"}], format="json"),
        reader.delete(f"/api/dcim/devices/{inv.devices[0].pk}/"),
        reader.delete("/api/dcim/devices/", [{"id": inv.devices[0].pk}], format="json"),
        reader.post("/api/import/", {"model": "sites", "data": [SITE]}, format="json"),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert "does not permit write" in attempts[0].json()["detail"]
    assert counts() == before


def test_missing_model_permission(inv, make_token, client_for, counts):
    sites_only = client_for(make_token("view_site", "add_site"))
    assert sites_only.get("/api/dcim/sites/").status_code == 200
    assert sites_only.get("/api/dcim/devices/").status_code == 403
    before = counts()
    assert sites_only.delete(f"/api/dcim/sites/{inv.sites[1].pk}/").status_code == 403
    assert (
        sites_only.patch(f"/api/dcim/sites/{inv.sites[1].pk}/", {"facility": "x"}, format="json").status_code
        == 403
    )
    assert (
        sites_only.post(
            "/api/import/", {"model": "devices", "data": [{"name": "x"}]}, format="json"
        ).status_code
        == 403
    )
    assert counts() == before
    assert sites_only.post("/api/dcim/sites/", SITE, format="json").status_code == 201


def test_collector_token_is_limited_to_collector_endpoints(inv, make_token, client_for, counts):
    collector = client_for(make_token(collector=True))
    before = counts()
    assert collector.get("/api/collector/targets/?group=ma-casablanca").status_code == 200
    for url in (
        "/api/dcim/devices/",
        "/api/monitoring/snmp-profiles/",
        "/api/status/",
        "/api/prometheus/sd/devices/",
    ):
        assert collector.get(url).status_code == 403, url
    assert collector.post("/api/dcim/sites/", SITE, format="json").status_code == 403
    assert (
        collector.post("/api/import/", {"model": "sites", "data": [SITE]}, format="json").status_code == 403
    )
    assert counts() == before


def test_ordinary_tokens_cannot_use_collector_endpoints(inv, admin_token, make_token, client_for):
    observation = {
        "collector": "c1",
        "observations": [{"device_id": inv.devices[0].pk, "polled_at": "2026-11-29T06:00:00Z", "up": True}],
    }
    for credentials in (admin_token, make_token(superuser=True, write=False)):
        client = client_for(credentials)
        assert client.get("/api/collector/targets/?group=ma-casablanca").status_code == 403
        assert client.post("/api/collector/observations/", observation, format="json").status_code == 403
    assert not m.DeviceObservation.objects.exists()


def test_session_cannot_use_collector_endpoints_but_can_read(inv, client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "b@example.org", "pw-for-tests-only")
    client.force_login(user)
    assert client.get("/api/dcim/sites/").status_code == 200
    assert client.get("/api/collector/targets/?group=ma-casablanca").status_code == 403


def test_change_log_names_the_token_user(api, admin_token, inv):
    response = api.post("/api/dcim/sites/", SITE, format="json")
    change = m.ObjectChange.objects.get(
        changed_object_id=response.json()["id"], changed_object_type__model="site"
    )
    assert change.user_id == admin_token.user.pk
    assert str(change.request_id) == response["X-Request-ID"]
