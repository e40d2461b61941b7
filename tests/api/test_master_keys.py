"""SNMPv3 master keys (RFC 3414 Ku) derived by the inventory and shipped in contract 1 only.

The keys are derived when a profile's passphrase or auth protocol changes (by the model's save, so API,
admin, UI and services all get it), filled for existing profiles by migration 0007, and never shown by
the API, the change log, the admin or the logs.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from django.apps import apps

from collectors.snmp.usm import KeyCache, UsmUser, master_key
from collectors.targets import parse_targets
from inventory import models as m
from inventory.fields import REDACTED
from tests.api.data import AUTH_KEY, PRIV_KEY
from tests.api.test_collector import targets
from tests.api.test_secrets import _assert_nowhere

# RFC 3414 A.3: password "maplesyrup", engine ID 00 00 00 00 00 00 00 00 00 00 00 02
RFC_PASSWORD = "maplesyrup"
RFC_ENGINE_ID = bytes.fromhex("000000000000000000000002")
RFC_VECTORS = {
    "MD5": ("9faf3283884e92834ebc9847d8edd963", "526f5eed9fcce26f8964c2930787d82b"),
    "SHA": ("9fb5cc0381497b3793528939ff788d5d79145211", "6695febc9288e36282235fc7151f128497b38f3f"),
}
"""Auth protocol -> (Ku, Kul localized to RFC_ENGINE_ID), RFC 3414 A.3.1 and A.3.2."""


@pytest.fixture
def collector(inv, make_token, client_for):
    return client_for(make_token(collector=True))


def v3_profile(
    name: str = "mk", auth: str = "SHA-256", priv: str | None = "AES-128", **fields
) -> m.SnmpProfile:
    profile = m.SnmpProfile(
        name=name, version="3", username="ops", auth_protocol=auth, priv_protocol=priv or "",
        auth_key=fields.pop("auth_key", "auth-pass-1"),
        priv_key=fields.pop("priv_key", "priv-pass-1" if priv else ""), **fields,
    )  # fmt: skip
    profile.full_clean()
    profile.save()
    return profile


def stored(profile: m.SnmpProfile) -> tuple[str, str]:
    fresh = m.SnmpProfile.objects.get(pk=profile.pk)
    return fresh.auth_master_key, fresh.priv_master_key


@pytest.mark.parametrize("auth", sorted(RFC_VECTORS))
def test_master_key_equals_rfc_3414_vectors_and_localizes_like_them(db, auth):
    ku, kul = RFC_VECTORS[auth]
    profile = v3_profile(auth=auth, priv="DES", auth_key=RFC_PASSWORD, priv_key=RFC_PASSWORD)
    assert stored(profile) == (ku, ku)
    # the collector given only the shipped keys localizes them to the RFC's values
    user = UsmUser(
        b"ops", auth, None, "DES", None, auth_master_key=bytes.fromhex(ku), priv_master_key=bytes.fromhex(ku)
    )
    keys = asyncio.run(KeyCache().local_keys(user, RFC_ENGINE_ID))
    assert keys.auth.hex() == kul and keys.priv.hex() == kul[:32]


def test_changing_passphrase_or_protocol_changes_the_shipped_key(db):
    profile = v3_profile()
    auth0, priv0 = stored(profile)
    assert (auth0, priv0) == (
        master_key("SHA-256", b"auth-pass-1").hex(),
        master_key("SHA-256", b"priv-pass-1").hex(),
    )
    profile = m.SnmpProfile.objects.get(pk=profile.pk)
    profile.auth_key = "auth-pass-2"
    profile.save()
    auth1, priv1 = stored(profile)
    assert auth1 == master_key("SHA-256", b"auth-pass-2").hex() and priv1 == priv0
    profile.priv_key = "priv-pass-2"
    profile.save(update_fields=["priv_key"])  # a partial save writes the derived key too
    assert stored(profile) == (auth1, master_key("SHA-256", b"priv-pass-2").hex())
    profile.auth_protocol = "SHA-512"
    profile.save()
    assert stored(profile) == (
        master_key("SHA-512", b"auth-pass-2").hex(),
        master_key("SHA-512", b"priv-pass-2").hex(),
    )
    profile.priv_protocol, profile.priv_key = "", ""  # authNoPriv: no privacy key to ship
    profile.save()
    assert stored(profile)[1] == ""
    profile.version, profile.community = "2c", "public-1"  # no longer v3: nothing to ship
    profile.save()
    assert stored(profile) == ("", "")


def test_keys_refreshed_from_another_writer_are_derived_again(db):
    """The services refresh the fields a write does not set: a key written by another writer with its
    own passphrase must not be saved next to this writer's passphrase."""
    profile = v3_profile()
    mine, theirs = (m.SnmpProfile.objects.get(pk=profile.pk) for _ in range(2))
    theirs.auth_key = "their-auth-pass"
    theirs.save()
    mine.refresh_from_db(fields=["auth_master_key", "priv_master_key"])
    mine.save()  # writes its own (unchanged) passphrase back
    assert stored(profile)[0] == master_key("SHA-256", b"auth-pass-1").hex()


def test_changed_passphrase_through_the_api_reaches_the_collector(api, collector, inv):
    profile = inv.profiles[1]  # v3-secure (SHA-256/AES-128), used by rtr-001
    shipped = {t["name"]: t for t in targets(collector).json()["targets"]}["rtr-001"]["v3"]
    assert shipped["auth_master_key"] == master_key("SHA-256", AUTH_KEY.encode()).hex()
    assert shipped["priv_master_key"] == master_key("SHA-256", PRIV_KEY.encode()).hex()
    patched = api.patch(
        f"/api/monitoring/snmp-profiles/{profile.pk}/", {"auth_key": "rotated-auth-9"}, format="json"
    )
    assert patched.status_code == 200, patched.content
    document = targets(collector).json()
    shipped = {t["name"]: t for t in document["targets"]}["rtr-001"]["v3"]
    assert shipped["auth_master_key"] == master_key("SHA-256", b"rotated-auth-9").hex()
    parsed = {t.name: t for t in parse_targets(document, "test")}["rtr-001"].v3
    assert parsed.auth_master_key == master_key("SHA-256", b"rotated-auth-9")
    assert parsed.priv_master_key == master_key("SHA-256", PRIV_KEY.encode())


def test_master_keys_are_never_shown(api, inv, collector, make_token, client, caplog):
    caplog.set_level(logging.DEBUG)
    created = api.post(
        "/api/monitoring/snmp-profiles/",
        {"name": "mk-api", "version": "3", "username": "u", "auth_protocol": "SHA",
         "auth_key": "api-auth-key-1", "priv_protocol": "AES-256", "priv_key": "api-priv-key-1"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    profile = m.SnmpProfile.objects.get(name="mk-api")
    hexes = [
        profile.auth_master_key,
        profile.priv_master_key,
        *(k for p in inv.profiles for k in stored(p) if k),
    ]
    assert len(hexes) == 4 and all(hexes)
    secrets = [*hexes, *(h.upper() for h in hexes)]
    listed = api.get("/api/monitoring/snmp-profiles/").json()["results"]
    assert all(not {"auth_master_key", "priv_master_key"} & set(row) for row in listed)
    _assert_nowhere(api, inv, secrets)  # every read endpoint (incl. change log) and /metrics
    # the change log redacts the derived keys like the passphrases
    change = m.ObjectChange.objects.filter(changed_object_id=profile.pk, object_repr="mk-api").latest("time")
    assert change.postchange_data["auth_master_key"] == REDACTED
    logged = json.dumps([c.prechange_data for c in m.ObjectChange.objects.all()])
    logged += json.dumps([c.postchange_data for c in m.ObjectChange.objects.all()])
    assert not any(secret in logged for secret in secrets)
    # the admin's change page and list
    admin_user = make_token(superuser=True).user
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    for page in (f"/admin/inventory/snmpprofile/{profile.pk}/change/", "/admin/inventory/snmpprofile/"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert not any(secret in response.content.decode() for secret in secrets), page
    targets(collector)  # the one place they are shipped; its fetch is logged without them
    assert not any(secret in caplog.text for secret in secrets)


def test_migration_fills_the_keys_of_existing_profiles(db):
    from importlib import import_module

    fill = import_module("inventory.migrations.0007_ku_master_keys").fill_master_keys
    authpriv, authonly = v3_profile("a"), v3_profile("b", auth="MD5", priv=None)
    expected = {authpriv.pk: stored(authpriv), authonly.pk: stored(authonly)}
    m.SnmpProfile.objects.update(auth_master_key="", priv_master_key="")  # as before the migration
    fill(apps, None)
    assert {pk: stored(m.SnmpProfile(pk=pk)) for pk in expected} == expected
    assert expected[authonly.pk][1] == ""
