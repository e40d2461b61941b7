"""Grafana: generated files are committed as generated, valid for the SDK model, and consistent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_model

from deploy import queries
from deploy.grafana import generate
from deploy.grafana.panels import DATASOURCE_UID

register_default_plugins()

GRAFANA_DIR = generate.GRAFANA_DIR
DASHBOARD_FILES = queries.dashboard_files()
DEPLOY_DIR = GRAFANA_DIR.parent


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict) -> list[dict]:
    return list(queries.iter_panels(dashboard["panels"]))


def test_generator_output_matches_committed_files(tmp_path, monkeypatch):
    monkeypatch.delenv("INFRASTRAND_TILE_URL", raising=False)
    generate.main(["--out-dir", str(tmp_path)])
    generated = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(GRAFANA_DIR)
        for sub in ("dashboards", "provisioning")
        for p in (GRAFANA_DIR / sub).rglob("*")
        if p.is_file()
    }
    assert generated == committed, "run: python -m deploy.grafana.generate"
    for relative in sorted(generated):
        assert (tmp_path / relative).read_text() == (GRAFANA_DIR / relative).read_text(), (
            f"{relative} differs from the generator's output: run python -m deploy.grafana.generate"
        )


def test_five_dashboards():
    titles = {load(p)["title"] for p in DASHBOARD_FILES}
    assert titles == {"Strand overview", "Site", "Device", "Interfaces", "Collectors", "Strand availability"}


def contained(small: object, big: object, path: str = "") -> list[str]:
    """Where ``small`` is not a part of ``big`` (dict keys and values, list items in order)."""
    if isinstance(small, dict):
        if not isinstance(big, dict):
            return [path]
        return [
            m
            for k, v in small.items()
            for m in (contained(v, big[k], f"{path}.{k}") if k in big else [f"{path}.{k}"])
        ]
    if isinstance(small, list):
        if not isinstance(big, list) or len(small) != len(big):
            return [path]
        return [
            m
            for i, (a, b) in enumerate(zip(small, big, strict=True))
            for m in contained(a, b, f"{path}[{i}]")
        ]
    return [] if small == big else [path]


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.stem)
def test_dashboard_round_trips_through_the_sdk_model(path):
    data = load(path)
    dash = model.Dashboard.from_json(data)
    again = json.loads(json.dumps(dash, cls=JSONEncoder))
    lost = contained(data, again)
    assert not lost, f"the SDK model drops or changes: {lost[:10]}"
    for panel in dash.panels:
        assert panel.targets, f"panel {panel.title!r} has no query"
        for target in panel.targets:
            assert isinstance(target, prometheus_model.Dataquery), f"{panel.title}: {type(target).__name__}"
            assert target.expr


def test_contained_sees_a_dropped_key():
    assert contained({"a": {"b": 1, "typo": 2}}, {"a": {"b": 1}}) == [".a.typo"]


def test_uids_and_titles_are_unique_and_stable():
    dashboards = [load(p) for p in DASHBOARD_FILES]
    uids = [d["uid"] for d in dashboards]
    assert len(set(uids)) == len(uids)
    assert len({d["title"] for d in dashboards}) == len(dashboards)
    for path, dash in zip(DASHBOARD_FILES, dashboards, strict=True):
        assert path.stem == dash["uid"]
        assert re.fullmatch(r"infrastrand-[a-z]+", dash["uid"])
        ids = [p["id"] for p in panels(dash)]
        assert ids == list(range(1, len(ids) + 1))


def datasource_refs(node: object) -> list[dict]:
    if isinstance(node, dict):
        found = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return found + [ref for value in node.values() for ref in datasource_refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in datasource_refs(item)]
    return []


def test_datasource_references_match_the_provisioned_datasource():
    provisioned = yaml.safe_load((GRAFANA_DIR / generate.DATASOURCES_FILE).read_text())
    assert provisioned["apiVersion"] == 1
    (source,) = provisioned["datasources"]
    assert source["uid"] == DATASOURCE_UID
    assert source["type"] == "prometheus" and source["access"] == "proxy"
    assert source["url"].startswith("http://")
    for path in DASHBOARD_FILES:
        refs = datasource_refs(load(path))
        assert refs, path
        for ref in refs:
            assert ref == {"type": "prometheus", "uid": source["uid"]}, f"{path.name}: {ref}"


def test_no_panel_without_a_query_and_ref_ids_unique():
    for path in DASHBOARD_FILES:
        for panel in panels(load(path)):
            if panel["type"] == "row":
                continue
            targets = panel.get("targets") or []
            assert targets, f"{path.name}: panel {panel['title']!r} has no query"
            ref_ids = [t["refId"] for t in targets]
            assert len(set(ref_ids)) == len(ref_ids)
            assert all(t["expr"].strip() for t in targets)


def test_variables_come_from_label_values_and_are_defined_before_use():
    for path in DASHBOARD_FILES:
        dash = load(path)
        variables = queries.dashboard_variables(dash)
        order = list(variables)
        for var in variables.values():
            for used in queries.variables_in(var.selector):
                assert order.index(used) < order.index(var.name), f"{path.name}: ${var.name} uses ${used}"
        for query in queries.dashboard_queries():
            if query.source.endswith(path.name):
                assert set(query.variables) <= set(variables), f"{query.key}: undefined variable"
    names = {name for p in DASHBOARD_FILES for name in queries.dashboard_variables(load(p))}
    assert {"country", "site", "device", "interface"} <= names


def test_links_point_at_generated_dashboards():
    uids = {load(p)["uid"] for p in DASHBOARD_FILES}
    for path in DASHBOARD_FILES:
        dash = load(path)
        assert any(link["type"] == "dashboards" and "infrastrand" in link["tags"] for link in dash["links"])
        text = path.read_text()
        for uid in re.findall(r"/d/([\w-]+)/", text):
            assert uid in uids, f"{path.name} links to unknown dashboard {uid}"
    overview = load(GRAFANA_DIR / "dashboards" / "infrastrand-overview.json")
    assert "/d/infrastrand-device/" in json.dumps(overview)


def test_device_dashboard_url_is_documented():
    readme = (DEPLOY_DIR / "README.md").read_text()
    assert "/d/infrastrand-device/device?var-device=" in readme
    device = load(GRAFANA_DIR / "dashboards" / "infrastrand-device.json")
    assert device["uid"] == "infrastrand-device"
    assert "device" in queries.dashboard_variables(device)


def test_dashboard_provider_points_at_the_mounted_directory():
    providers = yaml.safe_load((GRAFANA_DIR / generate.PROVIDERS_FILE).read_text())
    assert providers["apiVersion"] == 1
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    compose = yaml.safe_load((DEPLOY_DIR / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts


def dashboard(uid: str) -> dict:
    return load(GRAFANA_DIR / "dashboards" / f"{uid}.json")


def test_device_picker_is_filtered_by_country_and_site():
    """Issue 17.8: on the device and interfaces dashboards, $device lists the devices of $country/$site."""
    for uid in ("infrastrand-device", "infrastrand-interfaces"):
        variables = queries.dashboard_variables(dashboard(uid))
        assert list(variables)[:3] == ["country", "site", "device"], uid
        device = variables["device"]
        assert set(queries.variables_in(device.selector)) == {"country", "site"}, device.selector
        assert 'country=~"$country"' in device.selector and 'site=~"$site"' in device.selector


def test_device_dashboard_graphs_every_port():
    """Issue 17.8: per-port traffic and error graphs, repeated for each $interface of the device."""
    device = dashboard("infrastrand-device")
    assert "interface" in queries.dashboard_variables(device)
    repeated = {p["title"]: p for p in panels(device) if p.get("repeat")}
    assert set(repeated) == {"Port $interface: traffic", "Port $interface: errors and discards"}
    for panel in repeated.values():
        assert panel["repeat"] == "interface" and panel["repeatDirection"] == "h"
        assert all(
            'ifName=~"$interface"' in t["expr"] and 'device="$device"' in t["expr"] for t in panel["targets"]
        )
    assert repeated["Port $interface: traffic"]["fieldConfig"]["defaults"]["unit"] == "bps"
    assert repeated["Port $interface: errors and discards"]["fieldConfig"]["defaults"]["unit"] == "pps"


UNIT_OF = {  # what a query's quantity must be shown in, by what it reads
    "process_resident_memory_bytes": "bytes",
    "process_cpu_seconds_total": "percentunit",
    "scheduler_lag_seconds": "s",
    "scrape_duration_seconds": "s",
    "poll_duration_seconds": "s",
    "poll_overruns": "ops",
    "in_flight": "short",
}


def test_every_graph_has_one_unit():
    """Issue 17.8: one unit per axis. Every timeseries panel declares one unit and overrides none, and on
    the collectors dashboard (which mixed seconds, counts and bytes on one axis) each query's quantity is
    shown in its own unit."""
    for path in DASHBOARD_FILES:
        for panel in panels(load(path)):
            if panel["type"] != "timeseries":
                continue
            assert panel["fieldConfig"]["defaults"].get("unit"), (
                f"{path.name}: {panel['title']!r} has no unit"
            )
            for override in panel["fieldConfig"].get("overrides", []):
                assert all(p["id"] != "unit" for p in override["properties"]), panel["title"]
    for panel in panels(dashboard("infrastrand-collectors")):
        if panel["type"] != "timeseries":
            continue
        unit = panel["fieldConfig"]["defaults"]["unit"]
        for target in panel["targets"]:
            for needle, expected in UNIT_OF.items():
                if needle in target["expr"]:
                    assert unit == expected, f"{panel['title']!r}: {target['expr']} shown in {unit}"


def geomap_basemap(overview: dict) -> dict:
    (geo,) = [p for p in panels(overview) if p["type"] == "geomap"]
    return geo["options"]["basemap"]


def test_geomap_tiles_are_configurable_and_not_assumed():
    """Issue 17.8: the shipped overview uses the Grafana server's default layer (no tile URL of ours);
    --tile-url / INFRASTRAND_TILE_URL puts an XYZ tile server under the sites."""
    shipped = geomap_basemap(dashboard("infrastrand-overview"))
    assert shipped["type"] == "default" and "config" not in shipped
    tiles = "https://tiles.example.org/osm/{z}/{x}/{y}.png"
    rendered = json.loads(generate.render(tiles)["dashboards/infrastrand-overview.json"])
    basemap = geomap_basemap(rendered)
    assert basemap["type"] == "xyz" and basemap["config"]["url"] == tiles
    assert basemap["config"]["attribution"] == "Map tiles: https://tiles.example.org/osm"


def test_drift_shows_on_the_overview_and_site_dashboards():
    """Issue 13.4: open drift by kind and site (the inventory's infrastrand_drift_* gauges)."""
    for uid in ("infrastrand-overview", "infrastrand-site"):
        exprs = [t["expr"] for p in panels(dashboard(uid)) for t in p.get("targets", [])]
        assert any("sum by (site, kind) (infrastrand_drift_items" in e for e in exprs), uid
        assert any("infrastrand_drift_oldest_open_timestamp_seconds" in e for e in exprs), uid


def test_interfaces_down_panels_read_the_documentation():
    for uid in ("infrastrand-overview", "infrastrand-site"):
        down = [p for p in panels(dashboard(uid)) if p["title"].startswith("Interfaces down")]
        assert down, uid
        for panel in down:
            assert all("infrastrand_interface_documented" in t["expr"] for t in panel["targets"])
