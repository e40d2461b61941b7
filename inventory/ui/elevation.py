"""Rack elevations as SVG, the NetBox way: units numbered top-down (highest unit at the top), each
racked device drawn on its face from its position over its type's height; a full-depth device also
shows (shaded) on the other face. Devices link to their pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from inventory.choices import DeviceFaceChoices
from inventory.models import Device, Rack
from inventory.ui.registry import object_url

UNIT_PX = 22
LABEL_PX = 34  # the unit-number column
WIDTH_PX = 230


@dataclass(frozen=True)
class Placed:
    """A device in one face's elevation: ``y``/``height`` in pixels from the top of the rack."""

    device: Device
    y: float
    height: float
    rear_view: bool  # a full-depth device seen from the face it is not mounted on


def top_unit(rack: Rack) -> int:
    return rack.starting_unit + rack.u_height - 1


def layout(rack: Rack, devices: list[Device], face: str) -> list[Placed]:
    """The racked ``devices`` seen on ``face`` (``front``/``rear``), placed top-down."""
    placed = []
    for device in devices:
        if device.position is None:
            continue
        full_depth = device.device_type.is_full_depth
        if device.face != face and not full_depth:
            continue
        height = max(device.device_type.u_height, Decimal("0.5"))
        units_above = Decimal(top_unit(rack) + 1) - (device.position + height)
        placed.append(
            Placed(device, float(units_above) * UNIT_PX, float(height) * UNIT_PX, device.face != face)
        )
    return sorted(placed, key=lambda p: p.y)


def render_elevation(rack: Rack, devices: list[Device], face: str) -> str:
    """One face of ``rack`` as an ``<svg>`` string (all text escaped)."""
    height = rack.u_height * UNIT_PX
    label = dict(DeviceFaceChoices.CHOICES)[face]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="elevation" data-face="{face}" role="img" '
        f'width="{LABEL_PX + WIDTH_PX + 2}" height="{height + 2}" '
        f'viewBox="-1 -1 {LABEL_PX + WIDTH_PX + 2} {height + 2}" font-family="sans-serif" font-size="11">'
        f"<title>{escape(str(rack))}: {label}</title>"
        f'<rect x="{LABEL_PX}" y="0" width="{WIDTH_PX}" height="{height}" fill="#f7f7f7" stroke="#555"/>'
    ]
    for index in range(rack.u_height):
        unit = top_unit(rack) - index
        y = index * UNIT_PX
        parts.append(
            f'<text class="unit" x="{LABEL_PX - 4}" y="{y + UNIT_PX * 0.7:.1f}" text-anchor="end" '
            f'fill="#666">{unit}</text>'
            f'<line x1="{LABEL_PX}" x2="{LABEL_PX + WIDTH_PX}" y1="{y}" y2="{y}" stroke="#ddd"/>'
        )
    for item in layout(rack, devices, face):
        device = item.device
        colour = f"#{device.role.color}" if device.role.color else "#9e9e9e"
        opacity = "0.35" if item.rear_view else "1"
        name = escape(device.name or str(device))
        parts.append(
            f'<a class="device" href="{escape(object_url(device))}" data-device="{name}" '
            f'data-rear-view="{str(item.rear_view).lower()}">'
            f"<title>{name} (U{device.position:g}, {device.device_type.u_height:g}U)</title>"
            f'<rect x="{LABEL_PX + 1}" y="{item.y + 1:.1f}" width="{WIDTH_PX - 2}" '
            f'height="{item.height - 2:.1f}" '
            f'fill="{colour}" fill-opacity="{opacity}" stroke="#333" rx="2"/>'
            f'<text x="{LABEL_PX + WIDTH_PX / 2}" y="{item.y + item.height / 2 + 4:.1f}" '
            f'text-anchor="middle" fill="#000">{name}</text></a>'
        )
    parts.append("</svg>")
    return "".join(parts)
