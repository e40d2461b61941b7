"""Custom field values on detail pages (their own card) and in the CSV export of lists."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.test import TestCase

from inventory import models as m
from tests.ui import data as d


class TestCustomFieldsInTheUI(TestCase):
    def setUp(self):
        self.client.force_login(d.make_writer())
        self.site = d.make_site(country="MA")
        field = m.CustomField.objects.create(name="owner_team", label="Owner team", type="text")
        field.object_types.set([ContentType.objects.get_for_model(m.Site)])
        self.site.custom_field_data = {"owner_team": "noc-casa"}
        self.site.save()

    def test_detail_page_shows_the_values(self):
        response = self.client.get(f"/dcim/sites/{self.site.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["custom_fields"], [("Owner team", "noc-casa")])
        self.assertContains(response, 'id="custom-fields"')
        self.assertContains(response, "noc-casa")
        self.assertNotContains(response, "custom_field_data")

    def test_csv_export_has_a_column_per_custom_field(self):
        export = self.client.get("/dcim/sites/", {"export": "csv"}).content.decode()
        header, row = export.splitlines()[:2]
        self.assertTrue(header.endswith(",Owner team"), header)
        self.assertTrue(row.endswith(",noc-casa"), row)
        listing = self.client.get("/dcim/sites/")
        self.assertNotContains(listing, "noc-casa")  # hidden in the list itself
