"""``/api/…``: NetBox's layout (``/api/<app>/<model-plural>/``), monitoring, http_sd and collector URLs."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from inventory.api.routers import BulkRouter
from inventory.api.views import models as v
from inventory.api.views.collector import CollectorObservationsView, CollectorTargetsView
from inventory.api.views.importer import ImportView
from inventory.api.views.sd import DeviceHttpSdView
from inventory.api.views.status import APIRootView, StatusView

app_name = "api"

ROUTES: dict[str, list[tuple[str, type]]] = {
    "dcim": [
        ("regions", v.RegionViewSet),
        ("sites", v.SiteViewSet),
        ("locations", v.LocationViewSet),
        ("racks", v.RackViewSet),
        ("manufacturers", v.ManufacturerViewSet),
        ("device-types", v.DeviceTypeViewSet),
        ("device-roles", v.DeviceRoleViewSet),
        ("platforms", v.PlatformViewSet),
        ("devices", v.DeviceViewSet),
        ("interfaces", v.InterfaceViewSet),
    ],
    "ipam": [("prefixes", v.PrefixViewSet), ("ip-addresses", v.IPAddressViewSet)],
    "tenancy": [
        ("tenant-groups", v.TenantGroupViewSet),
        ("tenants", v.TenantViewSet),
        ("contacts", v.ContactViewSet),
        ("contact-roles", v.ContactRoleViewSet),
        ("contact-assignments", v.ContactAssignmentViewSet),
    ],
    "extras": [("tags", v.TagViewSet)],
    "core": [("object-changes", v.ObjectChangeViewSet)],
    "monitoring": [("snmp-profiles", v.SnmpProfileViewSet), ("collector-groups", v.CollectorGroupViewSet)],
}


def _app_urls(routes: list[tuple[str, type]]) -> list:
    router = BulkRouter()
    for prefix, viewset in routes:
        router.register(prefix, viewset, basename=viewset.queryset.model._meta.model_name)
    return router.urls


urlpatterns = [
    path("", APIRootView.as_view(), name="api-root"),
    path("status/", StatusView.as_view(), name="status"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    *(path(f"{app}/", include(_app_urls(routes))) for app, routes in ROUTES.items()),
    path("prometheus/sd/devices/", DeviceHttpSdView.as_view(), name="prometheus-sd-devices"),
    path("collector/targets/", CollectorTargetsView.as_view(), name="collector-targets"),
    path("collector/observations/", CollectorObservationsView.as_view(), name="collector-observations"),
    path("import/", ImportView.as_view(), name="import"),
]
