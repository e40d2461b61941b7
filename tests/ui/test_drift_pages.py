"""The drift pages: the device page's drift card (adopt, acknowledge, make-template), the drift list with
its filters and bulk actions, the home tile, the device type's templates — Django client and Chromium."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from inventory import models as m
from inventory.services.monitoring import observation_record
from tests.ui import data as d
from tests.ui.browser import log_in, screenshot


def _switch_with_drift() -> m.Device:
    """casa-sw01: Gi1/0/1 documented; the poll reports Gi1/0/1 to Gi1/0/3 and another serial."""
    device = d.make_device(name="casa-sw01", serial="FOC100")
    d.make_interface(device, name="Gi1/0/1", type="1000base-t")
    observation_record(
        device=device,
        collector="c1",
        polled_at=timezone.now(),
        up=True,
        facts={"sysName": "casa-sw01", "serial": "FOC200"},
        interfaces=[
            {
                "ifIndex": i,
                "ifName": f"Gi1/0/{i}",
                "ifAdminStatus": "up",
                "speed_bps": 1_000_000_000,
                "ifAlias": "",
            }
            for i in (1, 2, 3)
        ],
    )
    return device


@pytest.mark.django_db
def test_drift_list_filters_bulk_acknowledge_and_home_tile(client):
    writer = d.make_writer()
    device = _switch_with_drift()
    lu = d.make_site(name="Betzdorf", slug="betzdorf", country="LU", strands=["digital-inclusion"])
    other = d.make_device(name="btz-sw01", site=lu)
    observation_record(device=other, collector="c1", polled_at=timezone.now(), up=True, facts={"serial": "X"})
    client.force_login(writer)

    home = client.get("/")
    assert home.status_code == 200
    assert 'id="drift-open">4<' in home.content.decode()

    listed = client.get("/monitoring/drift/", {"country": "MA"})
    assert listed.status_code == 200
    body = listed.content.decode()
    assert "casa-sw01" in body and "btz-sw01" not in body
    assert "btz-sw01" in client.get("/monitoring/drift/", {"strand": "digital-inclusion"}).content.decode()
    by_slug = client.get("/monitoring/drift/", {"site": "betzdorf"}).content.decode()  # DriftOpen's link
    assert "btz-sw01" in by_slug and "casa-sw01" not in by_slug
    assert client.get("/monitoring/drift/", {"kind": "serial", "export": "csv"}).status_code == 200

    response = client.post(
        "/monitoring/drift/?country=MA&kind=interface_undocumented",
        {"scope": "all", "action": "acknowledge", "reason": "spare ports", "until": "2099-12-31"},
    )
    assert response.status_code == 302
    acked = m.DriftItem.objects.filter(state="acknowledged")
    assert sorted(acked.values_list("subject", flat=True)) == ["Gi1/0/2", "Gi1/0/3"]
    assert {item.acknowledged_by for item in acked} == {"writer"}
    assert acked.first().acknowledged_until.year == 2099

    ids = m.DriftItem.objects.filter(kind="serial").values_list("pk", flat=True)
    client.post("/monitoring/drift/", {"pk": [str(pk) for pk in ids], "action": "adopt"})
    device.refresh_from_db()
    other.refresh_from_db()
    assert (device.serial, other.serial) == ("FOC200", "X")
    assert 'id="drift-open">0<' in client.get("/").content.decode()


@pytest.mark.django_db
def test_reader_sees_drift_but_cannot_act(client):
    reader = d.make_reader()
    device = _switch_with_drift()
    client.force_login(reader)
    page = client.get(f"/dcim/devices/{device.pk}/").content.decode()
    assert 'id="drift"' in page and "adopt-item" not in page and 'id="make-template"' not in page
    item = m.DriftItem.objects.filter(device=device).first()
    client.post(f"/monitoring/drift/{item.pk}/adopt/")
    assert m.DriftItem.objects.get(pk=item.pk).state == "open"
    assert client.get(f"/monitoring/drift/{item.pk}/").status_code == 200


@pytest.mark.django_db
def test_device_type_page_and_new_device_from_the_ui(client):
    writer = d.make_writer()
    device = _switch_with_drift()
    client.force_login(writer)
    response = client.post(f"/dcim/interface-templates/from-device/{device.pk}/")
    assert response.status_code == 302
    page = client.get(f"/dcim/device-types/{device.device_type_id}/").content.decode()
    assert "Interface templates (3)" in page and "Gi1/0/3" in page
    created = client.post(
        "/dcim/devices/add/",
        {
            "name": "casa-sw02",
            "site": device.site_id,
            "role": device.role_id,
            "device_type": device.device_type_id,
            "status": "active",
        },
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    new = m.Device.objects.get(name="casa-sw02")
    assert sorted(new.interfaces.values_list("name", flat=True)) == ["Gi1/0/1", "Gi1/0/2", "Gi1/0/3"]


@pytest.mark.usefixtures("transactional_db")
def test_adopt_interfaces_on_the_device_page(live_server, page: Page):
    d.make_writer()
    device = _switch_with_drift()
    log_in(page, live_server.url, "writer", d.PASSWORD)
    page.goto(f"{live_server.url}/dcim/devices/{device.pk}/")
    card = page.locator("#drift")
    expect(card.locator("tbody tr")).to_have_count(3)
    expect(card).to_contain_text("Gi1/0/2")
    expect(page.locator("#interfaces h2")).to_contain_text("Interfaces (1)")
    screenshot(page, "device-drift")

    page.locator("#adopt-interfaces").click()
    expect(page.locator(".messages")).to_contain_text("Adopted 2 drift item(s)")
    expect(page.locator("#interfaces h2")).to_contain_text("Interfaces (3)")
    expect(card.locator("tbody tr")).to_have_count(1)
    expect(card).to_contain_text("FOC200")

    card.locator("tbody tr").first.locator("input[name=reason]").fill("RMA swap pending")
    card.locator("tbody tr").first.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#drift")).to_contain_text("RMA swap pending")
    screenshot(page, "device-drift-adopted")

    documented = m.Interface.objects.filter(device=device).order_by("_name")
    assert [(i.name, i.type, i.speed) for i in documented] == [
        ("Gi1/0/1", "1000base-t", None),
        ("Gi1/0/2", "1000base-t", 1_000_000),
        ("Gi1/0/3", "1000base-t", 1_000_000),
    ]
    changes = m.ObjectChange.objects.filter(changed_object_type__model="interface", action="create")
    assert set(changes.values_list("user_name", flat=True)) >= {"writer"}
