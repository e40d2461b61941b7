"""The admin: every model's pages load; secrets are write-only inputs; the change log is read-only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from inventory import models as m
from inventory.data import load_sysobjectid_mappings
from inventory.services.demo import load_demo
from inventory.services.discovery import discovery_job_create, proposal_record
from inventory.services.jobs import enqueue_job
from inventory.services.membership import heartbeat
from inventory.services.monitoring import observation_record

INVENTORY_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "inventory"),
    key=lambda model: model.__name__,
)
READ_ONLY = {
    m.ObjectChange,
    m.DeviceObservation,
    m.CredentialFetch,
    m.Job,
    m.Event,
    m.AlertRecord,
    m.DriftItem,
    m.CollectorMember,
    m.DiscoveryJob,
    m.DiscoveryJobProfile,
    m.DiscoveryProposal,
}


def url(model, view: str, *args) -> str:
    return reverse(f"admin:inventory_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def one_of_each(inv, superuser):
    """At least one object of every inventory model."""
    region = m.Region.objects.create(name="Morocco", slug="morocco")
    inv.site.region = region
    inv.site.save()
    location = m.Location.objects.create(site=inv.site, name="Hall 1", slug="hall-1")
    m.Rack.objects.create(site=inv.site, location=location, name="R01")
    platform = m.Platform.objects.create(name="Atlas NOS", slug="atlas-nos", manufacturer=inv.manufacturer)
    m.PlatformMapping.objects.create(
        platform=platform, sys_object_id_prefix="1.3.6.1.4.1.99999", description="demo"
    )
    m.InterfaceTemplate.objects.create(device_type=inv.device.device_type, name="demo0", type="other")
    m.Prefix.objects.create(prefix="127.0.1.0/24")
    m.IPAddress.objects.create(address="127.0.1.1/32", assigned_object=inv.interface)
    group = m.TenantGroup.objects.create(name="Agencies", slug="agencies")
    inv.tenant.group = group
    inv.tenant.save()
    contact = m.Contact.objects.create(name="Demo NOC", link="https://noc.example.org/")
    role = m.ContactRole.objects.create(name="NOC", slug="noc")
    m.ContactAssignment.objects.create(object=inv.device, contact=contact, role=role, priority="primary")
    m.UserConfig.objects.create(user=superuser, data={"tables": {"device": {"per_page": 100}}})
    far = m.Interface.objects.create(device=inv.device, name="demo1", type="other")
    m.Cable.objects.create(a_interface=inv.interface, b_interface=far, label="C-1")
    m.ServiceLevelObjective.objects.create(
        name="MA", target_percent="99.5", scope="country", scope_value="MA"
    )
    m.MaintenanceWindow.objects.create(
        start=timezone.now(), end=timezone.now() + timedelta(hours=1), reason="swap", scope="device",
        scope_value=inv.device.name,
    )  # fmt: skip
    heartbeat(group=inv.group, name="collector-a", address="127.0.0.1:9781", refresh=30)
    observation_record(
        device=inv.device, collector="c1", polled_at=timezone.now(), up=True, facts={"sysName": "x"}
    )
    token, _ = m.Token.create_token(user=superuser, description="admin test", collector=True)
    token.collector_groups.set([inv.group])
    m.CredentialFetch.objects.create(
        token=token,
        token_prefix=token.key_prefix,
        user=superuser,
        username=superuser.username,
        group=inv.group,
        group_slug=inv.group.slug,
        client_address="127.0.0.1",
        status=200,
        targets=1,
    )
    enqueue_job(kind="import", data=None, user=superuser)
    m.VRF.objects.create(name="Demo VRF", rd="65000:1")
    now = timezone.now()
    m.Event.objects.create(time=now, source="trap", text="x link down", device=inv.device, site=inv.site)
    m.AlertRecord.objects.create(
        fingerprint="f1", alertname="A", status="firing", labels={}, starts_at=now, device=inv.device
    )
    field = m.CustomField.objects.create(name="demo_owner", type="text")
    field.object_types.set([ContentType.objects.get_for_model(m.Device)])
    m.JournalEntry.objects.create(
        assigned_object_type=ContentType.objects.get_for_model(m.Device),
        assigned_object_id=inv.device.pk,
        comments="demo note",
    )
    job = discovery_job_create(
        data={"prefix": "127.77.0.0/29", "group": inv.group, "profiles": [inv.profile]}
    )
    proposal_record(address="127.77.0.2", facts={"sysName": "demo-sw"}, interfaces=[], job=job)
    load_sysobjectid_mappings(
        m.SysObjectIdMapping
    )  # migration data; a transactional test may have flushed it
    return inv


def test_every_inventory_model_is_registered():
    from django.apps import apps

    assert set(apps.get_app_config("inventory").get_models()) == set(INVENTORY_MODELS)


@pytest.mark.parametrize("model", INVENTORY_MODELS, ids=lambda model: model.__name__)
def test_changelist_search_add_and_change_pages_load(admin_client_logged_in, one_of_each, model):
    client = admin_client_logged_in
    assert client.get(url(model, "changelist")).status_code == 200
    assert client.get(url(model, "changelist"), {"q": "demo"}).status_code == 200
    add = client.get(url(model, "add"))
    assert add.status_code == (403 if model in READ_ONLY else 200)
    obj = model.objects.first()
    assert obj is not None, f"no {model.__name__} in the demo fixture"
    assert client.get(url(model, "change", obj.pk)).status_code == 200


def test_device_change_page_has_interface_inline(admin_client_logged_in, db):
    load_demo()
    device = m.Device.objects.get(name="casa-sw01")
    content = admin_client_logged_in.get(url(m.Device, "change", device.pk)).content.decode()
    assert "interfaces-TOTAL_FORMS" in content and "Gi1/0/1" in content


def test_snmp_profile_page_never_renders_secrets(admin_client_logged_in, db):
    profile = m.SnmpProfile(
        name="v3",
        version="3",
        username="u",
        auth_protocol="SHA",
        auth_key="auth-secret-1",
        priv_protocol="AES-128",
        priv_key="priv-secret-1",
    )
    profile.full_clean()
    profile.save()
    for page in (url(m.SnmpProfile, "change", profile.pk), url(m.SnmpProfile, "changelist")):
        content = admin_client_logged_in.get(page).content.decode()
        assert "auth-secret-1" not in content and "priv-secret-1" not in content and "gAAAA" not in content
    content = admin_client_logged_in.get(url(m.SnmpProfile, "change", profile.pk)).content.decode()
    assert 'type="password"' in content and "Currently set" in content


def _profile_form(**overrides) -> dict:
    data = {
        "name": "admin-made",
        "description": "",
        "version": "2c",
        "community": "admin-community",
        "username": "",
        "auth_protocol": "",
        "auth_key": "",
        "priv_protocol": "",
        "priv_key": "",
        "context": "",
        "port": "161",
        "timeout": "5.0",
        "retries": "3",
        "max_repetitions": "25",
        "modules": '["system", "if_mib"]',
    }
    data.update(overrides)
    return data


def test_admin_writes_are_logged_with_user_and_request_id(admin_client_logged_in, superuser):
    client = admin_client_logged_in
    response = client.post(url(m.SnmpProfile, "add"), _profile_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    profile = m.SnmpProfile.objects.get(name="admin-made")
    assert profile.community == "admin-community"
    records = list(m.ObjectChange.objects.filter(changed_object_id=profile.pk, action="create"))
    assert len(records) == 1
    assert records[0].user == superuser and str(records[0].request_id) == response["X-Request-ID"]
    assert records[0].postchange_data["community"] == "********"

    # An empty secret input keeps the stored secret; the update is one record.
    before = m.ObjectChange.objects.count()
    response = client.post(url(m.SnmpProfile, "change", profile.pk), _profile_form(community="", retries="4"))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.community, profile.retries) == ("admin-community", 4)
    assert m.ObjectChange.objects.count() == before + 1

    # "Clear" removes it, which a v2c profile refuses with an error on the field.
    response = client.post(
        url(m.SnmpProfile, "change", profile.pk), _profile_form(community="", clear_community="on")
    )
    assert response.status_code == 200
    assert "needs a community" in response.content.decode()
    profile.refresh_from_db()
    assert profile.community == "admin-community"

    response = client.post(url(m.SnmpProfile, "delete", profile.pk), {"post": "yes"})
    assert response.status_code == 302
    assert m.ObjectChange.objects.filter(changed_object_id=profile.pk, action="delete").count() == 1


def test_admin_reports_duplicates_on_the_field(admin_client_logged_in, db):
    m.Tag.objects.create(name="core", slug="core")
    response = admin_client_logged_in.post(
        url(m.Tag, "add"), {"name": "core", "slug": "core-2", "color": "9e9e9e", "description": ""}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"]


def test_change_log_is_read_only(admin_client_logged_in, one_of_each):
    record = m.ObjectChange.objects.first()
    client = admin_client_logged_in
    assert client.post(url(m.ObjectChange, "delete", record.pk), {"post": "yes"}).status_code == 403
    page = client.get(url(m.ObjectChange, "change", record.pk)).content.decode()
    assert 'name="object_repr"' not in page  # rendered as read-only text, not an input


def test_token_admin_shows_a_new_key_once_never_in_a_cookie(admin_client_logged_in, superuser):
    response = admin_client_logged_in.post(
        url(m.Token, "add"),
        {"user": superuser.pk, "write_enabled": "on", "expires_0": "", "expires_1": "", "description": "ui"},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = m.Token.objects.get(description="ui")
    key = re.search(r'<code id="token-key">([^<]+)</code>', response.content.decode()).group(1)
    assert m.Token.lookup(key) == token
    cookies = " ".join(morsel.OutputString() for morsel in admin_client_logged_in.cookies.values())
    assert key not in cookies and key[:8] not in cookies
    assert key not in str(dict(admin_client_logged_in.session))
    page = admin_client_logged_in.get(url(m.Token, "change", token.pk)).content.decode()
    assert key not in page
    listing = admin_client_logged_in.get(url(m.Token, "changelist")).content.decode()
    assert key not in listing


def test_token_admin_binds_collector_tokens_to_groups(admin_client_logged_in, superuser, inv):
    form = {"user": superuser.pk, "collector": "on", "expires_0": "", "expires_1": "", "description": "c"}
    refused = admin_client_logged_in.post(url(m.Token, "add"), form)
    assert refused.status_code == 200  # the form again, with the error
    assert "needs at least one collector group" in refused.content.decode()
    assert not m.Token.objects.exists()
    plain = {**form, "collector": "", "collector_groups": [inv.group.pk]}
    assert (
        "Only a collector token" in admin_client_logged_in.post(url(m.Token, "add"), plain).content.decode()
    )
    assert not m.Token.objects.exists()
    response = admin_client_logged_in.post(url(m.Token, "add"), {**form, "collector_groups": [inv.group.pk]})
    assert response.status_code == 200  # the new key, shown once
    token = m.Token.objects.get(description="c")
    assert list(token.collector_groups.all()) == [inv.group]
    listing = admin_client_logged_in.get(url(m.Token, "changelist")).content.decode()
    assert inv.group.slug in listing
