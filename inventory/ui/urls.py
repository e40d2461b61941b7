"""URLs of the web UI, mounted at "/": home, login/logout, import, change log and every model's pages."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from inventory.ui import by_name, events, home, importing, registry, search, topology
from inventory.ui import views as _declarations  # noqa: F401  (registers the view sets)
from inventory.ui.strandreport import StrandReportView

ui_patterns = [
    path("", home.HomeView.as_view(), name="home"),
    path("import/", importing.ImportView.as_view(), name="import"),
    path("import/jobs/<int:pk>/", importing.ImportJobView.as_view(), name="import_job"),
    path("changelog/", home.ChangeLogView.as_view(), name="changelog"),
    path("search/", search.SearchView.as_view(), name="search"),
    path("dcim/devices/name/<path:key>/", by_name.DeviceByNameView.as_view(), name="device_by_name"),
    path("dcim/sites/slug/<slug:key>/", by_name.SiteBySlugView.as_view(), name="site_by_slug"),
    path("monitoring/events/", events.EventListView.as_view(), name="events"),
    path("monitoring/strand-report/", StrandReportView.as_view(), name="strand_report"),
    path("topology/", topology.TopologyView.as_view(), name="topology"),
]
for views in registry.all_views():
    ui_patterns += views.urls()

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="inventory/password_reset/form.html",
            email_template_name="inventory/password_reset/email.txt",
            subject_template_name="inventory/password_reset/subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="inventory/password_reset/done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="inventory/password_reset/confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="inventory/password_reset/complete.html"),
        name="password_reset_complete",
    ),
    path("", include((ui_patterns, "ui"))),
]
