"""Login throttling (django-axes), the password-reset flow, the CSP header and IPv6 zone ids."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from inventory import models as m

PASSWORD = "Corr3ct-Horse-Battery"


@pytest.fixture
def engineer(db, django_user_model):
    return django_user_model.objects.create_user("engineer", "engineer@example.org", PASSWORD)


def log_in(client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def test_repeated_failed_logins_lock_out_that_user_from_that_address(client, engineer, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert log_in(client, "engineer", "wrong").status_code == 200  # the form again, with its error
    assert log_in(client, "engineer", PASSWORD).status_code == 302  # a success resets the count
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "engineer", "wrong").status_code == 200
    assert log_in(client, "engineer", "wrong").status_code == 429  # the limit-th failure locks
    locked = log_in(client, "engineer", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    admin_login = client.post("/admin/login/", {"username": "engineer", "password": PASSWORD})
    assert admin_login.status_code == 429
    other = type(client)(REMOTE_ADDR="127.0.0.9")
    assert log_in(other, "engineer", PASSWORD).status_code == 302  # another address is not locked


def test_password_reset_by_mail(client, engineer):
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()
    response = client.post("/password-reset/", {"email": "engineer@example.org"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert client.post("/password-reset/", {"email": "nobody@example.org"}).status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["engineer@example.org"]
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    new = "N3w-Passphrase-for-engineer"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    assert log_in(client, "engineer", new).status_code == 302
    client.logout()
    reused = client.get(link, follow=True).content.decode()
    assert "This link does not work" in reused


def test_pages_carry_a_content_security_policy(client, admin_client):
    for web, path in ((client, "/login/"), (admin_client, "/admin/"), (admin_client, "/api/docs/")):
        response = web.get(path)
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";")[0]
        inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", response.content.decode())
        assert not inline_scripts, (path, inline_scripts)


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/api/ipam/ip-addresses/", "address", "fe80::1%eth0/64"),
        ("/api/ipam/ip-addresses/", "address", "fe80::1%25eth0/64"),
        ("/api/ipam/prefixes/", "prefix", "fe80::%eth0/64"),
    ],
)
def test_ipv6_zone_ids_are_refused(admin_client, path, field, value):
    response = admin_client.post(path, {field: value}, content_type="application/json")
    assert response.status_code == 400
    assert "zone id" in str(response.json()[field])
    assert not m.IPAddress.objects.exists() and not m.Prefix.objects.exists()
