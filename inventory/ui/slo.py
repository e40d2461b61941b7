"""UI pages of the availability objectives and maintenance windows (list, detail, add/edit, delete)."""

from __future__ import annotations

import django_tables2 as tables
from django import forms

from inventory.models import MaintenanceWindow, ServiceLevelObjective
from inventory.ui.filtersets_base import SearchFilterSet
from inventory.ui.forms_base import ObjectForm
from inventory.ui.generic import ObjectViews
from inventory.ui.tables_base import LinkColumn, ObjectTable
from inventory.ui.views import declare


class ServiceLevelObjectiveTable(ObjectTable):
    name = LinkColumn()
    target_percent = tables.Column(verbose_name="Target %")

    class Meta(ObjectTable.Meta):
        model = ServiceLevelObjective
        fields = ("name", "target_percent", "scope", "scope_value", "window")


class MaintenanceWindowTable(ObjectTable):
    reason = LinkColumn()

    class Meta(ObjectTable.Meta):
        model = MaintenanceWindow
        fields = ("reason", "start", "end", "scope", "scope_value")


class ServiceLevelObjectiveFilterSet(SearchFilterSet):
    search_fields = ("name", "scope_value", "description")

    class Meta:
        model = ServiceLevelObjective
        fields = ("q", "scope")


class MaintenanceWindowFilterSet(SearchFilterSet):
    search_fields = ("reason", "scope_value")

    class Meta:
        model = MaintenanceWindow
        fields = ("q", "scope")


class ServiceLevelObjectiveForm(ObjectForm):
    class Meta:
        model = ServiceLevelObjective
        fields = ("name", "target_percent", "scope", "scope_value", "window", "description")


class MaintenanceWindowForm(ObjectForm):
    start = forms.DateTimeField(help_text="UTC, e.g. 2026-11-30 22:00")
    end = forms.DateTimeField(help_text="UTC, e.g. 2026-12-01 02:00")

    class Meta:
        model = MaintenanceWindow
        fields = ("start", "end", "reason", "scope", "scope_value")


@declare
class ServiceLevelObjectiveViews(ObjectViews):
    queryset = ServiceLevelObjective.objects.all()
    table = ServiceLevelObjectiveTable
    filterset = ServiceLevelObjectiveFilterSet
    form = ServiceLevelObjectiveForm
    url_path = "monitoring/slos"


@declare
class MaintenanceWindowViews(ObjectViews):
    queryset = MaintenanceWindow.objects.all()
    table = MaintenanceWindowTable
    filterset = MaintenanceWindowFilterSet
    form = MaintenanceWindowForm
    url_path = "monitoring/maintenance-windows"
