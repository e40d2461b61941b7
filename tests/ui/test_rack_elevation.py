"""Rack elevations: NetBox's top-down unit numbering, placement by position/face/height, full-depth
devices on both faces, links to devices; the rack page in Chromium."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory.ui.elevation import UNIT_PX, layout, render_elevation
from inventory.ui.registry import object_url
from tests.ui import data as d
from tests.ui.browser import log_in, screenshot

SVG = "{http://www.w3.org/2000/svg}"


def rack_with_devices():
    rack = d.make_rack(name="R01", u_height=10)
    site = rack.site
    shallow = d.make_device_type(u_height=Decimal("1"), is_full_depth=False)
    deep = d.make_device_type(u_height=Decimal("2"), is_full_depth=True)
    return rack, {
        "switch": d.make_device(
            name="sw01", site=site, rack=rack, position=Decimal("10"), face="front", device_type=shallow
        ),
        "patch": d.make_device(
            name="patch01", site=site, rack=rack, position=Decimal("10"), face="rear", device_type=shallow
        ),
        "server": d.make_device(
            name="srv01", site=site, rack=rack, position=Decimal("1"), face="front", device_type=deep
        ),
        "loose": d.make_device(name="loose01", site=site, rack=rack),
    }


@pytest.mark.django_db
def test_layout_places_devices_top_down_on_their_faces():
    rack, _ = rack_with_devices()
    racked = list(rack.devices.select_related("role", "device_type"))
    front = {p.device.name: p for p in layout(rack, racked, "front")}
    rear = {p.device.name: p for p in layout(rack, racked, "rear")}

    assert set(front) == {"sw01", "srv01"}  # the half-depth rear patch panel is not seen from the front
    assert set(rear) == {"patch01", "srv01"}  # the full-depth server is seen from both faces
    assert (front["sw01"].y, front["sw01"].height) == (0, UNIT_PX)  # U10 is the top unit of a 10U rack
    assert (front["srv01"].y, front["srv01"].height) == (8 * UNIT_PX, 2 * UNIT_PX)  # U1-U2: the bottom
    assert not front["srv01"].rear_view and rear["srv01"].rear_view
    assert rear["patch01"].y == 0 and not rear["patch01"].rear_view
    assert "loose01" not in front and "loose01" not in rear  # no position: not drawn


@pytest.mark.django_db
def test_elevation_svg_numbers_units_and_links_devices():
    rack, devices = rack_with_devices()
    rack.starting_unit = 5
    racked = [devices["switch"]]
    devices["switch"].position = Decimal("14")
    root = ET.fromstring(render_elevation(rack, racked, "front"))
    units = [int(t.text) for t in root.iter(f"{SVG}text") if t.get("class") == "unit"]
    assert units == list(range(14, 4, -1))  # top-down, from starting_unit + height - 1 to starting_unit
    links = root.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == [object_url(devices["switch"])]
    assert links[0].find(f"{SVG}rect").get("y") == "1.0"


def test_rack_page_shows_both_elevations_in_chromium(live_server, page, transactional_db):
    d.make_reader()
    rack, _ = rack_with_devices()
    log_in(page, live_server.url, "reader", d.PASSWORD)
    page.goto(f"{live_server.url}{object_url(rack)}")
    front = page.locator('#elevations svg[data-face="front"]')
    rear = page.locator('#elevations svg[data-face="rear"]')
    expect(front.locator("a.device")).to_have_count(2)
    expect(rear.locator("a.device")).to_have_count(2)
    expect(rear.locator('a.device[data-device="srv01"]')).to_have_attribute("data-rear-view", "true")
    server = front.locator('a.device[data-device="srv01"] rect').bounding_box()
    switch = front.locator('a.device[data-device="sw01"] rect').bounding_box()
    assert server is not None and switch is not None
    assert switch["y"] < server["y"]  # U10 above U1 on screen
    assert server["height"] > 1.8 * switch["height"]  # 2U against 1U
    screenshot(page, "rack-elevation")
    front.locator('a.device[data-device="sw01"]').click()
    expect(page.locator("h1")).to_contain_text("sw01")
