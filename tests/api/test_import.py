"""Bulk import (CSV, YAML, JSON) by service, command and API: all-or-nothing, errors name row and field."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from inventory import importer
from inventory import models as m

SITES_CSV = """name,slug,status,country,region,tenant,strands,latitude,longitude,tags
Rabat DC,rabat-dc,active,MA,grand-casablanca,add,"e-government,infrastructure",34.020882,-6.841650,core
Tangier IX,tangier-ix,planned,MA,Grand Casablanca,,,,,
"""

DEVICES_YAML = """
devices:
  - name: rabat-core-01
    site: casablanca-dc1
    role: core-router
    device_type: C8300
    tenant: add
    platform: ios-xe
    status: active
    snmp_profile: v2c-default
    collector_group: ma-casablanca
    tags: [core, edge]
  - name: rabat-core-02
    site: {slug: betzdorf}
    role: Access switch
    device_type: c8300
    serial: XYZ
"""


def _objects(model, result: importer.ImportResult) -> list:
    """The created objects of an import, in row order."""
    found = model.objects.in_bulk(result.created)
    return [found[pk] for pk in result.created]


def test_sites_from_csv(inv):
    rows = importer.parse(SITES_CSV, format="csv", model="sites")
    assert importer.validate(rows, model="sites") == []
    assert not m.Site.objects.filter(slug="rabat-dc").exists()  # validation writes nothing
    created = _objects(m.Site, importer.commit(rows, model="sites"))
    assert [site.slug for site in created] == ["rabat-dc", "tangier-ix"]
    rabat = m.Site.objects.get(slug="rabat-dc")
    assert rabat.region.slug == "grand-casablanca" and rabat.tenant.slug == "add"
    assert rabat.strands == ["e-government", "infrastructure"]
    assert [t.slug for t in rabat.tags.all()] == ["core"]
    tangier = m.Site.objects.get(slug="tangier-ix")
    assert tangier.region.slug == "grand-casablanca" and tangier.tenant is None and tangier.latitude is None
    assert m.ObjectChange.objects.filter(changed_object_type__model="site", action="create").count() == 4


def test_devices_from_yaml_by_name_and_slug(inv):
    result = importer.commit(importer.parse(DEVICES_YAML, format="yaml", model="devices"), model="devices")
    first, second = _objects(m.Device, result)
    assert (first.site.slug, first.role.slug, first.device_type.slug, first.platform.slug) == (
        "casablanca-dc1",
        "core-router",
        "c8300",
        "ios-xe",
    )
    assert first.snmp_profile.name == "v2c-default" and first.collector_group.slug == "ma-casablanca"
    assert sorted(t.slug for t in first.tags.all()) == ["core", "edge"]
    assert (second.site.slug, second.role.slug, second.serial) == ("betzdorf", "access-switch", "XYZ")


def test_interfaces_and_ip_addresses_from_json(inv):
    interfaces = [
        {"device": "rtr-000", "name": "Te0/1", "type": "10gbase-x-sfpp", "mtu": 9000},
        {
            "device": "rtr-001",
            "site": "betzdorf",
            "name": "Te0/1",
            "type": "10gbase-x-sfpp",
            "enabled": False,
        },
    ]
    result = importer.commit(
        importer.parse(json.dumps(interfaces), format="json", model="interfaces"), model="interfaces"
    )
    created = _objects(m.Interface, result)
    assert [(i.device.name, i.mtu, i.enabled) for i in created] == [
        ("rtr-000", 9000, True),
        ("rtr-001", None, False),
    ]
    addresses = [
        {"address": "10.1.1.1/30", "device": "rtr-000", "interface": "Te0/1", "is_primary": True},
        {"address": "10.1.1.2/30", "device": "rtr-001", "interface": "Te0/1", "dns_name": "peer.example.lu"},
        {"address": "10.9.9.9/32", "status": "reserved"},
    ]
    result = importer.commit(
        importer.parse(json.dumps(addresses), format="json", model="ip-addresses"), model="ip-addresses"
    )
    created = _objects(m.IPAddress, result)
    assert created[0].assigned_object.name == "Te0/1" and created[2].assigned_object is None
    assert m.Device.objects.get(name="rtr-000").primary_ip4.address == "10.1.1.1/30"


BAD_SITES_CSV = """name,slug,status,country,region
Good,good,active,MA,grand-casablanca
Bad country,bad-country,active,XX,
Bad status,bad-status,sleeping,LU,
Unknown region,unknown-region,active,MA,atlantis
Good,good-2,active,MA,
"""


def test_every_error_names_row_field_and_reason_and_nothing_is_written(inv):
    rows = importer.parse(BAD_SITES_CSV, format="csv", model="sites")
    before, changes = m.Site.objects.count(), m.ObjectChange.objects.count()
    errors = importer.validate(rows, model="sites")
    assert [(e.row, e.field) for e in errors] == [(2, "country"), (3, "status"), (4, "region"), (5, "name")]
    assert "XX" in errors[0].message and "atlantis" in errors[2].message
    with pytest.raises(importer.ImportFailed) as failed:
        importer.commit(rows, model="sites")
    assert failed.value.errors == errors
    assert m.Site.objects.count() == before
    assert m.ObjectChange.objects.count() == changes


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("name,slug\n", "csv", "No records"),
        ("- [unclosed", "yaml", "Invalid YAML"),
        ('{"sites": {"name": 1}}', "json", "Expected a list"),
        ("[1, 2]", "json", "Not a mapping"),
        ("a,b\n1,2,3\n", "csv", "More cells"),
    ],
)
def test_malformed_files(inv, text, fmt, message):
    with pytest.raises(importer.ImportFailed) as failed:
        importer.commit(importer.parse(text, format=fmt, model="sites"), model="sites")
    assert message in str(failed.value)


def test_ambiguous_interface_device_names_ask_for_the_site(inv):
    from tests.api.data import create

    create(m.Device, name="rtr-000", site=inv.sites[1], role=inv.roles[0], device_type=inv.device_type)
    rows = [{"device": "rtr-000", "name": "X1", "type": "virtual"}]
    assert [(e.row, e.field) for e in importer.validate(rows, model="interfaces")] == [(1, "device")]
    rows[0]["site"] = "betzdorf"
    assert importer.validate(rows, model="interfaces") == []


def test_command_with_progress_and_errors(inv, tmp_path, capsys):
    good = tmp_path / "sites.csv"
    good.write_text(SITES_CSV)
    call_command("import", str(good))
    assert m.Site.objects.filter(slug__in=["rabat-dc", "tangier-ix"]).count() == 2
    assert "Imported sites: 2 created, 0 updated." in capsys.readouterr().out
    bad = tmp_path / "more.csv"
    bad.write_text(BAD_SITES_CSV)
    before = m.Site.objects.count()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import", str(bad), "--model", "sites", "--no-progress")
    err = capsys.readouterr().err
    assert "row 2, country:" in err and "row 4, region:" in err
    assert m.Site.objects.count() == before
    yaml_file = tmp_path / "batch.yml"
    yaml_file.write_text(DEVICES_YAML)
    call_command("import", str(yaml_file), "--model", "devices", "--dry-run")
    assert not m.Device.objects.filter(name="rabat-core-01").exists()
    call_command("import", str(yaml_file), "--model", "devices")
    assert m.Device.objects.filter(name__startswith="rabat-core").count() == 2


def test_command_refuses_unknown_model_name(inv, tmp_path):
    path = tmp_path / "stuff.csv"
    path.write_text(SITES_CSV)
    with pytest.raises(CommandError, match="--model"):
        call_command("import", str(path))


def test_api_json_body_and_multipart(api, inv):
    response = api.post("/api/import/", {"model": "sites", "format": "csv", "data": SITES_CSV}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2
    rows = [{"name": "Lux City", "slug": "lux-city", "country": "LU"}]
    assert api.post("/api/import/", {"model": "sites", "data": rows}, format="json").status_code == 201
    upload = {"model": "devices", "file": _file("devices.yaml", DEVICES_YAML)}
    response = api.post("/api/import/", upload, format="multipart")
    assert response.status_code == 201, response.content
    assert m.Device.objects.filter(name__startswith="rabat-core").count() == 2


def test_api_errors_and_dry_run_write_nothing(api, inv):
    before, changes = m.Site.objects.count(), m.ObjectChange.objects.count()
    response = api.post(
        "/api/import/", {"model": "sites", "format": "csv", "data": BAD_SITES_CSV}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "row": 2,
        "field": "country",
        "message": response.json()["errors"][0]["message"],
    }
    assert [e["row"] for e in response.json()["errors"]] == [2, 3, 4, 5]
    dry = api.post(
        "/api/import/", {"model": "sites", "format": "csv", "data": SITES_CSV, "dry_run": True}, format="json"
    )
    assert dry.status_code == 200 and dry.json()["valid"] is True
    assert (m.Site.objects.count(), m.ObjectChange.objects.count()) == (before, changes)
    assert api.post("/api/import/", {"model": "object-changes", "data": []}, format="json").status_code == 400


def _file(name: str, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")
