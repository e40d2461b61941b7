"""Browser tests in real headless Chromium against the live server (Playwright, sync API)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from playwright.sync_api import Page, expect

from inventory import models as m
from tests.ui import data as d
from tests.ui.browser import log_in, screenshot

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def catalog():
    """What an engineer picks from when registering devices."""
    manufacturer = d.make_manufacturer(name="Cisco", slug="cisco")
    return {
        "role": d.make_role(name="Core router", slug="core-router"),
        "device_type": d.make_device_type(manufacturer=manufacturer, model="C8300-1N1S", slug="c8300"),
    }


def test_register_site_device_interface_and_duplicate_name(live_server, page: Page, catalog):
    d.make_writer()
    base = live_server.url
    log_in(page, base, "writer", d.PASSWORD)

    # Register a site; the slug is filled from the name while typing (progressive enhancement).
    page.goto(f"{base}/dcim/sites/add/")
    page.fill("#id_name", "Casablanca DC1")
    expect(page.locator("#id_slug")).to_have_value("casablanca-dc1")
    page.select_option("#id_country", "MA")
    page.check("input[name=strands][value=infrastructure]")
    page.check("input[name=strands][value=e-government]")
    page.fill("#id_latitude", "33.573110")
    page.fill("#id_longitude", "-7.589843")
    page.click("button[name=_save]")
    page.wait_for_url(re.compile(r"/dcim/sites/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("Created site Casablanca DC1")
    site = m.Site.objects.get(slug="casablanca-dc1")
    assert site.strands == ["e-government", "infrastructure"]

    # Add a device at the site, from the site page.
    page.click("text=Add a device here")
    expect(page.locator("#id_site")).to_have_value(str(site.pk))
    page.fill("#id_name", "casa-core-rtr01")
    page.select_option("#id_role", label="Core router")
    page.select_option("#id_device_type", label="C8300-1N1S")
    page.click("button[name=_save]")
    page.wait_for_url(re.compile(r"/dcim/devices/\d+/$"))
    device = m.Device.objects.get(name="casa-core-rtr01")
    assert device.site == site

    # Add an interface from the device page; we come back to the device.
    page.click("text=Add an interface")
    expect(page.locator("#id_device")).to_have_value(str(device.pk))
    page.fill("#id_name", "Gi0/0/1")
    page.select_option("#id_type", "1000base-t")
    page.click("button[name=_save]")
    page.wait_for_url(f"{base}/dcim/devices/{device.pk}/")
    expect(page.locator("#interfaces")).to_contain_text("Gi0/0/1")
    assert list(device.interfaces.values_list("name", flat=True)) == ["Gi0/0/1"]

    # The same name again (other case) at the same site is refused, on the name field.
    page.goto(f"{base}/dcim/devices/add/?site={site.pk}")
    page.fill("#id_name", "CASA-CORE-RTR01")
    page.select_option("#id_role", label="Core router")
    page.select_option("#id_device_type", label="C8300-1N1S")
    page.click("button[name=_save]")
    expect(page.locator("#field-name .errorlist")).to_contain_text("already exists")
    assert m.Device.objects.count() == 1

    page.goto(f"{base}/dcim/sites/{site.pk}/")
    expect(page.locator("#devices-by-role")).to_contain_text("Core router")
    screenshot(page, "site")


def test_import_csv_with_one_bad_row_writes_nothing(live_server, page: Page):
    d.make_writer()
    base = live_server.url
    log_in(page, base, "writer", d.PASSWORD)
    page.goto(f"{base}/import/")
    page.select_option("#id_model", "sites")
    page.fill(
        "#id_data",
        "name,slug,status,country,strands\n"
        "Rabat DC,rabat-dc,active,MA,e-government\n"
        "Nowhere DC,nowhere-dc,active,XX,infrastructure\n"
        "Betzdorf DC,betzdorf-dc,active,LU,infrastructure\n",
    )
    page.click("#preview-import")
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("2")
    expect(errors.first).to_contain_text("country")
    expect(page.locator("#import-preview")).to_contain_text("nothing has been written")
    expect(page.locator("#confirm-import")).to_have_count(0)
    assert m.Site.objects.count() == 0

    # Fix the row, preview again, confirm: all three are written.
    page.fill("#id_data", page.input_value("#id_data").replace(",XX,", ",MA,"))
    page.click("#preview-import")
    expect(page.locator("#import-preview")).to_contain_text("3 sites ready to import")
    assert m.Site.objects.count() == 0
    page.click("#confirm-import")
    page.wait_for_url(f"{base}/dcim/sites/")
    expect(page.locator(".messages")).to_contain_text("Imported 3 sites")
    assert m.Site.objects.count() == 3


def _demo_device() -> m.Device:
    """A device as an engineer sees it after a poll: placement, interfaces, primary IP, observation."""
    region = d.make_region(name="Grand Casablanca", slug="grand-casablanca")
    tenant = d.make_tenant(name="Agence de Développement du Digital", slug="add")
    site = d.make_site(
        name="Casablanca DC1",
        slug="casablanca-dc1",
        region=region,
        tenant=tenant,
        facility="CAS-DC1",
        latitude="33.573110",
        longitude="-7.589843",
        strands=["e-government", "infrastructure"],
    )
    rack = d.make_rack(site=site, name="R01")
    manufacturer = d.make_manufacturer(name="Cisco", slug="cisco")
    platform = m.Platform.objects.create(name="IOS-XE", slug="ios-xe", manufacturer=manufacturer)
    device = d.make_device(
        name="casa-core-rtr01",
        site=site,
        rack=rack,
        tenant=tenant,
        platform=platform,
        serial="FDO2613A1BC",
        role=d.make_role(name="Core router", slug="core-router"),
        device_type=d.make_device_type(manufacturer=manufacturer, model="C8300-1N1S", slug="c8300"),
    )
    interfaces = [d.make_interface(device, name=f"Gi0/0/{i}", speed=1_000_000) for i in range(4)]
    ip = d.make_ip("10.20.0.1/24", interfaces[0])
    device.primary_ip4 = ip
    device.snmp_profile = d.make_profile(name="v2c-casablanca", community="do-not-show-me")
    device.collector_group = d.make_collector_group(name="ma-casablanca", slug="ma-casablanca")
    device.monitored = True
    device.full_clean()
    device.save()
    m.ContactAssignment.objects.create(
        object_type=ContentType.objects.get_for_model(m.Device),
        object_id=device.pk,
        contact=d.make_contact(name="Youssef Alaoui", email="noc@add.example"),
        role=d.make_contact_role(name="NOC"),
    )
    m.DeviceObservation.objects.create(
        device=device,
        collector="collector-ma-01",
        polled_at=timezone.now() - timedelta(seconds=42),
        up=True,
        duration_seconds=0.084,
        facts={
            "sysName": "casa-core-rtr01.add.example",
            "sysDescr": "Cisco IOS XE Software, Version 17.09.04a",
            "sysObjectID": "1.3.6.1.4.1.9.1.2520",
            "uptime_seconds": 3_888_000.5,
        },
        interfaces=[
            {
                "ifIndex": i + 1,
                "ifName": f"Gi0/0/{i}",
                "ifDescr": f"GigabitEthernet0/0/{i}",
                "ifAlias": alias,
                "ifAdminStatus": "up",
                "ifOperStatus": oper,
                "speed_bps": 1_000_000_000,
                "mac": f"00:11:22:33:44:0{i}",
            }
            for i, (alias, oper) in enumerate(
                [("uplink to RBT-DC", "up"), ("uplink to LU-BTZ", "up"), ("lab", "down"), ("", "down")]
            )
        ],
    )
    return device


def test_device_page_shows_last_poll_and_screenshots(live_server, page: Page):
    d.make_writer()
    device = _demo_device()
    down = d.make_device(name="rbt-ups01", site=d.make_site(name="Rabat DC", slug="rabat-dc", country="MA"))
    m.DeviceObservation.objects.create(
        device=down,
        collector="collector-ma-01",
        polled_at=timezone.now(),
        up=False,
        error="request timed out",
    )
    lu = d.make_site(name="Betzdorf DC", slug="betzdorf-dc", country="LU", strands=["digital-inclusion"])
    d.make_device(name="btz-sw01", site=lu)
    base = live_server.url
    log_in(page, base, "writer", d.PASSWORD)

    expect(page.locator("#devices-down")).to_contain_text("rbt-ups01")
    expect(page.locator("#by-country")).to_contain_text("LU")
    screenshot(page, "home")

    page.goto(f"{base}/dcim/devices/{device.pk}/")
    poll = page.locator("#last-poll")
    expect(poll).to_contain_text("Up")
    expect(poll).to_contain_text("casa-core-rtr01.add.example")
    expect(poll).to_contain_text("Cisco IOS XE Software")
    expect(poll).to_contain_text("45d 0h 0m")
    expect(poll).to_contain_text("84 ms")
    observed = page.locator("#observed-interfaces tbody tr")
    expect(observed).to_have_count(4)
    expect(observed.nth(2)).to_contain_text("down")
    expect(observed.first).to_contain_text("1 Gbps")
    expect(page.locator("#monitoring")).to_contain_text("v2c-casablanca")
    expect(page.locator("#grafana-link")).to_have_attribute(
        "href", re.compile(r"/d/infrastrand-device/device\?var-device=casa-core-rtr01$")
    )
    assert "do-not-show-me" not in page.content()
    screenshot(page, "device")

    page.goto(f"{base}/dcim/sites/{device.site_id}/")
    expect(page.locator("#osm-link")).to_have_attribute("href", re.compile(r"openstreetmap\.org/\?mlat="))
    screenshot(page, "site-casablanca")

    # Responsive: on a phone-sized viewport nothing overflows the page sideways (wide tables scroll
    # inside their card instead).
    page.set_viewport_size({"width": 390, "height": 844})
    for path in (f"/dcim/devices/{device.pk}/", "/dcim/devices/", "/", f"/dcim/devices/{device.pk}/edit/"):
        page.goto(f"{base}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    page.goto(f"{base}/dcim/devices/{device.pk}/")
    screenshot(page, "device-mobile")


def test_core_flows_work_without_javascript(live_server, nojs_page: Page, catalog):
    page = nojs_page
    d.make_writer()
    site_a, site_b = d.make_site(name="Tangier DC"), d.make_site(name="Luxembourg City DC", country="LU")
    rack_a, rack_b = d.make_rack(site=site_a, name="TNG-R1"), d.make_rack(site=site_b, name="LUX-R1")
    base = live_server.url
    log_in(page, base, "writer", d.PASSWORD)

    # Site: the slug stays empty in the browser and is filled from the name by the server.
    page.goto(f"{base}/dcim/sites/add/")
    page.fill("#id_name", "Rabat Exchange Point")
    expect(page.locator("#id_slug")).to_have_value("")
    page.select_option("#id_country", "MA")
    page.click("button[name=_save]")
    page.wait_for_url(re.compile(r"/dcim/sites/\d+/$"))
    assert m.Site.objects.filter(slug="rabat-exchange-point").exists()

    # Device: no site chosen → no rack offered; choose a site, "Update choices" → only its racks.
    page.goto(f"{base}/dcim/devices/add/")
    assert page.locator("#id_rack option").all_inner_texts() == ["---------"]
    page.fill("#id_name", "tng-sw01")
    page.select_option("#id_role", label="Core router")
    page.select_option("#id_device_type", label="C8300-1N1S")
    page.select_option("#id_site", str(site_a.pk))
    page.click("button[name=_refresh]")
    assert page.locator("#id_rack option").all_inner_texts() == ["---------", "TNG-R1"]
    expect(page.locator("#id_name")).to_have_value("tng-sw01")
    page.select_option("#id_rack", str(rack_a.pk))
    page.click("button[name=_save]")
    page.wait_for_url(re.compile(r"/dcim/devices/\d+/$"))
    device = m.Device.objects.get(name="tng-sw01")
    assert (device.site, device.rack) == (site_a, rack_a)

    # Edit: an invalid change shows the error inline; a valid one saves.
    page.goto(f"{base}/dcim/devices/{device.pk}/edit/")
    page.select_option("#id_site", str(site_b.pk))
    page.click("button[name=_save]")
    expect(page.locator("#field-rack .errorlist")).to_be_visible()
    device.refresh_from_db()
    assert device.site == site_a
    page.goto(f"{base}/dcim/devices/{device.pk}/edit/")
    page.select_option("#id_status", "planned")
    page.click("button[name=_save]")
    page.wait_for_url(f"{base}/dcim/devices/{device.pk}/")
    expect(page.locator(".messages")).to_contain_text("Modified device tng-sw01")
    device.refresh_from_db()
    assert device.status == "planned"
    assert rack_b.devices.count() == 0

    # Delete through the confirmation page.
    page.goto(f"{base}/dcim/devices/{device.pk}/delete/")
    page.click("button[name=_confirm]")
    page.wait_for_url(f"{base}/dcim/devices/")
    assert not m.Device.objects.filter(pk=device.pk).exists()
