"""Write the Grafana dashboards (JSON) and provisioning files (YAML) under deploy/grafana/.

    python -m deploy.grafana.generate [--out-dir DIR] [--tile-url URL]

``--tile-url`` (default: ``INFRASTRAND_TILE_URL``) is an XYZ tile server ({z}/{x}/{y}) for the overview's
geomap; without one the map uses the Grafana server's default base layer. The committed files are
generated without it.

The output is deterministic (stable uids, panel ids, sorted keys), so the committed files can be
compared with a fresh generation.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

from deploy.grafana.dashboards import DASHBOARDS, overview
from deploy.grafana.panels import DATASOURCE_NAME, DATASOURCE_UID, OVERVIEW_UID, TAG

GRAFANA_DIR = Path(__file__).resolve().parent
DASHBOARDS_SUBDIR = "dashboards"
DATASOURCES_FILE = "provisioning/datasources/infrastrand.yaml"
PROVIDERS_FILE = "provisioning/dashboards/infrastrand.yaml"

PROMETHEUS_URL = "http://127.0.0.1:9090"
# Where Grafana reads the dashboard JSON: compose mounts deploy/grafana/dashboards there,
# the install guide copies them there.
DASHBOARDS_PATH = "/var/lib/grafana/dashboards/infrastrand"


def number_panels(dash: model.Dashboard) -> model.Dashboard:
    """Give every panel a stable id (its position), which Grafana needs for links and sharing."""
    for index, panel in enumerate(dash.panels or [], start=1):
        panel.id_val = index
    return dash


def dashboard_json(dash: model.Dashboard) -> str:
    return json.dumps(dash, cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def datasources_yaml() -> str:
    doc = {
        "apiVersion": 1,
        "datasources": [
            {
                "name": DATASOURCE_NAME,
                "type": "prometheus",
                "uid": DATASOURCE_UID,
                "access": "proxy",
                "url": PROMETHEUS_URL,
                "isDefault": True,
                "editable": False,
                "jsonData": {"httpMethod": "POST", "timeInterval": "30s"},
            }
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def providers_yaml() -> str:
    doc = {
        "apiVersion": 1,
        "providers": [
            {
                "name": TAG,
                "orgId": 1,
                "folder": TAG,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": DASHBOARDS_PATH, "foldersFromFilesStructure": False},
            }
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def render(tile_url: str | None = None) -> dict[str, str]:
    """Every generated file: path relative to deploy/grafana/ -> text; ``tile_url`` for the geomap."""
    builders = {**DASHBOARDS, OVERVIEW_UID: lambda: overview(tile_url)}
    files = {
        f"{DASHBOARDS_SUBDIR}/{uid}.json": dashboard_json(number_panels(build()))
        for uid, build in builders.items()
    }
    files[DATASOURCES_FILE] = datasources_yaml()
    files[PROVIDERS_FILE] = providers_yaml()
    return files


def write(out_dir: Path, tile_url: str | None = None) -> list[Path]:
    written = []
    for relative, text in render(tile_url).items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=GRAFANA_DIR, help="default: deploy/grafana/")
    parser.add_argument(
        "--tile-url",
        default=os.environ.get("INFRASTRAND_TILE_URL") or None,
        help="XYZ tiles for the geomap (default: INFRASTRAND_TILE_URL; none: Grafana's default layer)",
    )
    args = parser.parse_args(argv)
    for path in write(args.out_dir, args.tile_url):
        print(path)


if __name__ == "__main__":
    main()
