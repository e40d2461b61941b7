"""The site page's map: XYZ tile arithmetic, the tile with its marker when INFRASTRAND_TILE_URL is set
(and the CSP allowing its host), coordinates with an openstreetmap.org link otherwise."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from inventory.tiles import TILE_PX, osm_url, tile_origin, tile_position, tile_url
from tests.ui import data as d

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = "https://tiles.example.net:8443/osm/{z}/{x}/{y}.png"


def point_of(zoom: int, x: int, y: int, px: int, py: int) -> tuple[float, float]:
    """The inverse projection (tile pixel -> latitude, longitude), as the OSM wiki gives it."""
    n = 2**zoom
    fx, fy = x + px / TILE_PX, y + py / TILE_PX
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * fy / n)))), fx / n * 360 - 180


def test_origin_of_the_grid():
    assert tile_position(0, 0) == tile_position(0.0, 0.0, 15)
    position = tile_position(0, 0)
    assert (position.zoom, position.x, position.y, position.px, position.py) == (15, 16384, 16384, 0, 0)


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(33.5731, -7.5898), (49.6116, 6.1319), (-33.8688, 151.2093), (64.1466, -21.9426), (0.0001, -0.0001)],
)
def test_tile_and_pixel_round_trip_within_a_pixel(latitude, longitude):
    position = tile_position(latitude, longitude)
    assert 0 <= position.px < TILE_PX and 0 <= position.py < TILE_PX
    back_lat, back_lon = point_of(15, position.x, position.y, position.px, position.py)
    pixel_degrees = 360 / (2**15 * TILE_PX)  # one pixel of longitude; latitude's is smaller away from 0
    assert back_lon <= longitude < back_lon + pixel_degrees
    assert back_lat - pixel_degrees < latitude <= back_lat


def test_grid_edges_are_clamped():
    assert tile_position(89.9, -180).x == 0 and tile_position(89.9, -180).y == 0  # beyond Web Mercator
    last = tile_position(-89.9, 180)
    assert (last.x, last.y, last.px, last.py) == (2**15 - 1, 2**15 - 1, TILE_PX - 1, TILE_PX - 1)


def test_tile_url_and_origin():
    assert tile_url(TEMPLATE, tile_position(0, 0)) == "https://tiles.example.net:8443/osm/15/16384/16384.png"
    assert tile_origin(TEMPLATE) == "https://tiles.example.net:8443"
    with pytest.raises(ValueError, match="INFRASTRAND_TILE_URL"):
        tile_origin("tiles.example.net/{z}/{x}/{y}.png")
    assert osm_url(33.5731, -7.5898) == (
        "https://www.openstreetmap.org/?mlat=33.5731&mlon=-7.5898#map=15/33.5731/-7.5898"
    )


def settings_img_src(tile_url_env: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "INFRASTRAND_TILE_URL"}
    if tile_url_env is not None:
        env["INFRASTRAND_TILE_URL"] = tile_url_env
    code = (
        "import json; from inventory.project import settings as s; "
        "print(json.dumps(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


def test_csp_allows_the_tile_host_only_when_configured():
    assert settings_img_src(TEMPLATE) == ["'self'", "data:", "https://tiles.example.net:8443"]
    assert settings_img_src(None) == ["'self'", "data:"]


@pytest.mark.django_db
def test_site_page_with_a_tile_url_shows_the_tile_and_the_marker(client, settings):
    settings.TILE_URL = TEMPLATE
    client.force_login(d.make_reader())
    site = d.make_site(latitude=Decimal("33.5731"), longitude=Decimal("-7.5898"))
    position = tile_position(33.5731, -7.5898)
    html = client.get(f"/dcim/sites/{site.pk}/").content.decode()
    assert f'src="{tile_url(TEMPLATE, position)}"' in html
    assert f'style="left:{position.px}px;top:{position.py}px"' in html
    assert 'id="osm-link"' in html


@pytest.mark.django_db
def test_site_page_without_a_tile_url_shows_coordinates_and_an_osm_link(client, settings):
    settings.TILE_URL = ""
    client.force_login(d.make_reader())
    site = d.make_site(latitude=Decimal("49.6116"), longitude=Decimal("6.1319"))
    response = client.get(f"/dcim/sites/{site.pk}/")
    html = response.content.decode()
    assert "<img" not in html and "<svg" not in html  # no empty grid, no tile
    assert osm_url(49.6116, 6.1319).replace("&", "&amp;") in html
    assert "49.6116" in html and "6.1319" in html
    no_coordinates = client.get(f"/dcim/sites/{d.make_site().pk}/").content.decode()
    assert "No coordinates recorded." in no_coordinates and "osm-link" not in no_coordinates
