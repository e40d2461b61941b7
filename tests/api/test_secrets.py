"""SNMP secrets are write-only: no API answer, metric or change record ever carries the plaintext."""

from __future__ import annotations

from inventory import models as m
from inventory.api.urls import ROUTES
from tests.api.data import SECRETS

NEW_SECRETS = ("written-community-Pq55", "written-authkey-Lm66", "written-privkey-Rt77")


def _every_read_url(inv) -> list[str]:
    urls = ["/api/", "/api/status/", "/api/prometheus/sd/devices/", "/api/schema/", "/metrics"]
    urls.append("/api/collector/credential-fetches/")
    for app, routes in ROUTES.items():
        for prefix, viewset in routes:
            base = f"/api/{app}/{prefix}/"
            urls += [base, f"{base}?brief=1"]
            urls += [f"{base}{pk}/" for pk in viewset.queryset.model.objects.values_list("pk", flat=True)[:5]]
    return urls


def _assert_nowhere(api, inv, secrets):
    for url in _every_read_url(inv):
        response = api.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in secrets:
            assert secret not in body, (url, secret)


def test_profiles_show_flags_not_secrets(api, inv):
    profiles = {p["name"]: p for p in api.get("/api/monitoring/snmp-profiles/").json()["results"]}
    v2c, v3 = profiles["v2c-default"], profiles["v3-secure"]
    assert (v2c["has_community"], v2c["has_auth_key"], v2c["has_priv_key"]) == (True, False, False)
    assert (v3["has_community"], v3["has_auth_key"], v3["has_priv_key"]) == (False, True, True)
    for profile in (v2c, v3):
        assert not {"community", "auth_key", "priv_key"} & set(profile)


def test_no_read_endpoint_returns_a_secret(api, inv):
    _assert_nowhere(api, inv, SECRETS)


def test_credential_fetches_record_no_secret(api, inv, make_token, client_for):
    """The targets answer carries the decrypted secrets; its fetch record, change log and admin don't."""
    collector = client_for(make_token(collector=True))
    fetched = collector.get(f"/api/collector/targets/?group={inv.group.slug}").content.decode()
    assert all(secret in fetched for secret in SECRETS)
    assert m.CredentialFetch.objects.count() == 1
    _assert_nowhere(api, inv, SECRETS)


def test_secrets_written_through_the_api_stay_hidden(api, inv):
    community, auth_key, priv_key = NEW_SECRETS
    created = api.post(
        "/api/monitoring/snmp-profiles/",
        {
            "name": "written",
            "version": "3",
            "username": "u",
            "auth_protocol": "SHA",
            "auth_key": auth_key,
            "priv_protocol": "AES-256",
            "priv_key": priv_key,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["has_auth_key"] and created.json()["has_priv_key"]
    pk = created.json()["id"]
    patched = api.patch(
        f"/api/monitoring/snmp-profiles/{pk}/", {"version": "2c", "community": community}, format="json"
    )
    assert patched.status_code == 200, patched.content
    bulk = api.patch("/api/monitoring/snmp-profiles/", [{"id": pk, "community": community}], format="json")
    assert bulk.status_code == 200
    for response in (created, patched, bulk):
        for secret in NEW_SECRETS:
            assert secret not in response.content.decode()
    _assert_nowhere(api, inv, NEW_SECRETS)
    for change in m.ObjectChange.objects.filter(changed_object_type__model="snmpprofile"):
        text = f"{change.prechange_data} {change.postchange_data} {change.object_repr}"
        for secret in NEW_SECRETS + SECRETS:
            assert secret not in text
    profile = m.SnmpProfile.objects.get(pk=pk)
    assert (profile.community, profile.auth_key, profile.priv_key) == NEW_SECRETS


def test_omitted_secret_is_kept_and_empty_string_clears(api, inv):
    profile = inv.profiles[0]
    response = api.patch(f"/api/monitoring/snmp-profiles/{profile.pk}/", {"timeout": 1.5}, format="json")
    assert response.status_code == 200 and response.json()["has_community"] is True
    profile.refresh_from_db()
    assert profile.community == SECRETS[0]
    v3 = inv.profiles[1]
    response = api.patch(
        f"/api/monitoring/snmp-profiles/{v3.pk}/", {"priv_protocol": "", "priv_key": ""}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["has_priv_key"] is False
    v3.refresh_from_db()
    assert v3.priv_key == "" and v3.auth_key == SECRETS[1]


def test_clearing_a_required_secret_is_refused_and_writes_nothing(api, inv):
    profile = inv.profiles[0]
    changes = m.ObjectChange.objects.count()
    response = api.patch(f"/api/monitoring/snmp-profiles/{profile.pk}/", {"community": ""}, format="json")
    assert response.status_code == 400
    assert "community" in response.json()
    profile.refresh_from_db()
    assert profile.community == SECRETS[0]
    assert m.ObjectChange.objects.count() == changes


def test_secret_fields_cannot_be_used_as_lookups(api, inv):
    response = api.post(
        "/api/dcim/devices/",
        {
            "name": "probe",
            "site": inv.sites[0].pk,
            "role": inv.roles[0].pk,
            "device_type": inv.device_type.pk,
            "snmp_profile": {"community": SECRETS[0]},
        },
        format="json",
    )
    assert response.status_code == 400
    assert "snmp_profile" in response.json()
