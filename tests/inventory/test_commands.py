"""Management commands: loaddemo (idempotent), createtoken, and the migrations being complete."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory import demo
from inventory import models as m
from inventory.services.tokens import COLLECTOR_GROUP, COLLECTOR_PERMISSIONS


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in apps.get_app_config("inventory").get_models()}


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_loaddemo_is_idempotent(db):
    first, _ = run("loaddemo")
    assert "Demo inventory loaded" in first
    after_first = counts()
    last_change = m.ObjectChange.objects.order_by("-pk").first()
    second, _ = run("loaddemo")
    assert "nothing changed" in second
    assert counts() == after_first
    assert m.ObjectChange.objects.order_by("-pk").first() == last_change


def test_loaddemo_restores_what_was_changed(db):
    run("loaddemo")
    device = m.Device.objects.get(name="lux-sw01")
    device.serial = "tampered"
    device.save()
    before = m.ObjectChange.objects.count()
    out, _ = run("loaddemo")
    assert "1 Device" in out
    assert m.Device.objects.get(name="lux-sw01").serial == "DEMO-LU-0011"
    assert m.ObjectChange.objects.count() == before + 1


def test_demo_inventory_content(db):
    run("loaddemo")
    assert 12 <= m.Device.objects.count() == len(demo.DEVICES) <= 18
    assert set(m.Site.objects.values_list("country", flat=True)) == {"MA", "LU"}
    assert set(m.Site.objects.values_list("slug", flat=True)) == {s["slug"] for s in demo.SITES}
    for site in m.Site.objects.all():
        assert site.latitude is not None and site.longitude is not None and site.strands
        kinds = {d.kind for d in demo.DEVICES if d.site == site.slug}
        assert "ups" in kinds and kinds & {"router", "switch"}
    addresses = set()
    for device in m.Device.objects.select_related("primary_ip4", "snmp_profile", "collector_group"):
        spec = next(d for d in demo.DEVICES if d.name == device.name)
        ip = ipaddress.ip_interface(device.primary_ip4.address)
        assert ip.ip in ipaddress.ip_network("127.0.1.0/24") and ip.network.prefixlen == 32
        assert device.primary_ip4.assigned_object.device == device
        assert device.primary_ip4.assigned_object.name == spec.management_interface
        addresses.add(ip.ip)
        profile = device.snmp_profile
        assert (profile.version, profile.port, profile.modules) == ("2c", 1161, demo.KIND_MODULES[spec.kind])
        assert profile.community == {"MA": "ma-demo", "LU": "lu-demo"}[device.site.country]
        assert device.monitored and device.effective_poll_interval == 30 and device.is_pollable
        assert device.collector_group.exporter_address == "127.0.0.1:9781"
        assert device.interfaces.count() == len(spec.interfaces)
        device.full_clean()
    assert len(addresses) == len(demo.DEVICES)
    assert m.Device.objects.pollable().count() == len(demo.DEVICES)
    assert all("demo" in t.name.lower() for t in m.Tenant.objects.all())


def test_createtoken_creates_user_and_prints_key_once(db, django_user_model):
    out, err = run("createtoken", "alice")
    key = out.strip()
    token = m.Token.lookup(key)
    assert token is not None and token.user.username == "alice"
    assert not token.write_enabled and not token.collector
    assert not token.user.has_usable_password()
    assert key not in err and "shown only once" in err
    out2, _ = run("createtoken", "alice", "--write")
    token2 = m.Token.lookup(out2.strip())
    assert token2.write_enabled and token2.user == token.user
    assert django_user_model.objects.filter(username="alice").count() == 1


def collector_groups(*slugs: str) -> list[m.CollectorGroup]:
    return [
        m.CollectorGroup.objects.create(name=slug, slug=slug, exporter_address="127.0.0.1:9781")
        for slug in slugs
    ]


def test_createtoken_collector_gets_collector_permissions(db):
    collector_groups("ma-casablanca", "lu-betzdorf", "other")
    out, err = run(
        "createtoken", "collector-01", "--collector", "--group", "ma-casablanca", "--group=lu-betzdorf"
    )
    token = m.Token.lookup(out.strip())
    assert token.collector and token.write_enabled
    assert sorted(token.collector_groups.values_list("slug", flat=True)) == ["lu-betzdorf", "ma-casablanca"]
    assert "collector groups: lu-betzdorf, ma-casablanca" in err
    user = token.user
    assert user.groups.filter(name=COLLECTOR_GROUP).exists()
    for app, codename in COLLECTOR_PERMISSIONS:
        assert user.has_perm(f"{app}.{codename}")
    assert not user.has_perm("inventory.change_device")
    assert not user.has_perm("inventory.view_objectchange")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--collector",), "needs at least one collector group"),
        (
            ("--collector", "--group", "ma-casablanca", "--group", "nowhere"),
            "Unknown collector group(s): nowhere",
        ),
        (("--group", "ma-casablanca"), "Only a collector token is bound to collector groups"),
    ],
)
def test_createtoken_refuses_collector_tokens_without_known_groups(db, django_user_model, args, message):
    collector_groups("ma-casablanca")
    with pytest.raises(CommandError) as raised:
        run("createtoken", "collector-02", *args)
    assert message in str(raised.value)
    assert not m.Token.objects.exists()
    assert not django_user_model.objects.filter(username="collector-02").exists()


def test_createtoken_expiry(db):
    out, _ = run("createtoken", "temp", "--expires-days", "3")
    token = m.Token.lookup(out.strip())
    assert token.expires is not None and not token.is_expired and token.is_valid()
    with pytest.raises(Exception, match="positive"):
        run("createtoken", "temp", "--expires-days", "0")


def test_no_missing_migrations(db):
    out, _ = run("makemigrations", "--check", "--dry-run")
    assert "No changes detected" in out


def test_createtoken_prometheus_may_read_http_sd_and_metrics_only(db):
    from rest_framework.test import APIClient

    out, err = run("createtoken", "prometheus", "--prometheus")
    token = m.Token.lookup(out.strip())
    assert not token.write_enabled and not token.collector
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.strip()}")
    assert client.get("/api/prometheus/sd/devices/").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/dcim/sites/").status_code == 403
    assert client.get("/api/monitoring/snmp-profiles/").status_code == 403
    assert client.get("/api/collector/targets/?group=x").status_code == 403
    assert out.strip() not in err
    for conflicting in ("--write", "--collector"):
        with pytest.raises(CommandError, match="read-only"):
            run("createtoken", "prometheus", "--prometheus", conflicting)


def test_loaddemo_on_an_unmigrated_database_says_to_migrate(tmp_path):
    """A new database without ``migrate``: one clear line naming the fix, no traceback, nothing written."""
    database = tmp_path / "new.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "INFRASTRAND_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "manage.py", "loaddemo"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "run `manage.py migrate` first" in lines[0], done.stderr
