"""``/api/…``: NetBox's layout (``/api/<app>/<model-plural>/``), monitoring, http_sd and collector URLs."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from inventory.api.routers import BulkRouter
from inventory.api.views import drift
from inventory.api.views import models as v
from inventory.api.views.audit import CredentialFetchListView
from inventory.api.views.cables import CableViewSet
from inventory.api.views.collector import CollectorObservationsView, CollectorTargetsView
from inventory.api.views.discovery import (
    DiscoveryJobViewSet,
    DiscoveryProposalViewSet,
    SysObjectIdMappingViewSet,
)
from inventory.api.views.discovery_collector import (
    CollectorDiscoveryClaimView,
    CollectorDiscoveryJobsView,
    CollectorDiscoveryResultsView,
)
from inventory.api.views.events import AlertRecordViewSet, AlertWebhookView, CollectorEventsView, EventViewSet
from inventory.api.views.importer import ImportView
from inventory.api.views.jobs import JobViewSet
from inventory.api.views.roots import AppRootView
from inventory.api.views.sd import DeviceHttpSdView
from inventory.api.views.slo import MaintenanceWindowViewSet, ServiceLevelObjectiveViewSet
from inventory.api.views.status import APIRootView, StatusView
from inventory.api.views.users import TokenProvisionView, TokenViewSet

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
        ("interface-templates", drift.InterfaceTemplateViewSet),
        ("cables", CableViewSet),
    ],
    "ipam": [("vrfs", v.VRFViewSet), ("prefixes", v.PrefixViewSet), ("ip-addresses", v.IPAddressViewSet)],
    "tenancy": [
        ("tenant-groups", v.TenantGroupViewSet),
        ("tenants", v.TenantViewSet),
        ("contacts", v.ContactViewSet),
        ("contact-roles", v.ContactRoleViewSet),
        ("contact-assignments", v.ContactAssignmentViewSet),
    ],
    "extras": [
        ("tags", v.TagViewSet),
        ("custom-fields", v.CustomFieldViewSet),
        ("journal-entries", v.JournalEntryViewSet),
    ],
    "core": [("object-changes", v.ObjectChangeViewSet), ("jobs", JobViewSet)],
    "users": [("tokens", TokenViewSet)],
    "monitoring": [
        ("snmp-profiles", v.SnmpProfileViewSet),
        ("collector-groups", v.CollectorGroupViewSet),
        ("events", EventViewSet),
        ("alerts", AlertRecordViewSet),
        ("drift", drift.DriftItemViewSet),
        ("platform-mappings", drift.PlatformMappingViewSet),
        ("slos", ServiceLevelObjectiveViewSet),
        ("maintenance-windows", MaintenanceWindowViewSet),
    ],
    "discovery": [
        ("jobs", DiscoveryJobViewSet),
        ("proposals", DiscoveryProposalViewSet),
        ("sysobjectid-mappings", SysObjectIdMappingViewSet),
    ],
}


def _app_urls(app: str, routes: list[tuple[str, type]]) -> list:
    router = BulkRouter()
    for prefix, viewset in routes:
        router.register(prefix, viewset, basename=viewset.queryset.model._meta.model_name)
    root = AppRootView.as_view(
        routes=tuple(
            (prefix, f"api:{viewset.queryset.model._meta.model_name}-list") for prefix, viewset in routes
        )
    )
    return [path("", root, name=f"{app}-api-root"), *router.urls]


urlpatterns = [
    path("", APIRootView.as_view(), name="api-root"),
    path("status/", StatusView.as_view(), name="status"),
    path("users/tokens/provision/", TokenProvisionView.as_view(), name="token-provision"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("monitoring/alerts/webhook/", AlertWebhookView.as_view(), name="alerts-webhook"),
    *(path(f"{app}/", include(_app_urls(app, routes))) for app, routes in ROUTES.items()),
    path("prometheus/sd/devices/", DeviceHttpSdView.as_view(), name="prometheus-sd-devices"),
    path("collector/targets/", CollectorTargetsView.as_view(), name="collector-targets"),
    path("collector/observations/", CollectorObservationsView.as_view(), name="collector-observations"),
    path("collector/events/", CollectorEventsView.as_view(), name="collector-events"),
    path("collector/credential-fetches/", CredentialFetchListView.as_view(), name="credential-fetches"),
    path("import/", ImportView.as_view(), name="import"),
    path("collector/discovery/", CollectorDiscoveryJobsView.as_view(), name="collector-discovery"),
    path(
        "collector/discovery/<int:pk>/claim/",
        CollectorDiscoveryClaimView.as_view(),
        name="collector-discovery-claim",
    ),
    path(
        "collector/discovery/<int:pk>/results/",
        CollectorDiscoveryResultsView.as_view(),
        name="collector-discovery-results",
    ),
]
