"""Device and interface graphs from a REAL Prometheus that scraped the contract-4 stand-in
(tests/deploy/synthetic.py) with the shipped config and recording rules; Prometheus unset or down."""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest
import yaml
from playwright.sync_api import expect

from deploy import queries
from inventory.graphs import exact_regex, inventory_graphs
from tests.deploy import synthetic
from tests.deploy.servers import StaticServer, free_port, prometheus, wait_until
from tests.ui import data as d
from tests.ui.browser import log_in, screenshot

SVG = "{http://www.w3.org/2000/svg}"
BOUND = 120  # seconds: a loaded machine may take long to gather points 15 s apart


@pytest.fixture(scope="module")
def prom(tmp_path_factory) -> Iterator[str]:
    ready = ("infrastrand:interface_in_bits:rate5m", "infrastrand:sensor:celsius")
    with synthetic.prometheus_stack(tmp_path_factory.mktemp("prometheus"), ready) as stack:
        yield stack.prometheus


def charts(html: str) -> dict[str, ET.Element]:
    """The page's SVG charts by title."""
    found = {}
    start = 0
    while (start := html.find("<svg", start)) != -1:
        end = html.index("</svg>", start) + len("</svg>")
        root = ET.fromstring(html[start:end])
        found[root.find(f"{SVG}title").text] = root
        start = end
    return found


def series_points(chart: ET.Element) -> dict[str, int]:
    return {p.get("data-label"): int(p.get("data-points")) for p in chart.findall(f"{SVG}path")}


def page_with_points(client, url: str, title: str) -> dict[str, ET.Element]:
    """The page's charts once ``title``'s chart has at least two points per series (Prometheus started
    seconds ago: points on the 15 s grid of a 1 h range arrive slowly)."""
    found: dict[str, ET.Element] = {}

    def ready() -> bool:
        nonlocal found
        response = client.get(url, {"range": "1h"})
        assert response.status_code == 200
        found = charts(response.content.decode())
        return title in found and min(series_points(found[title]).values(), default=0) >= 2

    wait_until(ready, seconds=BOUND, what=f"{title} with points", step=1)
    return found


def prometheus_points(
    base: str, graph_key: str, line: int, chart: ET.Element, **values: str
) -> dict[str, int]:
    """Points per series Prometheus gives for the same expression and range as ``chart``."""
    graph = next(g for g in inventory_graphs() if g.key == graph_key)
    expr = graph.lines[line].expr
    for name, value in values.items():
        expr = expr.replace(f"${name}", value)
    params = {k: chart.get(f"data-{k}") for k in ("start", "end", "step")}
    result = httpx.get(f"{base}/api/v1/query_range", params={"query": expr, **params}, timeout=30).json()
    return {r["metric"].get("ifName", ""): len(r["values"]) for r in result["data"]["result"]}


@pytest.mark.slow
def test_device_page_graphs_the_devices_series(prom, client, settings, db):
    settings.PROMETHEUS_URL = prom
    client.force_login(d.make_reader())
    router = d.make_device(name="casa-core-rtr01")
    found = page_with_points(client, f"/dcim/devices/{router.pk}/", "Gi0/1 traffic")

    assert {"Gi0/1 traffic", "Gi0/2 traffic", "Gi0/3 traffic", "Gi0/1 errors", "Temperature"} <= set(found)
    assert "CPU load" not in found and "Storage used" not in found  # the router has no such series
    traffic = found["Gi0/1 traffic"]
    drawn = series_points(traffic)
    assert set(drawn) == {"Gi0/1 in", "Gi0/1 out"}
    expected = prometheus_points(prom, "traffic", 0, traffic, device="casa-core-rtr01", interface=".*")
    assert drawn["Gi0/1 in"] == expected["Gi0/1"]  # every point Prometheus has, none invented
    ticks = [t.text for t in traffic.iter(f"{SVG}text") if t.get("class") == "y-tick"]
    assert any(t.endswith("Mbit/s") for t in ticks), ticks  # 20 Mbit/s in on Gi0/1
    assert series_points(found["Temperature"]).keys() == {"Inlet"}

    server = d.make_device(name="lux-srv01")
    found = page_with_points(client, f"/dcim/devices/{server.pk}/", "CPU load")
    assert set(series_points(found["CPU load"])) == {"CPU 196608", "CPU 196609"}
    assert set(series_points(found["Storage used"])) == {"/"}  # memory is not storage
    assert "Availability (1 = up)" in found


@pytest.mark.slow
def test_interface_page_graphs_only_its_interface(prom, client, settings, db):
    settings.PROMETHEUS_URL = prom
    client.force_login(d.make_reader())
    port = d.make_interface(d.make_device(name="casa-core-rtr01"), name="Gi0/2")
    found = page_with_points(client, f"/dcim/interfaces/{port.pk}/", "Traffic")
    assert set(found) == {"Traffic", "Errors"}
    drawn = series_points(found["Traffic"])
    assert set(drawn) == {"Gi0/2 in", "Gi0/2 out"}
    expected = prometheus_points(
        prom, "traffic", 1, found["Traffic"], device="casa-core-rtr01", interface=exact_regex("Gi0/2")
    )
    assert drawn["Gi0/2 out"] == expected["Gi0/2"]


@pytest.mark.slow
def test_chromium_shows_the_device_graphs_and_switches_range(
    prom, live_server, page, client, settings, transactional_db
):
    settings.PROMETHEUS_URL = prom
    client.force_login(d.make_reader())
    router = d.make_device(name="casa-core-rtr01")
    page_with_points(client, f"/dcim/devices/{router.pk}/", "Gi0/1 traffic")
    log_in(page, live_server.url, "reader", d.PASSWORD)
    page.goto(f"{live_server.url}/dcim/devices/{router.pk}/?range=1h")
    chart = page.locator("#graphs svg.chart").first
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    expect(page.locator("#graphs path.series").first).to_have_attribute("data-label", "Gi0/1 in")
    screenshot(page, "device-graphs")
    page.get_by_role("link", name="24h").click()
    expect(page.locator("#graphs .graph-range.current")).to_have_text("24h")
    expect(page.locator("#graphs svg.chart").first).to_have_attribute("data-step", "360")

    port = d.make_interface(router, name="Gi0/1")
    page.goto(f"{live_server.url}/dcim/interfaces/{port.pk}/?range=1h")
    expect(page.locator("#graphs svg.chart")).to_have_count(2)  # its traffic and its errors
    expect(page.locator("#graphs path.series")).to_have_count(4)
    expect(page.locator("#graphs path.series").first).to_have_attribute("data-label", "Gi0/1 in")
    screenshot(page, "interface-graphs")


def test_without_prometheus_the_card_says_so(client, settings, db):
    settings.PROMETHEUS_URL = ""
    client.force_login(d.make_reader())
    device = d.make_device()
    response = client.get(f"/dcim/devices/{device.pk}/")
    assert response.status_code == 200
    assert response.context["graphs"].message == "Graphs need Prometheus: set INFRASTRAND_PROMETHEUS_URL."
    assert b'id="graphs-message"' in response.content and b"<svg" not in response.content


def test_prometheus_down_is_one_line_not_a_500(client, settings, db):
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client.force_login(d.make_reader())
    port = d.make_interface(name="Gi0/1")
    for url in (f"/dcim/devices/{port.device.pk}/", f"/dcim/interfaces/{port.pk}/"):
        response = client.get(url, {"range": "7d"})
        assert response.status_code == 200
        panel = response.context["graphs"]
        assert panel.range == "7d" and panel.cards == []
        assert panel.message.startswith(f"Prometheus at {settings.PROMETHEUS_URL} did not answer")


def test_unknown_range_falls_back_to_the_default(client, settings, db):
    settings.PROMETHEUS_URL = ""
    client.force_login(d.make_reader())
    response = client.get(f"/dcim/devices/{d.make_device().pk}/", {"range": "1y"})
    assert response.context["graphs"].range == "6h"


OLD_SWITCH_RATE = 100_000  # bytes/s on the 32-bit counters


def old_switch_exposition(now: float) -> str:
    """A device with 32-bit counters only on Fa0/1, and both kinds on Gi0/2, the 64-bit ones moving ten
    times as fast (the graph must show those)."""
    lines = []
    for index, name, has_hc in ((1, "Fa0/1", False), (2, "Gi0/2", True)):
        labels = f'ifIndex="{index}",ifName="{name}",ifDescr="{name}",ifAlias=""'
        octets = math.floor(now * OLD_SWITCH_RATE) % 2**32
        lines += [f"ifInOctets{{{labels}}} {octets}", f"ifOutOctets{{{labels}}} {octets}"]
        if has_hc:
            lines += [f"ifHCInOctets{{{labels}}} {octets * 10}", f"ifHCOutOctets{{{labels}}} {octets * 10}"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def old_switch_prom(tmp_path_factory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("prometheus-old-switch")
    exporter = StaticServer(
        {"/metrics": lambda _q, _h: (200, synthetic.TEXT, old_switch_exposition(time.time()))}
    )
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(queries.RULES_DIR / "recording.yml")],
        "scrape_configs": [
            {
                "job_name": "old",
                "static_configs": [{"targets": [exporter.address], "labels": {"device": "old-sw01"}}],
            }
        ],
    }
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    try:
        with prometheus(path, workdir) as base:
            yield base
    finally:
        exporter.close()


@pytest.mark.slow
def test_traffic_falls_back_to_32_bit_counters_without_double_counting(old_switch_prom, client, settings, db):
    settings.PROMETHEUS_URL = old_switch_prom
    client.force_login(d.make_reader())
    device = d.make_device(name="old-sw01")
    found = page_with_points(client, f"/dcim/devices/{device.pk}/", "Fa0/1 traffic")
    assert set(series_points(found["Fa0/1 traffic"])) == {"Fa0/1 in", "Fa0/1 out"}  # no ifHCInOctets there
    found = page_with_points(client, f"/dcim/devices/{device.pk}/", "Gi0/2 traffic")
    labels = sorted(p.get("data-label") for p in found["Gi0/2 traffic"].findall(f"{SVG}path"))
    assert labels == ["Gi0/2 in", "Gi0/2 out"]  # one series each, not one per counter
    # Gi0/2's 64-bit counter moves 10 times as fast as the 32-bit ones: its axis is far taller.
    fa_top, gi_top = (float(found[t].get("data-y-max")) for t in ("Fa0/1 traffic", "Gi0/2 traffic"))
    assert gi_top >= 4 * fa_top, (fa_top, gi_top)
