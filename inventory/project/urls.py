"""Root URL configuration."""

from django.contrib import admin
from django.urls import include, path

from inventory.api.views.metrics import MetricsView

handler500 = "inventory.api.middleware.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("inventory.api.urls")),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("", include("inventory.ui.urls")),
]
