"""The navigation bar: menu groups of model pages, filtered by what the user may see.

Contacts sit under Organization and the pages that are not a model's (events, change log, import, topology)
under one Operations menu, as in NetBox, so the bar stays one line on a 1280 px screen."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.http import HttpRequest
from django.utils.text import capfirst

from inventory.ui import registry
from inventory.ui.generic import user_can

MENU: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Organization",
        (
            "Region",
            "Site",
            "Location",
            "TenantGroup",
            "Tenant",
            "Tag",
            "Contact",
            "ContactRole",
            "ContactAssignment",
        ),
    ),
    (
        "Devices",
        (
            "Rack",
            "Device",
            "Interface",
            "DeviceRole",
            "DeviceType",
            "Manufacturer",
            "Platform",
            "InterfaceTemplate",
            "Cable",
        ),
    ),
    ("IPAM", ("Prefix", "IPAddress", "VRF")),
    (
        "Monitoring",
        (
            "SnmpProfile",
            "CollectorGroup",
            "DriftItem",
            "PlatformMapping",
            "ServiceLevelObjective",
            "MaintenanceWindow",
        ),
    ),
    ("Customization", ("CustomField", "JournalEntry")),
    ("Discovery", ("DiscoveryJob", "DiscoveryProposal", "SysObjectIdMapping")),
)


@dataclass(frozen=True)
class MenuItem:
    label: str
    url: str
    add_url: str


@dataclass(frozen=True)
class MenuGroup:
    label: str
    items: tuple[MenuItem, ...]


def menu_for(request: HttpRequest) -> list[MenuGroup]:
    groups = []
    for label, model_names in MENU:
        items = []
        for model_name in model_names:
            try:
                model = apps.get_model("inventory", model_name)
            except LookupError:
                continue
            views = registry.views_for(model)
            if views is None or not user_can(request, model, "view"):
                continue
            add_url = (
                registry.list_url(model, "add") if views.form and user_can(request, model, "add") else ""
            )
            items.append(
                MenuItem(capfirst(model._meta.verbose_name_plural), registry.list_url(model), add_url)
            )
        if items:
            groups.append(MenuGroup(label, tuple(items)))
    return groups
