"""Secrets are Fernet ciphertext in the raw table, plaintext on the model, and survive key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from inventory import crypto
from inventory import models as m
from inventory.services.secrets import encrypted_fields, reencrypt_secrets
from tests.inventory.factories import make_profile

SECRETS = {"community": "", "auth_key": "auth-pass-phrase", "priv_key": "priv-pass-phrase"}


def raw_row(profile: m.SnmpProfile) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT community, auth_key, priv_key FROM inventory_snmpprofile WHERE id = %s", [profile.pk]
        )
        return dict(zip(("community", "auth_key", "priv_key"), cursor.fetchone(), strict=True))


def v3_profile(**fields) -> m.SnmpProfile:
    return make_profile(
        version="3",
        community="",
        username="monitor",
        auth_protocol="SHA-256",
        auth_key=SECRETS["auth_key"],
        priv_protocol="AES-128",
        priv_key=SECRETS["priv_key"],
        **fields,
    )


def test_raw_columns_hold_ciphertext_and_model_round_trips(db):
    v2 = make_profile(community="s3cret-community")
    v3 = v3_profile()
    raw = raw_row(v2)
    assert raw["community"].startswith("gAAAA") and "s3cret" not in raw["community"]
    assert crypto.decrypt(raw["community"]) == "s3cret-community"
    raw3 = raw_row(v3)
    for name in ("auth_key", "priv_key"):
        assert raw3[name].startswith("gAAAA") and SECRETS[name] not in raw3[name]
    assert raw3["community"] == ""  # empty stays empty (no ciphertext of "")
    fresh = m.SnmpProfile.objects.get(pk=v3.pk)
    assert (fresh.auth_key, fresh.priv_key, fresh.community) == (SECRETS["auth_key"], SECRETS["priv_key"], "")
    assert m.SnmpProfile.objects.get(pk=v2.pk).community == "s3cret-community"


def test_each_save_encrypts_afresh(db):
    profile = make_profile(community="same")
    first = raw_row(profile)["community"]
    profile.save()
    second = raw_row(profile)["community"]
    assert first != second
    assert crypto.decrypt(first) == crypto.decrypt(second) == "same"


def test_values_queries_decrypt_too(db):
    profile = make_profile(community="via-values")
    assert (
        m.SnmpProfile.objects.filter(pk=profile.pk).values_list("community", flat=True).get() == "via-values"
    )


def test_key_rotation_old_key_still_decrypts_then_reencrypt_moves_to_new_key(db):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(SECRETS_KEYS=[old]):
        v2 = make_profile(community="rotate-me")
        v3 = v3_profile()
    old_raw = raw_row(v2)["community"]
    with override_settings(SECRETS_KEYS=[new, old]):
        assert m.SnmpProfile.objects.get(pk=v2.pk).community == "rotate-me"
        changes_before = m.ObjectChange.objects.count()
        # v2 community + v3 auth and priv keys and their derived master keys (empty ones skipped)
        assert reencrypt_secrets() == 5
        assert m.ObjectChange.objects.count() == changes_before
    assert raw_row(v2)["community"] != old_raw
    with override_settings(SECRETS_KEYS=[new]):
        assert m.SnmpProfile.objects.get(pk=v2.pk).community == "rotate-me"
        fresh = m.SnmpProfile.objects.get(pk=v3.pk)
        assert (fresh.auth_key, fresh.priv_key) == (SECRETS["auth_key"], SECRETS["priv_key"])
        assert (fresh.auth_master_key, fresh.priv_master_key) == (v3.auth_master_key, v3.priv_master_key)
    with override_settings(SECRETS_KEYS=[old]), pytest.raises(crypto.SecretDecryptionError):
        m.SnmpProfile.objects.get(pk=v2.pk)


def test_new_writes_use_the_first_key(db):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(SECRETS_KEYS=[new, old]):
        profile = make_profile(community="fresh")
    assert Fernet(new.encode()).decrypt(raw_row(profile)["community"].encode()) == b"fresh"


def test_unknown_key_gives_a_clear_error(db):
    profile = make_profile(community="x")
    other_key = Fernet.generate_key().decode()
    with (
        override_settings(SECRETS_KEYS=[other_key]),
        pytest.raises(crypto.SecretDecryptionError, match="KEYS"),
    ):
        m.SnmpProfile.objects.get(pk=profile.pk)


def test_invalid_key_setting_is_reported(db):
    from django.core.exceptions import ImproperlyConfigured

    with override_settings(SECRETS_KEYS=["not-a-fernet-key"]), pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_every_secret_field_is_known_to_rotation():
    names = {(model.__name__, field.name) for model, field in encrypted_fields()}
    fields = ("community", "auth_key", "priv_key", "auth_master_key", "priv_master_key")
    assert names == {("SnmpProfile", name) for name in fields}


def test_tokens_store_only_a_hash(db, django_user_model):
    user = django_user_model.objects.create(username="api")
    token, plaintext = m.Token.create_token(user=user, write_enabled=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key_prefix, key_hash FROM inventory_token WHERE id = %s", [token.pk])
        prefix, digest = cursor.fetchone()
    assert len(plaintext) == 40 and plaintext not in digest and prefix == plaintext[:8]
    assert m.Token.lookup(plaintext) == token
    assert m.Token.lookup(plaintext[:-1] + ("0" if plaintext[-1] != "0" else "1")) is None
    assert m.Token.lookup("") is None
    assert plaintext not in str(token)


def test_rotatesecrets_command(db):
    from io import StringIO

    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(SECRETS_KEYS=[old]):
        profile = make_profile(community="cmd-rotated")
    out = StringIO()
    with override_settings(SECRETS_KEYS=[new, old]):
        call_command("rotatesecrets", stdout=out)
    assert "Re-encrypted 1" in out.getvalue()
    with override_settings(SECRETS_KEYS=[new]):
        assert m.SnmpProfile.objects.get(pk=profile.pk).community == "cmd-rotated"
