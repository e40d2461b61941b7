"""List tools in real Chromium at a 1366 px laptop width: row actions in view, columns, bulk edit, search."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inventory import models as m
from tests.ui import data as d
from tests.ui.browser import TIMEOUT_MS, log_in, screenshot

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def _fleet():
    site = d.make_site(name="Casablanca DC1", slug="casablanca-dc1")
    rack = d.make_rack(name="R01", site=site)
    tenant = m.Tenant.objects.create(name="Agence de Développement du Digital", slug="add")
    return [
        d.make_device(
            name=f"casa-access-switch-{i:02}-long-hostname.add.example",
            site=site,
            rack=rack,
            tenant=tenant,
            status="active",
        )
        for i in range(3)
    ]


def test_row_actions_fit_a_1366_px_screen_and_bulk_edit_works(live_server, laptop):
    d.make_writer()
    devices = _fleet()
    log_in(laptop, live_server.url, "writer", d.PASSWORD)
    laptop.goto(f"{live_server.url}/dcim/devices/")

    delete = laptop.locator("td.actions a", has_text="Delete").first
    expect(delete).to_be_visible()
    box, frame = delete.bounding_box(), laptop.locator(".table-container").first.bounding_box()
    assert box is not None and frame is not None
    assert box["x"] + box["width"] <= min(1366, frame["x"] + frame["width"]) + 1, (
        box,
        frame,
    )  # not scrolled away
    screenshot(laptop, "device-list-1366")

    laptop.locator("th.select input[type=checkbox]").check()  # select the whole page
    laptop.get_by_role("button", name="Edit selected").click()
    expect(laptop.locator("h1")).to_contain_text("Edit 3 devices")
    laptop.select_option("#id_status", "offline")
    laptop.get_by_role("button", name="Apply to 3").click()
    expect(laptop.locator(".messages")).to_contain_text("Modified 3 devices")
    assert set(m.Device.objects.values_list("status", flat=True)) == {"offline"}
    assert m.Device.objects.count() == len(devices)


def test_column_chooser_and_search(live_server, laptop):
    d.make_writer()
    _fleet()
    log_in(laptop, live_server.url, "writer", d.PASSWORD)
    laptop.goto(f"{live_server.url}/dcim/devices/")
    laptop.locator(".column-chooser summary").click()
    chooser = laptop.locator(".column-chooser form")
    for box in chooser.locator("input[name=columns]").all():
        box.set_checked(box.get_attribute("value") in ("name", "serial"))
    chooser.get_by_role("button", name="Save columns").click()
    headers = [h.strip() for h in laptop.locator("table.object-table thead th").all_inner_texts()]
    assert [h for h in headers if h] == ["Name", "Serial number"], headers

    laptop.fill(".navsearch input", "casa-access-switch-01")
    laptop.keyboard.press("Enter")
    expect(laptop.locator(".search-group")).to_contain_text("casa-access-switch-01-long-hostname")


def test_the_navigation_bar_is_one_line_at_1280_px(live_server, browser):
    """Every menu, the search box and the user's name on one line of a 1280 px screen (a writer sees all)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        d.make_writer()
        log_in(page, live_server.url, "writer", d.PASSWORD)
        page.goto(f"{live_server.url}/")
        items = page.locator("nav.navbar summary, nav.navbar .navsearch input, nav.navbar .user span")
        expect(page.locator("nav.navbar summary", has_text="Discovery")).to_be_visible()
        boxes = [items.nth(i).bounding_box() for i in range(items.count())]
        assert len(boxes) >= 9 and all(boxes), boxes
        middles = {round(b["y"] + b["height"] / 2) for b in boxes}
        layout = [(round(b["x"]), round(b["y"]), round(b["width"])) for b in boxes]
        assert max(middles) - min(middles) <= 4, layout  # one row, not wrapped
        assert max(b["x"] + b["width"] for b in boxes) <= 1280, boxes
        page.click("nav summary:text-is('Operations')")
        page.get_by_role("link", name="Events", exact=True).click()
        page.wait_for_url(f"{live_server.url}/monitoring/events/")
    finally:
        context.close()
