"""The README's screenshot comes from the demo (issue 17.9): a demo router's page in real Chromium, with its
last poll, drift card and graphs drawn from the demo's own Prometheus. ``docs/device-page.png`` is a copy of
``test-artifacts/demo-device-page.png`` from this test."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from inventory import demo
from tests.e2e.harness import DemoStack
from tests.ui.browser import chromium, log_in, screenshot

pytestmark = pytest.mark.slow

DEVICE = next(device.name for device in demo.DEVICES if device.kind == "router")


def test_a_demo_device_page_with_graphs_in_chromium(demo_stack: DemoStack) -> None:
    inventory = demo_stack.inventory
    (device,) = inventory.api("GET", f"/api/dcim/devices/?name={DEVICE}", token="read")["results"]
    demo_stack.prometheus.wait_for(
        f'count_over_time(infrastrand_device_up{{device="{DEVICE}"}}[10m]) >= 3', timeout=300
    )
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)
        log_in(page, inventory.url, "demo-admin", inventory.password_file.read_text().strip())
        deadline = time.monotonic() + 120
        while True:  # the graphs need a few scrapes of the device's counters
            page.goto(f"{inventory.url}/dcim/devices/{device['id']}/?range=1h")
            if page.locator("#graphs svg [data-points]").count() or time.monotonic() > deadline:
                break
            time.sleep(5)
        expect(page.locator("#last-poll")).to_contain_text("Up")
        expect(page.locator("#graphs svg").first).to_be_visible()
        path = screenshot(page, "demo-device-page")
    assert path.stat().st_size > 20_000
