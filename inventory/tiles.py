"""Web-map tile arithmetic for the site page (XYZ "slippy map" tiles, Web Mercator, 256 px)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

TILE_PX = 256
ZOOM = 15
MAX_LATITUDE = 85.0511287798  # Web Mercator's edge: atan(sinh(pi))


@dataclass(frozen=True)
class TilePosition:
    """The tile holding a point at ``zoom``, and the point's pixel offset inside that tile."""

    zoom: int
    x: int
    y: int
    px: int
    py: int


def tile_position(latitude: float, longitude: float, zoom: int = ZOOM) -> TilePosition:
    """Where ``latitude``/``longitude`` fall on the XYZ tile grid at ``zoom``."""
    lat = math.radians(max(-MAX_LATITUDE, min(MAX_LATITUDE, latitude)))
    scale = 2**zoom * TILE_PX
    world_x = (longitude + 180.0) / 360.0 * scale
    world_y = (1.0 - math.asinh(math.tan(lat)) / math.pi) / 2.0 * scale
    world_x = min(max(world_x, 0.0), scale - 1)
    world_y = min(max(world_y, 0.0), scale - 1)
    return TilePosition(
        zoom, int(world_x // TILE_PX), int(world_y // TILE_PX), int(world_x % TILE_PX), int(world_y % TILE_PX)
    )


def tile_url(template: str, position: TilePosition) -> str:
    """``template`` (``https://tile.example/{z}/{x}/{y}.png``) filled in for ``position``."""
    return (
        template.replace("{z}", str(position.zoom))
        .replace("{x}", str(position.x))
        .replace("{y}", str(position.y))
    )


def tile_origin(template: str) -> str:
    """The ``scheme://host[:port]`` the tiles come from (what the Content-Security-Policy must allow)."""
    parts = urlsplit(template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"INFRASTRAND_TILE_URL must be an http(s) URL template, not {template!r}")
    return f"{parts.scheme}://{parts.netloc}"


def osm_url(latitude: float, longitude: float, zoom: int = ZOOM) -> str:
    """The point on openstreetmap.org."""
    return (
        f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map={zoom}/{latitude}/{longitude}"
    )
