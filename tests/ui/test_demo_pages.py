"""Every page renders for the demo inventory (real, varied data rather than test fixtures)."""

from __future__ import annotations

from django.core.management import call_command
from django.test import TestCase

from inventory.ui import registry
from tests.ui.data import make_reader, make_writer


class TestDemoInventoryPages(TestCase):
    @classmethod
    def setUpTestData(cls):
        call_command("loaddemo", verbosity=0)
        cls.writer = make_writer()
        cls.reader = make_reader()

    def test_every_list_detail_changelog_and_edit_page_renders(self):
        self.client.force_login(self.writer)
        checked = 0
        for views in registry.all_views():
            model = views.model()
            response = self.client.get(registry.list_url(model))
            self.assertEqual(response.status_code, 200, model)
            export = self.client.get(registry.list_url(model), {"export": "csv"})
            self.assertEqual(export.status_code, 200, model)
            for obj in views.queryset.all()[:5]:
                for action in ("", "changelog", "edit", "delete"):
                    url = registry.object_url(obj, action)
                    self.assertEqual(self.client.get(url).status_code, 200, url)
                    checked += 1
        self.assertGreater(checked, 100)
        for url in ("/", "/changelog/", "/import/"):
            self.assertEqual(self.client.get(url).status_code, 200, url)

    def test_home_counts_match_the_demo(self):
        from inventory.models import Device, Site

        self.client.force_login(self.reader)
        response = self.client.get("/")
        self.assertEqual(response.context["site_total"], Site.objects.count())
        self.assertEqual(response.context["device_total"], Device.objects.count())
        countries = {row["country"] for row in response.context["by_country"]}
        self.assertEqual(countries, {"MA", "LU"})
