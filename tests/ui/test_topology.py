"""``/topology/``: the SVG of sites, devices and cables (layout, poll-state colours, site scope), and a
Chromium test that opens it and clicks a device."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from inventory import models as m
from inventory.services.cables import cable_create
from inventory.ui.topology import STATE_COLORS, build_topology
from tests.ui import data as d
from tests.ui.browser import log_in, screenshot


def observe(device: m.Device, *, up: bool, age: timedelta = timedelta(0)) -> None:
    m.DeviceObservation.objects.create(
        device=device, collector="c1", polled_at=timezone.now() - age, up=up, facts={}, interfaces=[]
    )


def connect(a: m.Device, b: m.Device, **fields) -> m.Cable:
    return cable_create(
        data={"a_interface": d.make_interface(device=a), "b_interface": d.make_interface(device=b), **fields}
    )


def two_sites() -> dict[str, m.Device]:
    """casa: core (up), edge (down), spare (never polled); lux: gw (stale). Cables core-edge (planned),
    core-gw twice (the uplinks between the sites)."""
    casa = d.make_site(name="Casablanca DC1", slug="casa")
    lux = d.make_site(name="Betzdorf", slug="lux", country="LU")
    devices = {
        "core": d.make_device(name="casa-core", site=casa),
        "edge": d.make_device(name="casa-edge", site=casa),
        "spare": d.make_device(name="casa-spare", site=casa),
        "gw": d.make_device(name="lux-gw", site=lux),
    }
    observe(devices["core"], up=True)
    observe(devices["edge"], up=False)
    observe(devices["gw"], up=True, age=timedelta(hours=2))
    connect(devices["core"], devices["edge"], status="planned")
    connect(devices["core"], devices["gw"], label="U1")
    connect(devices["gw"], devices["core"], label="U2")
    return devices


@pytest.mark.django_db
def test_layout_columns_rows_states_and_links():
    devices = two_sites()
    topology = build_topology()
    assert [c.site.slug for c in topology.columns] == ["lux", "casa"]  # by site name: Betzdorf first
    assert [[n.name for n in c.nodes] for c in topology.columns] == [
        ["lux-gw"],
        ["casa-core", "casa-edge", "casa-spare"],
    ]
    states = {n.name: n.state for c in topology.columns for n in c.nodes}
    assert states == {"lux-gw": "stale", "casa-core": "up", "casa-edge": "down", "casa-spare": "never"}
    links = {(link.a.name, link.b.name): link for link in topology.links}
    assert set(links) == {("casa-core", "casa-edge"), ("casa-core", "lux-gw")}
    uplinks = links[("casa-core", "lux-gw")]
    assert len(uplinks.cables) == 2 and "U1" in uplinks.title and "U2" in uplinks.title
    assert uplinks.path.startswith("M") and " L" in uplinks.path  # across columns: straight
    assert " Q" in links[("casa-core", "casa-edge")].path  # same column: an arc beside the boxes
    assert links[("casa-core", "casa-edge")].dash  # planned
    assert build_topology() == build_topology()  # deterministic
    assert devices["spare"].pk in {n.pk for c in topology.columns for n in c.nodes}


@pytest.mark.django_db
def test_site_scope_keeps_the_far_ends_of_its_cables(client):
    devices = two_sites()
    d.make_device(name="lux-other", site=devices["gw"].site)
    client.force_login(d.make_reader())
    response = client.get("/topology/", {"site": "lux"})
    assert response.status_code == 200
    svg = response.content.decode()
    assert 'id="site-lux"' in svg and 'id="site-casa"' in svg  # casa-core is the far end of lux's uplinks
    assert "lux-other" in svg and "casa-core" in svg
    assert "casa-edge" not in svg and "casa-spare" not in svg
    node = re.search(rf'<a class="node" id="node-{devices["gw"].pk}" href="([^"]+)" data-state="stale">', svg)
    assert node and node.group(1) == f"/dcim/devices/{devices['gw'].pk}/"
    assert STATE_COLORS["stale"] in svg
    assert client.get("/topology/", {"site": "nowhere"}).status_code == 404


@pytest.mark.django_db
def test_everything_view_and_permissions(client):
    two_sites()
    assert client.get("/topology/").status_code == 302  # to the login page
    nobody = get_user_model().objects.create_user("nobody", password=d.PASSWORD)
    client.force_login(nobody)
    assert client.get("/topology/").status_code == 403
    client.force_login(d.make_reader())
    svg = client.get("/topology/").content.decode()
    assert svg.count('<a class="node"') == 4
    assert svg.count('<path id="link-') == 2


@pytest.mark.usefixtures("transactional_db")
def test_open_the_topology_and_click_a_device(live_server, page: Page):
    devices = two_sites()
    d.make_reader()
    log_in(page, live_server.url, "reader", d.PASSWORD)
    page.goto(f"{live_server.url}/dcim/sites/{devices['core'].site_id}/")
    page.locator("#topology-link").click()
    svg = page.locator("#topology-svg")
    expect(svg).to_be_visible()
    expect(svg.locator("a.node")).to_have_count(4)  # casa's three and lux-gw at the far end of the uplinks
    expect(page.locator(f"#node-{devices['edge'].pk}")).to_have_attribute("data-state", "down")
    screenshot(page, "topology-site")
    page.locator(f"#node-{devices['gw'].pk}").click()
    page.wait_for_url(f"{live_server.url}/dcim/devices/{devices['gw'].pk}/")
    expect(page.locator("h1")).to_contain_text("lux-gw")

    page.click("nav summary:text-is('Operations')")  # the navigation bar: all sites
    page.get_by_role("link", name="Topology", exact=True).click()
    expect(page.locator("#topology-svg a.node")).to_have_count(4)
    page.select_option("#topology-site", "lux")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("h1")).to_contain_text("Topology: Betzdorf")
    expect(page.locator("#topology-svg a.node")).to_have_count(2)
