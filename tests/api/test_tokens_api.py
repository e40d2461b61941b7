"""/api/users/tokens/ and /api/users/tokens/provision/: NetBox's token endpoints, keys shown once."""

from __future__ import annotations

import pynetbox
import pytest
from rest_framework.test import APIClient

from inventory import models as m


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="correct horse battery")


def test_provision_with_username_and_password(db, alice):
    client = APIClient()
    response = client.post(
        "/api/users/tokens/provision/",
        {"username": "alice", "password": "correct horse battery", "description": "laptop"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    key = body["key"]
    assert len(key) == 40 and body["user"]["username"] == "alice" and body["write_enabled"] is True
    token = m.Token.objects.get(pk=body["id"])
    assert token.user == alice and key not in token.key_hash
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    listed = client.get("/api/users/tokens/").json()
    assert [row["id"] for row in listed["results"]] == [token.pk]
    assert listed["results"][0]["key"] is None  # never shown again
    changes = m.ObjectChange.objects.filter(changed_object_id=token.pk)
    assert changes.exists() and all(key not in str(change.postchange_data) for change in changes)

    for password in ("wrong", ""):
        refused = APIClient().post(
            "/api/users/tokens/provision/", {"username": "alice", "password": password}, format="json"
        )
        assert refused.status_code in (400, 403)
    assert m.Token.objects.count() == 1


def test_users_manage_only_their_own_tokens(api, alice, make_token, client_for):
    own = make_token("view_token", "add_token", "change_token", "delete_token")
    client = client_for(own)
    created = client.post("/api/users/tokens/", {"description": "ci", "write_enabled": False}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["key"] and created.json()["user"]["id"] == own.user.pk
    assert created.json()["write_enabled"] is False
    other = client.post("/api/users/tokens/", {"user": alice.pk}, format="json")
    assert other.status_code == 403
    ids = {row["id"] for row in client.get("/api/users/tokens/").json()["results"]}
    assert ids == set(m.Token.objects.filter(user=own.user).values_list("pk", flat=True))
    admin_view = api.get("/api/users/tokens/", {"user": own.user.username}).json()
    assert admin_view["count"] == 2
    assert api.get("/api/users/tokens/", {"user": "nobody"}).status_code == 400
    for_alice = api.post("/api/users/tokens/", {"user": alice.pk, "description": "by admin"}, format="json")
    assert for_alice.status_code == 201 and for_alice.json()["user"]["username"] == "alice"
    assert client.delete(f"/api/users/tokens/{for_alice.json()['id']}/").status_code == 404
    assert api.get("/api/users/").json()["tokens"].endswith("/api/users/tokens/")


def test_pynetbox_creates_a_token_with_username_and_password(
    live_server, transactional_db, django_user_model
):
    django_user_model.objects.create_user("bob", password="s3cret-pass-phrase")
    nb = pynetbox.api(live_server.url)
    nb.http_session.trust_env = False
    try:
        token = nb.create_token("bob", "s3cret-pass-phrase")
        assert token.key and nb.token == token.key
        assert [t.id for t in nb.users.tokens.all()] == [token.id]
    finally:
        nb.http_session.close()
