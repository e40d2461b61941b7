"""Collector tokens are bound to collector groups; every credential fetch is recorded (issue 18.3)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import models as m
from tests.api.data import AUTH_KEY, COMMUNITY, PRIV_KEY

GROUP_A = "ma-casablanca"
GROUP_B = "lu-betzdorf"


@pytest.fixture
def group_b(inv) -> m.CollectorGroup:
    """A second group owning rtr-001 (v3, Betzdorf); rtr-000 and rtr-002 stay in group A."""
    group = m.CollectorGroup.objects.create(
        name="LU Betzdorf", slug=GROUP_B, exporter_address="127.0.0.1:9782"
    )
    m.Device.objects.filter(pk=inv.devices[1].pk).update(collector_group=group)
    return group


@pytest.fixture
def collector_a(group_b, make_token, client_for):
    return client_for(make_token(collector=True, groups=(GROUP_A,)))


def targets(client, group, **headers):
    return client.get(f"/api/collector/targets/?group={group}", **headers)


def observation(device: m.Device, *, by_name: bool = False) -> dict:
    row = {"device": device.name, "polled_at": "2026-11-29T06:00:00Z", "up": True, "facts": {"sysName": "x"}}
    return row if by_name else {**row, "device_id": device.pk}


def post(client, *rows):
    return client.post(
        "/api/collector/observations/", {"collector": "c-a", "observations": list(rows)}, format="json"
    )


def test_group_a_token_reads_only_group_a_targets(collector_a, inv, group_b):
    own = targets(collector_a, GROUP_A)
    assert own.status_code == 200
    assert [t["name"] for t in own.json()["targets"]] == ["rtr-000", "rtr-002"]
    other = targets(collector_a, GROUP_B)
    assert other.status_code == 403
    body = other.content.decode()
    assert GROUP_B in body and GROUP_A in body  # names what it asked for and what it may use
    assert AUTH_KEY not in body and PRIV_KEY not in body and "rtr-001" not in body


def test_unknown_group_answers_404_with_the_text_the_collector_shows(collector_a):
    response = targets(collector_a, "nowhere")
    assert response.status_code == 404
    assert response.json()["detail"] == "unknown collector group 'nowhere'"


def test_token_bound_to_two_groups_reads_both(group_b, make_token, client_for):
    both = client_for(make_token(collector=True, groups=(GROUP_A, GROUP_B)))
    assert [t["name"] for t in targets(both, GROUP_B).json()["targets"]] == ["rtr-001"]
    assert targets(both, GROUP_A).status_code == 200


def test_collector_token_without_groups_is_refused_with_how_to_fix(inv, django_user_model, client_for):
    """A collector token made before tokens had groups (the migration binds it to none)."""
    from inventory.services.tokens import collector_group

    user = django_user_model.objects.create(username="legacy-collector")
    user.groups.add(collector_group())
    _, key = m.Token.create_token(user=user, collector=True)
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = targets(client, GROUP_A)
    assert response.status_code == 403
    assert "bound to no collector group" in response.json()["detail"]
    assert "createtoken" in response.json()["detail"]
    assert post(client, observation(inv.devices[0])).status_code == 403
    assert not m.DeviceObservation.objects.exists()


def test_observations_of_other_groups_are_refused(collector_a, inv, group_b):
    response = post(collector_a, observation(inv.devices[1]))
    assert response.status_code == 403
    assert str(inv.devices[1].pk) in response.json()["detail"]
    by_name = post(collector_a, observation(inv.devices[1], by_name=True))
    assert by_name.status_code == 403 and "rtr-001" in by_name.json()["detail"]
    assert not m.DeviceObservation.objects.exists()


def test_mixed_batch_keeps_own_devices_and_rejects_the_others(collector_a, inv, group_b):
    response = post(
        collector_a,
        observation(inv.devices[0]),
        observation(inv.devices[1]),
        observation(inv.devices[2], by_name=True),
        {"device_id": 987654, "polled_at": "2026-11-29T06:00:00Z", "up": False},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "accepted": 2,
        "unknown_devices": [987654],
        "rejected": [],
        "rejected_devices": [inv.devices[1].pk],
    }
    assert set(m.DeviceObservation.objects.values_list("device__name", flat=True)) == {"rtr-000", "rtr-002"}


def test_a_name_shared_across_groups_resolves_to_the_tokens_own_device(collector_a, inv, group_b):
    twin = m.Device.objects.get(pk=inv.devices[1].pk)
    m.Device.objects.filter(pk=inv.devices[2].pk).update(name=twin.name)  # same name, group A, other site
    response = post(collector_a, observation(twin, by_name=True))
    assert response.json()["accepted"] == 1
    assert m.DeviceObservation.objects.get().device_id == inv.devices[2].pk


def test_every_fetch_is_recorded_once_without_secrets(collector_a, inv, group_b, make_token):
    token = m.Token.objects.get(user__username__endswith="-collector")
    with CaptureQueriesContext(connection) as captured:
        first = targets(collector_a, GROUP_A)
    inserts = [q["sql"] for q in captured if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and "credentialfetch" in inserts[0].lower()
    assert targets(collector_a, GROUP_A, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert targets(collector_a, GROUP_B).status_code == 403
    assert targets(collector_a, "nowhere").status_code == 404
    records = list(m.CredentialFetch.objects.order_by("pk"))
    assert [(r.group_slug, r.status, r.targets, r.not_modified) for r in records] == [
        (GROUP_A, 200, 2, False),
        (GROUP_A, 304, 0, True),
        (GROUP_B, 403, 0, False),
        ("nowhere", 404, 0, False),
    ]
    assert [r.group_id for r in records] == [inv.group.pk, inv.group.pk, None, None]
    for record in records:
        assert record.token_id == token.pk and record.token_prefix == token.key_prefix
        assert record.user_id == token.user_id and record.username == token.user.username
        assert record.client_address == "127.0.0.1"
        assert record.time is not None
    text = json.dumps(list(m.CredentialFetch.objects.values()), default=str)
    for secret in (COMMUNITY, AUTH_KEY, PRIV_KEY):
        assert secret not in text


def test_fetch_records_are_read_by_superusers_only(
    collector_a, inv, group_b, admin_token, make_token, client_for
):
    targets(collector_a, GROUP_A)
    targets(collector_a, GROUP_B)
    admin = client_for(admin_token)
    listed = admin.get("/api/collector/credential-fetches/")
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 2
    assert [(r["group_slug"], r["status"]) for r in body["results"]] == [(GROUP_B, 403), (GROUP_A, 200)]
    assert body["results"][1]["targets"] == 2 and body["results"][1]["client_address"] == "127.0.0.1"
    for secret in (COMMUNITY, AUTH_KEY, PRIV_KEY):
        assert secret not in listed.content.decode()
    only_b = admin.get("/api/collector/credential-fetches/", {"group": GROUP_B, "status": 403}).json()
    assert only_b["count"] == 1
    assert admin.post("/api/collector/credential-fetches/", {}).status_code == 403
    for credentials in (make_token("view_device", "view_collectorgroup"), make_token(collector=True)):
        assert client_for(credentials).get("/api/collector/credential-fetches/").status_code == 403
    assert client_for(None).get("/api/collector/credential-fetches/").status_code == 401
