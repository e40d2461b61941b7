"""The change log: exactly one record per write, in the write's transaction, secrets redacted."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from inventory import models as m
from inventory.fields import REDACTED
from inventory.services import change_context, create_object, delete_object, update_object
from inventory.services.monitoring import observation_record
from tests.inventory.factories import make_interface, make_profile


class ChangeCounter:
    """Records written since construction."""

    def __init__(self):
        self.start = m.ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def records(self) -> list[m.ObjectChange]:
        return list(m.ObjectChange.objects.filter(pk__gt=self.start).order_by("pk"))

    def one(self) -> m.ObjectChange:
        records = self.records()
        assert len(records) == 1, [(r.action, r.object_repr) for r in records]
        return records[0]


def assert_no_secret(record: m.ObjectChange, *secrets: str) -> None:
    dumped = json.dumps([record.prechange_data, record.postchange_data])
    for secret in secrets:
        assert secret not in dumped
    assert "gAAAA" not in dumped  # no Fernet ciphertext either


@pytest.fixture
def user(db, django_user_model):
    return django_user_model.objects.create(username="engineer")


def test_service_create_update_delete_one_record_each_with_secrets_redacted(db, user):
    counter = ChangeCounter()
    profile = create_object(model=m.SnmpProfile, data={"name": "p1", "community": "comm-one"}, user=user)
    created = counter.one()
    assert (created.action, created.user, created.user_name) == ("create", user, "engineer")
    assert created.changed_object == profile and created.object_repr == "p1"
    assert created.prechange_data is None
    assert created.postchange_data["community"] == REDACTED and created.postchange_data["auth_key"] == ""
    assert_no_secret(created, "comm-one")

    counter = ChangeCounter()
    update_object(instance=profile, data={"community": "comm-two", "retries": 5}, user=user)
    updated = counter.one()
    assert updated.action == "update"
    assert updated.diff()["retries"] == (3, 5)
    assert updated.prechange_data["community"] == updated.postchange_data["community"] == REDACTED
    assert_no_secret(updated, "comm-one", "comm-two")

    counter = ChangeCounter()
    pk = profile.pk
    delete_object(instance=profile, user=user)
    deleted = counter.one()
    assert (deleted.action, deleted.changed_object_id, deleted.postchange_data) == ("delete", pk, None)
    assert deleted.prechange_data["name"] == "p1" and deleted.prechange_data["community"] == REDACTED
    assert_no_secret(deleted, "comm-two")


def test_plain_save_and_delete_are_logged_too(db):
    counter = ChangeCounter()
    tag = m.Tag.objects.create(name="edge", slug="edge")
    assert counter.one().action == "create"
    counter = ChangeCounter()
    tag.description = "Edge devices"
    tag.save()
    record = counter.one()
    assert record.action == "update" and record.diff()["description"] == ("", "Edge devices")
    assert record.user is None and record.user_name == ""
    counter = ChangeCounter()
    tag.delete()
    assert counter.one().action == "delete"


def test_v3_secrets_are_redacted_and_empty_secrets_stay_empty(db):
    counter = ChangeCounter()
    make_profile(
        version="3",
        community="",
        username="u",
        auth_protocol="SHA",
        auth_key="auth-secret-1",
        priv_protocol="AES-256",
        priv_key="priv-secret-1",
    )
    record = counter.one()
    data = record.postchange_data
    assert (data["community"], data["auth_key"], data["priv_key"]) == ("", REDACTED, REDACTED)
    assert_no_secret(record, "auth-secret-1", "priv-secret-1")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prechange_data, postchange_data FROM inventory_objectchange WHERE id = %s", [record.pk]
        )
        raw = json.dumps([str(value) for value in cursor.fetchone()])
    assert "auth-secret-1" not in raw and "gAAAA" not in raw


def test_create_with_tags_is_one_record_holding_the_tags(inv, user):
    counter = ChangeCounter()
    site = create_object(
        model=m.Site,
        data={"name": "Tangier", "slug": "tangier", "country": "MA", "tags": [inv.tag.pk]},
        user=user,
    )
    record = counter.one()
    assert record.action == "create" and record.postchange_data["tags"] == ["core"]
    counter = ChangeCounter()
    update_object(instance=site, data={"tags": []}, user=user)
    record = counter.one()
    assert record.diff()["tags"] == (["core"], [])


def test_tag_change_outside_a_service_is_one_update(inv):
    counter = ChangeCounter()
    inv.site.tags.add(inv.tag)
    record = counter.one()
    assert record.action == "update" and record.diff() == {"tags": ([], ["core"])}
    counter = ChangeCounter()
    inv.site.tags.clear()
    assert counter.one().diff() == {"tags": (["core"], [])}
    counter = ChangeCounter()
    inv.site.tags.clear()  # nothing to clear: no write, no record
    inv.site.tags.set([])
    assert counter.records() == []


def test_failed_validation_writes_nothing(inv, user):
    counter = ChangeCounter()
    with pytest.raises(ValidationError):
        create_object(model=m.Site, data={"name": "Casablanca DC1", "slug": "x", "country": "MA"}, user=user)
    with pytest.raises(ValidationError):
        update_object(instance=inv.device, data={"name": "CASA-RTR01", "site": inv.other_site, "position": 3})
    assert counter.records() == []


def test_record_is_in_the_same_transaction_as_the_write(inv):
    counter = ChangeCounter()
    with pytest.raises(RuntimeError), transaction.atomic():
        m.Tag.objects.create(name="rolled-back", slug="rolled-back")
        assert len(counter.records()) == 1
        raise RuntimeError("abort")
    assert counter.records() == []
    assert not m.Tag.objects.filter(slug="rolled-back").exists()


def test_writes_in_one_context_share_the_request_id_and_user(inv, user):
    counter = ChangeCounter()
    request_id = uuid.uuid4()
    with change_context(user=user, request_id=request_id):
        m.Tag.objects.create(name="a", slug="a")
        update_object(instance=inv.site, data={"facility": "CAS-1"})
    records = counter.records()
    assert [r.request_id for r in records] == [request_id, request_id]
    assert {r.user_name for r in records} == {"engineer"}


def test_system_actor_name(db):
    counter = ChangeCounter()
    with change_context(username="loaddemo"):
        m.Tag.objects.create(name="a", slug="a")
    record = counter.one()
    assert (record.user, record.user_name) == (None, "loaddemo")


def test_cascaded_deletes_are_logged_with_their_parent(inv):
    make_interface(inv.device, name="eth1")
    counter = ChangeCounter()
    device_pk = inv.device.pk
    delete_object(instance=inv.device)
    records = counter.records()
    assert sorted((r.changed_object_type.model, r.action) for r in records) == [
        ("device", "delete"),
        ("interface", "delete"),
        ("interface", "delete"),
    ]
    device_type = ContentType.objects.get_for_model(m.Device)
    for record in records:
        if record.changed_object_type.model == "interface":
            assert (record.related_object_type, record.related_object_id) == (device_type, device_pk)


def test_interface_changes_point_at_their_device(inv):
    counter = ChangeCounter()
    make_interface(inv.device, name="eth7")
    record = counter.one()
    assert record.related_object == inv.device


def test_token_hash_is_redacted(db, django_user_model):
    user = django_user_model.objects.create(username="api")
    counter = ChangeCounter()
    token, plaintext = m.Token.create_token(user=user)
    record = counter.one()
    assert record.postchange_data["key_hash"] == REDACTED
    assert_no_secret(record, plaintext, token.key_hash)
    counter = ChangeCounter()
    token.touch()
    assert counter.records() == []


def test_observations_are_operational_state_not_logged(inv):
    counter = ChangeCounter()
    now = timezone.now()
    observation_record(device=inv.device, collector="c1", polled_at=now, up=True, facts={"sysName": "x"})
    observation_record(device=inv.device, collector="c1", polled_at=now, up=False, error="timeout")
    assert counter.records() == []
    assert m.DeviceObservation.objects.get(device=inv.device).error == "timeout"


def test_older_observation_does_not_replace_newer(inv):
    now = timezone.now()
    observation_record(device=inv.device, collector="c1", polled_at=now, up=True, facts={"sysName": "new"})
    observation_record(
        device=inv.device,
        collector="c1",
        polled_at=now - timezone.timedelta(minutes=1),
        up=False,
        error="old",
    )
    observation = m.DeviceObservation.objects.get(device=inv.device)
    assert observation.up and observation.facts == {"sysName": "new"}


def test_snapshot_serializes_fk_ids_decimals_and_lists(inv):
    counter = ChangeCounter()
    create_object(
        model=m.Site,
        data={
            "name": "Betzdorf",
            "slug": "betzdorf",
            "country": "LU",
            "latitude": "49.6846",
            "longitude": "6.3515",
            "strands": ["infrastructure", "digital-inclusion"],
            "tenant": inv.tenant,
        },
    )
    data = counter.one().postchange_data
    assert data["tenant"] == inv.tenant.pk
    assert data["latitude"] == "49.684600"
    assert data["strands"] == ["digital-inclusion", "infrastructure"]


def test_generic_relation_written_through_services(inv, user):
    contact = m.Contact.objects.create(name="C. Contact")
    role = m.ContactRole.objects.create(name="Owner", slug="owner")
    counter = ChangeCounter()
    assignment = create_object(
        model=m.ContactAssignment, data={"object": inv.site, "contact": contact, "role": role}, user=user
    )
    assert assignment.object == inv.site
    record = counter.one()
    assert record.related_object == inv.site


def test_unknown_field_is_a_validation_error(db):
    with pytest.raises(ValidationError) as exc_info:
        create_object(model=m.Tag, data={"name": "x", "slug": "x", "colour": "ffffff"})
    assert "colour" in exc_info.value.message_dict
    with pytest.raises(ValidationError) as exc_info:
        create_object(model=m.Tag, data={"name": "x", "slug": "x", "sites": [999999]})
    assert not m.Tag.objects.filter(slug="x").exists()


def test_interface_add_ip_as_primary_is_one_record_per_object(inv, user):
    from inventory.services.dcim import device_set_primary_ip, interface_add_ip

    counter = ChangeCounter()
    ip = interface_add_ip(interface=inv.interface, address="127.0.1.9/32", primary=True, user=user)
    records = counter.records()
    assert [(r.changed_object_type.model, r.action) for r in records] == [
        ("ipaddress", "create"),
        ("device", "update"),
    ]
    assert len({r.request_id for r in records}) == 1
    inv.device.refresh_from_db()
    assert inv.device.primary_ip4 == ip
    device_set_primary_ip(device=inv.device, ip=None, user=user)
    inv.device.refresh_from_db()
    assert inv.device.primary_ip4 is None
