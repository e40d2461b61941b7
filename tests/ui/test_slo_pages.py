"""UI pages of availability objectives and maintenance windows (issue 14.4): list, detail, change log,
add, edit, delete through the services, and errors naming the field (tests/ui/base.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from django.test import TestCase

from inventory import models as m
from tests.ui import data as d
from tests.ui.base import ObjectViewTests

NUMBERS = count(1)


class TestServiceLevelObjectiveViews(ObjectViewTests, TestCase):
    model = m.ServiceLevelObjective
    invalid_field = "scope_value"

    def make_object(self):
        return m.ServiceLevelObjective.objects.create(
            name=f"Morocco {next(NUMBERS)}", target_percent="99.5", scope="country", scope_value="MA"
        )

    def create_data(self):
        return {
            "name": "Infrastructure",
            "target_percent": "99.9",
            "scope": "strand",
            "scope_value": "infrastructure",
            "window": "monthly",
        }

    def invalid_data(self):
        return {
            "name": "Nowhere",
            "target_percent": "99.5",
            "scope": "site",
            "scope_value": "atlantis",
            "window": "monthly",
        }


class TestMaintenanceWindowViews(ObjectViewTests, TestCase):
    model = m.MaintenanceWindow
    invalid_field = "end"
    edit_field = "reason"
    edit_value = "UPS swap, second attempt"

    def make_object(self):
        site = d.make_site()
        return m.MaintenanceWindow.objects.create(
            start=datetime(2026, 11, 30, 22, tzinfo=UTC),
            end=datetime(2026, 12, 1, 2, tzinfo=UTC),
            reason=f"UPS swap {next(NUMBERS)}",
            scope="site",
            scope_value=site.slug,
        )

    def create_data(self):
        site = d.make_site()
        return {
            "start": "2026-12-02 22:00",
            "end": "2026-12-03 01:00",
            "reason": "Core router upgrade",
            "scope": "site",
            "scope_value": site.slug,
        }

    def invalid_data(self):
        return {
            "start": "2026-12-02 22:00",
            "end": "2026-12-02 21:00",
            "reason": "Backwards",
            "scope": "country",
            "scope_value": "MA",
        }
