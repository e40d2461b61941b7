"""``/topology/``: devices and cables as a server-rendered SVG, per site or across all sites.

The layout is deterministic: one column per site (sorted by name), its devices in rows (sorted by
name), cables as lines between device boxes, one line per device pair (with the number of cables).
With ``?site=<slug>`` the devices of other sites that the site's cables reach are shown in their own
columns, so a site's uplinks stay visible. Boxes are coloured by the last poll state and link to the
device pages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from inventory.choices import CableStatusChoices
from inventory.models import Cable, Device, Site
from inventory.ui import registry
from inventory.ui.generic import user_can
from inventory.ui.pollstate import LABELS, interval_of, state_of

COLUMN_WIDTH = 240
NODE_WIDTH = 180
NODE_HEIGHT = 34
ROW_HEIGHT = 56
HEADER_HEIGHT = 44
MARGIN = 24
STATE_COLORS = {"up": "#15803d", "down": "#b91c1c", "stale": "#b45309", "never": "#6b7280"}
DASHES = {CableStatusChoices.STATUS_PLANNED: "6 4", CableStatusChoices.STATUS_DECOMMISSIONING: "2 4"}


@dataclass(frozen=True)
class Node:
    pk: int
    name: str
    state: str
    x: int
    y: int
    url: str

    @property
    def color(self) -> str:
        return STATE_COLORS[self.state]

    @property
    def state_label(self) -> str:
        return LABELS[self.state]

    @property
    def text_x(self) -> int:
        return self.x + 10

    @property
    def text_y(self) -> int:
        return self.y + NODE_HEIGHT // 2 + 5


@dataclass(frozen=True)
class Column:
    site: Site
    x: int
    nodes: tuple[Node, ...]

    @property
    def label_x(self) -> int:
        return self.x + NODE_WIDTH // 2


@dataclass
class Link:
    """The cables between two devices, drawn as one line."""

    a: Node
    b: Node
    cables: list[str] = field(default_factory=list)
    status: str = CableStatusChoices.STATUS_CONNECTED

    @property
    def path(self) -> str:
        """Straight between columns; within a column an arc to the right, clear of the boxes between."""
        a, b = sorted((self.a, self.b), key=lambda n: (n.x, n.y))
        a_mid, b_mid = a.y + NODE_HEIGHT // 2, b.y + NODE_HEIGHT // 2
        if a.x != b.x:
            return f"M{a.x + NODE_WIDTH},{a_mid} L{b.x},{b_mid}"
        x = a.x + NODE_WIDTH
        bulge = x + 20 + abs(b.y - a.y) // 4
        return f"M{x},{a_mid} Q{bulge},{(a_mid + b_mid) // 2} {x},{b_mid}"

    @property
    def dash(self) -> str:
        return DASHES.get(self.status, "")

    @property
    def title(self) -> str:
        return f"{self.a.name} — {self.b.name}: " + ", ".join(self.cables)


@dataclass(frozen=True)
class Topology:
    columns: tuple[Column, ...]
    links: tuple[Link, ...]
    width: int
    height: int


def _cables_of(device_ids: set[int]) -> list[tuple]:
    return list(
        Cable.objects.filter(Q(a_interface__device__in=device_ids) | Q(b_interface__device__in=device_ids))
        .order_by("pk")
        .values_list(
            "pk",
            "label",
            "status",
            "a_interface__device_id",
            "a_interface__name",
            "b_interface__device_id",
            "b_interface__name",
        )
    )


def build_topology(site: Site | None = None) -> Topology:
    """The layout of ``site`` (with the far ends of its cables) or of every site."""
    devices = Device.objects.select_related("site", "observation", "collector_group").order_by("name", "pk")
    chosen = list(devices.filter(site=site) if site is not None else devices)
    cables = _cables_of({d.pk for d in chosen})
    known = {d.pk for d in chosen}
    far = {pk for row in cables for pk in (row[3], row[5]) if pk not in known}
    if far:
        chosen += list(devices.filter(pk__in=far))

    now = timezone.now()
    by_site: dict[int, list[Device]] = defaultdict(list)
    sites: dict[int, Site] = {}
    for device in chosen:
        by_site[device.site_id].append(device)
        sites[device.site_id] = device.site
    columns, nodes = [], {}
    for index, site_id in enumerate(sorted(sites, key=lambda pk: (sites[pk] != site, sites[pk].name, pk))):
        x = MARGIN + index * COLUMN_WIDTH
        column_nodes = []
        for row, device in enumerate(sorted(by_site[site_id], key=lambda d: (d.name, d.pk))):
            observation = getattr(device, "observation", None)
            group_interval = device.collector_group.poll_interval if device.collector_group_id else None
            state = state_of(observation, interval_of(device.poll_interval, group_interval), now).value
            y = HEADER_HEIGHT + MARGIN + row * ROW_HEIGHT
            node = Node(device.pk, device.name, state, x, y, registry.object_url(device))
            column_nodes.append(node)
            nodes[device.pk] = node
        columns.append(Column(sites[site_id], x, tuple(column_nodes)))

    links: dict[tuple[int, int], Link] = {}
    for _pk, label, status, a_device, a_name, b_device, b_name in cables:
        key = (min(a_device, b_device), max(a_device, b_device))
        link = links.get(key)
        if link is None:
            link = links[key] = Link(nodes[key[0]], nodes[key[1]], status=status)
        elif status != link.status:
            link.status = CableStatusChoices.STATUS_CONNECTED  # mixed: draw solid
        link.cables.append(f"{label + ' ' if label else ''}{a_name}↔{b_name}")
    rows = max((len(c.nodes) for c in columns), default=0)
    return Topology(
        columns=tuple(columns),
        links=tuple(link for link in links.values() if link.a is not link.b),
        width=max(MARGIN * 2 + len(columns) * COLUMN_WIDTH, 320),
        height=HEADER_HEIGHT + MARGIN * 2 + max(rows, 1) * ROW_HEIGHT,
    )


class TopologyView(LoginRequiredMixin, View):
    """``/topology/[?site=<slug>]``."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not user_can(request, Device, "view"):
            raise PermissionDenied
        slug = request.GET.get("site", "")
        site = None
        if slug:
            site = Site.objects.filter(slug=slug).first()
            if site is None:
                raise Http404(f"No site with slug {slug!r}.")
        topology = build_topology(site)
        context = {
            "topology": topology,
            "site": site,
            "sites": Site.objects.order_by("name").values_list("slug", "name"),
            "node_width": NODE_WIDTH,
            "node_height": NODE_HEIGHT,
            "states": [(value, LABELS[value], color) for value, color in STATE_COLORS.items()],
        }
        return render(request, "inventory/topology.html", context)
